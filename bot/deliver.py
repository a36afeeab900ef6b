"""Delivery: pending alerts -> notifier -> marked sent. The outbox's other half.

An alert is marked sent only after its notifier returns, so a crash between
the two re-sends at most that one alert, and never loses one; the unique
(chat, item) constraint means there is never a second row to send.
Deliveries are serialised by a lock: two rounds never race for one alert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.notify import Notifier
from storage import alerts as alert_queries
from storage.db import Database

__all__ = ["Deliverer", "DeliveryReport"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    unroutable: int = 0


class Deliverer:
    def __init__(
        self,
        db: Database,
        notifiers: Mapping[str, Notifier],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._notifiers = notifiers
        self._clock = clock
        self._lock = asyncio.Lock()

    async def deliver(self) -> DeliveryReport:
        """Send every pending alert once; failures stay pending for the next round."""
        async with self._lock:
            pending = await asyncio.to_thread(alert_queries.pending_alerts, self._db)
            sent = failed = unroutable = 0
            for alert in pending:
                notifier = self._notifiers.get(alert.chat)
                if notifier is None:
                    unroutable += 1
                    continue
                try:
                    message_id = await notifier.send(alert)
                except Exception as exc:
                    failed += 1
                    log.warning("deliver chat=%s alert=%d failed: %s", alert.chat, alert.id, exc)
                    await asyncio.to_thread(alert_queries.mark_failed, self._db, alert.id, str(exc))
                    continue
                await asyncio.to_thread(
                    alert_queries.mark_sent, self._db, alert.id, self._clock(), message_id
                )
                sent += 1
            if unroutable:
                log.warning("deliver: %d alerts wait for a chat that has no notifier", unroutable)
            return DeliveryReport(sent=sent, failed=failed, unroutable=unroutable)
