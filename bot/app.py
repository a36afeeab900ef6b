"""The composition root: builds the database, HTTP client, watchlist and notifiers once,
and closes them once. Every command of the CLI goes through :class:`App`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.commands import CommandContext
from bot.config import Config
from bot.console import ConsoleNotifier
from bot.deliver import Deliverer, DeliveryReport
from bot.digest import digest_messages, pending_entries
from bot.notify import CONSOLE, Notifier
from bot.telegram import TelegramNotifier
from bot.telegram_config import ChatConfig
from storage import feeds as feed_queries
from storage.db import Database, open_database
from storage.records import FeedSpec
from watchers.fetch import Fetcher, FetchSettings
from watchers.match import Watchlist
from watchers.poll import PollContext, PollOutcome, poll_feed

__all__ = ["App", "PassReport"]

log = logging.getLogger(__name__)

_LEASE_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class PassReport:
    outcomes: tuple[PollOutcome, ...]
    delivery: DeliveryReport

    @property
    def failed(self) -> list[PollOutcome]:
        return [o for o in self.outcomes if o.status == "error"]


class App:
    """One running newshound: what ``once``, ``run`` and ``demo`` share."""

    def __init__(
        self,
        config: Config,
        *,
        notifiers: Mapping[str, Notifier] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.clock = clock
        self.db: Database = open_database(config.database.url)
        polling = config.polling
        self.fetcher = Fetcher(
            FetchSettings(
                timeout=polling.timeout.total_seconds(),
                max_bytes=polling.max_size_mb * 1024 * 1024,
                per_host=polling.per_host,
            )
        )
        self._watchlist = config.watchlist()
        self.telegram: TelegramNotifier | None = None
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._chats = chats = config.telegram.chats  # as started: [telegram] needs a restart
        if notifiers is not None:
            self.notifiers: dict[str, Notifier] = dict(notifiers)
        elif config.telegram_token and chats:
            # python-telegram-bot 22 warns on every flood error unless told to use the
            # timedelta form of retry_after that its next major version makes the default.
            os.environ.setdefault("PTB_TIMEDELTA", "true")
            self.application = (
                ApplicationBuilder()
                .token(config.telegram_token)
                .base_url(config.telegram.base_url)
                .build()
            )
            self.telegram = TelegramNotifier(
                self.application.bot, chats, admins=config.telegram.admins
            )
            self.notifiers = {chat.key: self.telegram for chat in chats}
        else:
            self.notifiers = {CONSOLE: ConsoleNotifier()}
        self.deliverer = Deliverer(
            self.db,
            self.notifiers.get,
            admin_notice=self.telegram.tell_admins if self.telegram else None,
            rules_for=self._rules_for,
            clock=clock,
        )
        self.context = PollContext(
            db=self.db,
            fetcher=self.fetcher,
            watchlist=lambda: self._watchlist,
            route=self._route,
            first_poll_max_age=polling.first_poll_max_age,
        )
        self._intervals: dict[int, timedelta] = {}
        self._limit = asyncio.Semaphore(polling.concurrency)
        self.lease = polling.timeout + _LEASE_MARGIN

    @property
    def watchlist(self) -> Watchlist:
        return self._watchlist

    async def reload(self, config: Config) -> list[str]:
        """Apply an edited config: new watchlist and feeds now; returns what needs a restart.

        The caller has validated ``config``; the new watchlist replaces the old one
        in one assignment, so a poll sees either the old or the new, never a mix.
        """
        notes = []
        if config.database != self.config.database:
            notes.append("[database] changed: restart to apply it")
        if config.polling != self.config.polling:
            notes.append("[polling] changed: restart to apply it")
        if config.telegram != self.config.telegram:
            notes.append("[telegram] changed: restart to apply it")
        self._watchlist = config.watchlist()
        self.config = config
        await self.sync_feeds()
        return notes

    async def sync_feeds(self) -> None:
        """Bring the feeds table in line with the config (run once at start-up)."""
        specs = [FeedSpec(url=f.url, name=f.name) for f in self.config.feeds]
        states = await asyncio.to_thread(feed_queries.sync_feeds, self.db, specs)
        by_url = {f.url: f for f in self.config.feeds}
        self._intervals = {s.id: self.config.interval_of(by_url[s.url]) for s in states}

    async def poll(self, feed_id: int, *, force: bool = False) -> PollOutcome | None:
        """Lease and poll one feed; None if it is not due (or another worker holds it)."""
        async with self._limit:
            now = self.clock()
            claim = feed_queries.claim_feed
            state = await asyncio.to_thread(
                lambda: claim(self.db, feed_id, now, lease=self.lease, force=force)
            )
            if state is None:
                return None
            interval = self._intervals.get(feed_id, self.config.polling.interval)
            return await poll_feed(self.context, state, interval, now)

    async def poll_all(
        self, *, force: bool = True, progress: Callable[[int, int, PollOutcome], None] | None = None
    ) -> list[PollOutcome]:
        """Poll every active feed concurrently (bounded), reporting each as it finishes."""
        feed_ids = list(self._intervals)
        outcomes: list[PollOutcome] = []

        async def one(feed_id: int) -> None:
            outcome = await self.poll(feed_id, force=force)
            if outcome is not None:
                outcomes.append(outcome)
                if progress:
                    progress(len(outcomes), len(feed_ids), outcome)

        await asyncio.gather(*(one(feed_id) for feed_id in feed_ids))
        return outcomes

    async def run_once(
        self, progress: Callable[[int, int, PollOutcome], None] | None = None
    ) -> PassReport:
        """`newshound once`: sync feeds, poll them all, deliver."""
        await self.start()
        await self.sync_feeds()
        outcomes = await self.poll_all(force=True, progress=progress)
        delivery = await self.deliverer.deliver()
        return PassReport(tuple(outcomes), delivery)

    async def due_feeds(self) -> Sequence[int]:
        ids = await asyncio.to_thread(feed_queries.due_feed_ids, self.db, self.clock())
        return [feed_id for feed_id in ids if feed_id in self._intervals]

    async def start(self) -> None:
        """Connect what needs connecting (the Telegram bot); failures are logged, not fatal:
        alerts wait in the outbox until Telegram can be reached."""
        if self.application is not None:
            try:
                await self.application.initialize()
            except TelegramError as exc:
                log.error("telegram: cannot reach the Bot API (%s); alerts stay pending", exc)

    def command_context(self) -> CommandContext:
        """What the Telegram commands need from the running app (read on each use)."""
        return CommandContext(
            db=self.db,
            telegram=self.config.telegram,
            watchlist=lambda: self._watchlist,
            aliases=lambda: self.config.aliases,
            send_digest=self.digest_now,
            clock=self.clock,
        )

    async def digest_now(self, chat_id: int) -> str:
        """/digest: what the next digest would hold, sent now; the daily one is unaffected."""
        chat = self.config.telegram.chat(chat_id)
        if chat is None or self.telegram is None:
            return "This chat has no digest."
        now = self.clock()
        entries = await pending_entries(self.db, chat, now)
        messages = digest_messages(entries, chat, now)
        for text in messages:
            await self.telegram.send_text(chat.id, text)
        return f"Digest sent: {len(entries)} matches in {len(messages)} messages."

    async def aclose(self) -> None:
        if self.application is not None:
            try:
                await self.application.shutdown()
            except (TelegramError, RuntimeError) as exc:
                log.warning("telegram: shutdown: %s", exc)
        await self.fetcher.aclose()
        self.db.close()

    def _rules_for(self, chat: str) -> ChatConfig | None:
        return next((c for c in self._chats if c.key == chat), None)

    def _route(self, watches: Sequence[str]) -> tuple[str, ...]:
        """The chats to alert for an item that matched ``watches``."""
        if not watches:
            return ()
        if CONSOLE in self.notifiers:  # no Telegram: the console sees every match
            return (CONSOLE,)
        return tuple(
            chat.key
            for chat in self._chats
            if chat.instant and any(chat.wants(watch) for watch in watches)
        )
