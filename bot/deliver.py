"""Delivery: pending alerts -> notifier -> marked sent. The outbox's other half.

An alert is marked sent only after its notifier returns, so a crash between
the two re-sends at most that one alert, and never loses one; the unique
(chat, item) constraint means there is never a second row to send. Rounds
are serialised by a lock, so two rounds never race for one alert. Within a
round each chat is served by its own task, in order: a slow or failing chat
never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.notify import ChatUnreachable, DeliveryError, Notifier
from bot.telegram_config import ChatConfig
from storage import alerts as alert_queries
from storage import chats as chat_queries
from storage import controls
from storage.db import Database
from storage.records import AlertRecord

__all__ = ["Deliverer", "DeliveryReport"]

log = logging.getLogger(__name__)

NotifierFor = Callable[[str], Notifier | None]
AdminNotice = Callable[[str], Awaitable[None]]
RulesFor = Callable[[str], ChatConfig | None]

BURST = 5  # more pending alerts than this for one chat go out as one combined message
EDIT_EVERY = timedelta(minutes=1)  # at most one edit per story (alert) per minute


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    held: int = 0  # waiting for a chat that is unreachable or has no notifier


class Deliverer:
    def __init__(
        self,
        db: Database,
        notifier_for: NotifierFor,
        *,
        admin_notice: AdminNotice | None = None,
        rules_for: RulesFor | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._notifier_for = notifier_for
        self._admin_notice = admin_notice
        self._rules_for = rules_for
        self._clock = clock
        self._lock = asyncio.Lock()

    async def deliver(self) -> DeliveryReport:
        """Send every pending alert once; failures stay pending for the next round."""
        async with self._lock:
            pending = await asyncio.to_thread(alert_queries.pending_alerts, self._db)
            inactive = await asyncio.to_thread(chat_queries.inactive_chats, self._db)
            paused = await asyncio.to_thread(controls.paused_chats, self._db)
            mutes = await asyncio.to_thread(controls.active_mutes, self._db, self._clock())
            by_chat: dict[str, list[AlertRecord]] = {}
            for alert in pending:
                by_chat.setdefault(alert.chat, []).append(alert)
            await self._update_grown(inactive.keys() | paused)
            reports = await asyncio.gather(
                *(
                    self._chat(chat, alerts, chat in inactive or chat in paused, mutes.get(chat))
                    for chat, alerts in by_chat.items()
                )
            )
            return DeliveryReport(
                sent=sum(r.sent for r in reports),
                failed=sum(r.failed for r in reports),
                held=sum(r.held for r in reports),
            )

    async def _chat(
        self,
        chat: str,
        alerts: list[AlertRecord],
        held: bool,
        muted: Mapping[str, datetime] | None,
    ) -> DeliveryReport:
        notifier = self._notifier_for(chat)
        if notifier is None or held:
            why = "it is unreachable or paused" if held else "it has no notifier"
            log.info("deliver chat=%s: %d alerts held: %s", chat, len(alerts), why)
            return DeliveryReport(held=len(alerts))
        if muted:
            alerts = await self._skip_muted(alerts, muted)
            if not alerts:
                return DeliveryReport()
        rules = self._rules_for(chat) if self._rules_for else None
        if rules is not None and _quiet(rules, self._clock()):
            return DeliveryReport(held=len(alerts))  # sent, combined, when quiet hours end
        if len(alerts) > BURST or (rules is not None and _held_by_quiet(rules, alerts)):
            return await self._combined(chat, notifier, alerts)
        sent = 0
        for index, alert in enumerate(alerts):
            try:
                message_id = await notifier.send(alert)
            except ChatUnreachable as exc:
                await self._unreachable(chat, str(exc))
                return DeliveryReport(sent=sent, held=len(alerts) - index)
            except Exception as exc:
                await self._failed(chat, [alert], exc)
                return DeliveryReport(sent=sent, failed=1, held=len(alerts) - index - 1)
            await self._sent([alert], message_id)
            sent += 1
        return DeliveryReport(sent=sent)

    async def _update_grown(self, skip: set[str]) -> None:
        """Edit sent alerts whose story gained outlets (no new message: one per story)."""
        now = self._clock()
        grown = await asyncio.to_thread(alert_queries.alerts_to_edit, self._db, now, EDIT_EVERY)
        for alert in grown:
            notifier = self._notifier_for(alert.chat)
            if notifier is None or alert.chat in skip:
                continue
            try:
                await notifier.update(alert)
            except ChatUnreachable as exc:
                await self._unreachable(alert.chat, str(exc))
                continue
            except DeliveryError as exc:
                log.warning("deliver chat=%s: alert %d not updated: %s", alert.chat, alert.id, exc)
                continue
            await asyncio.to_thread(alert_queries.mark_edited, self._db, alert.id, now)

    async def _skip_muted(
        self, alerts: list[AlertRecord], muted: Mapping[str, datetime]
    ) -> list[AlertRecord]:
        """Close alerts whose every watch the chat has muted (their matches stay for the
        digest); return the rest."""
        keep = []
        for alert in alerts:
            if alert.watches and all(watch in muted for watch in alert.watches):
                reason = "muted: " + ", ".join(alert.watches)
                await asyncio.to_thread(alert_queries.mark_skipped, self._db, alert.id, reason)
            else:
                keep.append(alert)
        return keep

    async def _combined(
        self, chat: str, notifier: Notifier, alerts: list[AlertRecord]
    ) -> DeliveryReport:
        try:
            message_id = await notifier.send_combined(alerts)
        except ChatUnreachable as exc:
            await self._unreachable(chat, str(exc))
            return DeliveryReport(held=len(alerts))
        except Exception as exc:
            await self._failed(chat, alerts, exc)
            return DeliveryReport(failed=len(alerts))
        await self._sent(alerts, message_id)
        log.info("deliver chat=%s: %d alerts combined in one message", chat, len(alerts))
        return DeliveryReport(sent=len(alerts))

    async def _sent(self, alerts: list[AlertRecord], message_id: str | None) -> None:
        now = self._clock()
        for alert in alerts:
            await asyncio.to_thread(alert_queries.mark_sent, self._db, alert.id, now, message_id)

    async def _failed(self, chat: str, alerts: list[AlertRecord], exc: Exception) -> None:
        log.warning("deliver chat=%s: %d alerts not sent: %s", chat, len(alerts), exc)
        if not isinstance(exc, DeliveryError):
            log.exception("deliver chat=%s: unexpected error", chat)
        for alert in alerts:
            await asyncio.to_thread(alert_queries.mark_failed, self._db, alert.id, str(exc))

    async def _unreachable(self, chat: str, reason: str) -> None:
        log.warning("deliver chat=%s is unreachable (%s); its alerts are kept", chat, reason)
        changed = await asyncio.to_thread(
            chat_queries.set_chat_active, self._db, chat, False, self._clock(), reason
        )
        if changed and self._admin_notice is not None:
            await self._admin_notice(
                f"newshound: chat {chat} stopped taking messages ({reason}). Its alerts are "
                "kept and will be sent once /start is sent in that chat."
            )


def _quiet(rules: ChatConfig, moment: datetime) -> bool:
    hours = rules.quiet_hours
    return hours is not None and hours.contains(moment.astimezone(rules.zone).time())


def _held_by_quiet(rules: ChatConfig, alerts: list[AlertRecord]) -> bool:
    """Several alerts, some created during quiet hours: they go out together."""
    return len(alerts) > 1 and any(_quiet(rules, alert.created_at) for alert in alerts)
