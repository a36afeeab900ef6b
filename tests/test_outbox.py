"""The outbox: alerts survive notifier failures, crashes and restarts; nothing is sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from bot.app import App
from bot.config import Config, parse_config
from bot.demo.server import FeedServer, Route
from bot.notify import CONSOLE
from storage import alerts as alert_queries
from storage.db import open_database
from storage.models import Alert
from storage.records import AlertRecord
from tests.conftest import WATCHES
from tests.feedgen import Item, rss2

FSD = "Tesla wins approval for Full Self-Driving in China"


class Recorder:
    """A notifier that records what it was given, and can be told to fail."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[AlertRecord] = []
        self.fail = fail

    async def send(self, alert: AlertRecord) -> str | None:
        if self.fail:
            raise ConnectionError("notifier is down")
        self.sent.append(alert)
        return f"msg-{alert.id}"

    async def send_combined(self, alerts: Sequence[AlertRecord]) -> str | None:
        for alert in alerts:
            await self.send(alert)
        return "combined"


def _config(db: Path, *urls: str) -> Config:
    return parse_config(
        {
            "database": {"url": f"sqlite:///{db}"},
            "feeds": [{"url": u} for u in urls],
            "watches": [{"name": n, "query": q} for n, q in WATCHES.items()],
        }
    )


async def _once(config: Config, notifier: Recorder) -> None:
    app = App(config, notifiers={CONSOLE: notifier})
    try:
        await app.run_once()
    finally:
        await app.aclose()


async def test_failed_delivery_stays_pending_and_is_sent_once_later(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    config = _config(tmp_path / "n.db", feed_server.url("/f"))

    down = Recorder(fail=True)
    await _once(config, down)
    db = open_database(config.database.url)
    [pending] = alert_queries.pending_alerts(db)
    assert pending.title == FSD

    up = Recorder()
    await _once(config, up)  # a restart: the pending alert goes out now
    await _once(config, up)  # and another: nothing is re-sent
    assert [a.title for a in up.sent] == [FSD]
    assert alert_queries.pending_alerts(db) == []
    [sent] = alert_queries.delivered_alerts(db)
    assert sent.sent_at is not None
    db.close()


async def test_crash_between_write_and_send_loses_nothing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A process that dies after the poll's transaction but before delivery."""
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    config = _config(tmp_path / "n.db", feed_server.url("/f"))
    app = App(config, notifiers={CONSOLE: Recorder()})
    await app.sync_feeds()
    await app.poll_all()
    await app.aclose()  # "crash": delivery never ran

    after_restart = Recorder()
    await _once(config, after_restart)
    assert [a.title for a in after_restart.sent] == [FSD]


async def test_two_workers_polling_one_feed_alert_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    items = [Item(f"{FSD} #{i}", f"https://a.example/{i}", guid=f"g-{i}") for i in range(20)]
    feed_server.set("/f", Route(rss2(items), delay=0.2))
    config = _config(tmp_path / "n.db", feed_server.url("/f"))
    first, second = Recorder(), Recorder()
    await asyncio.gather(_once(config, first), _once(config, second))
    titles = [a.title for a in first.sent + second.sent]
    assert sorted(titles) == sorted(i.title for i in items)  # each exactly once


def test_database_forbids_a_second_alert_for_the_same_chat_and_item(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    config = _config(tmp_path / "n.db", feed_server.url("/f"))
    asyncio.run(_once(config, Recorder()))
    db = open_database(config.database.url)
    [alert] = alert_queries.delivered_alerts(db)
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Alert(item_id=alert.item_id, chat=CONSOLE, created_at=alert.created_at))
    assert not alert_queries.mark_sent(db, alert.id, alert.created_at)  # already sent: no-op
    db.close()


async def test_a_digest_during_a_slow_fetch_does_not_lose_its_matches(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Matches are stamped when they are saved, not when the poll started."""
    from datetime import UTC, datetime, timedelta

    from bot.digest import send_digest
    from bot.telegram_config import ChatConfig

    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")]), delay=1.5))
    config = _config(tmp_path / "n.db", feed_server.url("/f"))
    app = App(config, notifiers={CONSOLE: Recorder()})
    await app.sync_feeds()
    poll = asyncio.create_task(app.poll_all())
    await asyncio.sleep(0.5)  # the feed is still being fetched
    chat, printed = ChatConfig(id=0), []
    first = datetime.now(UTC)
    await send_digest(app.db, chat, None, first, printer=printed.append)
    await poll
    await send_digest(app.db, chat, None, first + timedelta(days=1), printer=printed.append)
    await app.aclose()
    assert FSD not in printed[0] and FSD in printed[1]
