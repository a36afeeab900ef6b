"""`newshound run`: the long-running service.

APScheduler (3.x, AsyncIOScheduler) drives one tick job. Each tick leases
the feeds that are due (their ``next_poll_at`` carries the interval and its
jitter, or the backoff of a failing feed) and polls each in its own task, so
a slow feed never delays the others; delivery runs after every poll that
created alerts, and on a timer for retries. A second job watches the config
file: an edit is validated and applied without a restart (an invalid edit is
logged and the running watchlist stays). SIGINT/SIGTERM stop it cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram.error import TelegramError

from bot.app import App
from bot.commands import publish_commands, register
from bot.config import ConfigError, load_config
from bot.digest import is_due, send_digest
from storage import digests as digest_queries
from watchers.poll import PollOutcome

__all__ = ["Runner"]

log = logging.getLogger(__name__)

_TICK_SECONDS = 5.0
_RETRY_DELIVERY_SECONDS = 30.0
_STOP_GRACE_SECONDS = 3.0
_CONFIG_CHECK_SECONDS = 2.0
_DIGEST_CHECK_SECONDS = 30.0
_TELEGRAM_RETRY = 60.0
_DIGEST_RETRY = timedelta(minutes=5)


class Runner:
    def __init__(
        self,
        app: App,
        *,
        config_path: Path | None = None,
        tick: float = _TICK_SECONDS,
        telegram_retry: float = _TELEGRAM_RETRY,
    ) -> None:
        self.app = app
        self.tick = tick
        self.telegram_retry = telegram_retry
        self.config_path = config_path
        self._config_stamp: tuple[int, int] | None = None
        self._digest_retry: dict[str, datetime] = {}  # chat -> not before (after a failure)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._wake_delivery = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Run until :meth:`stop` or a signal; returns once everything is closed."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        await self.app.start()
        if self.app.application is not None:
            register(self.app.application, self.app.command_context())
            await self._start_telegram()
        await self.app.sync_feeds()
        self._config_stamp = await self._stamp()
        scheduler = AsyncIOScheduler(timezone="UTC")
        once = {"max_instances": 1, "coalesce": True}
        scheduler.add_job(
            self._tick, "interval", seconds=self.tick, next_run_time=datetime.now(UTC), **once
        )
        scheduler.add_job(self._wake, "interval", seconds=_RETRY_DELIVERY_SECONDS, **once)
        if self.config_path is not None:
            scheduler.add_job(self._reload, "interval", seconds=_CONFIG_CHECK_SECONDS, **once)
        if self.app.application is not None:  # a Bot API down at start-up: try again
            every = self.telegram_retry
            scheduler.add_job(self._start_telegram, "interval", seconds=every, **once)
        if any(chat.digest for chat in self.app.config.telegram.chats):
            scheduler.add_job(self._digests, "interval", seconds=_DIGEST_CHECK_SECONDS, **once)
        scheduler.start()
        deliverer = asyncio.create_task(self._deliver_loop())
        log.info("running: %d feeds, %d watches", len(self.app.config.feeds),
                 len(self.app.config.watches))  # fmt: skip
        try:
            await self._stop.wait()
        finally:
            log.info("stopping")
            scheduler.shutdown(wait=False)
            deliverer.cancel()
            pending = [*self._tasks, deliverer]
            for task in self._tasks:
                task.cancel()
            await asyncio.wait(pending, timeout=_STOP_GRACE_SECONDS)
            await self._stop_telegram()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await self.app.aclose()
            log.info("stopped")

    async def _tick(self) -> None:
        for feed_id in await self.app.due_feeds():
            task = asyncio.create_task(self._poll(feed_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _poll(self, feed_id: int) -> None:
        try:
            outcome: PollOutcome | None = await self.app.poll(feed_id)
        except Exception:
            log.exception("poll of feed id=%d crashed", feed_id)
            return
        if outcome is not None and outcome.new_alerts:
            self._wake_delivery.set()

    async def _start_telegram(self) -> None:
        """Take the bot's update stream (commands, buttons) in this event loop, unless it is
        already running; the handlers were registered once, at start-up."""
        application = self.app.application
        if application is None or application.running:
            return
        try:
            await application.initialize()  # a no-op once it has worked
            await application.start()
            if application.updater is not None:
                await application.updater.start_polling(drop_pending_updates=False)
            await publish_commands(application.bot)
        except (TelegramError, RuntimeError) as exc:  # RuntimeError: the bot never initialised
            log.error("telegram: cannot take the update stream (%s); retrying in %g s", exc,
                      self.telegram_retry)  # fmt: skip

    async def _stop_telegram(self) -> None:
        application = self.app.application
        if application is None or not application.running:
            return
        try:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
        except (TelegramError, RuntimeError) as exc:
            log.warning("telegram: stopping: %s", exc)

    async def _digests(self) -> None:
        """Send each chat's digest once its local digest time has come (once a day: the
        database's unique (chat, day) decides, not this process)."""
        now = datetime.now(UTC)
        send = self.app.telegram.send_text if self.app.telegram else None
        for chat in self.app.config.telegram.chats:
            if chat.digest is None or self._digest_retry.get(chat.key, now) > now:
                continue
            last = await asyncio.to_thread(digest_queries.last_sent_date, self.app.db, chat.key)
            if not is_due(chat, now, last):
                continue
            outcome = await send_digest(self.app.db, chat, send, now, printer=_print)
            if outcome.status == "failed":
                self._digest_retry[chat.key] = now + _DIGEST_RETRY

    async def _reload(self) -> None:
        stamp = await self._stamp()
        if stamp is None or stamp == self._config_stamp or self.config_path is None:
            return
        self._config_stamp = stamp
        try:
            config = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as exc:
            log.error(
                "config %s changed but is invalid; the previous watchlist stays in force: %s",
                self.config_path,
                " | ".join(exc.lines),
            )
            return
        for note in await self.app.reload(config):
            log.warning("config %s: %s", self.config_path, note)
        log.info("config reloaded: %d watches, %d feeds", len(config.watches), len(config.feeds))

    async def _stamp(self) -> tuple[int, int] | None:
        """The config file's (mtime, size): cheap to read, changes with every save."""
        if self.config_path is None:
            return None
        try:
            stat = await asyncio.to_thread(os.stat, self.config_path)
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    async def _wake(self) -> None:
        self._wake_delivery.set()

    async def _deliver_loop(self) -> None:
        while True:
            await self._wake_delivery.wait()
            self._wake_delivery.clear()
            try:
                await self.app.deliverer.deliver()
            except Exception:
                log.exception("delivery round failed; alerts stay pending")


def _print(text: str) -> None:
    print(text, flush=True)  # noqa: T201 (no Telegram: the console is the channel)
