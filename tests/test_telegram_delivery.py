"""Alerts over Telegram: python-telegram-bot talks HTTP to a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.config import Config, parse_config
from bot.demo.server import FeedServer, Route
from storage import alerts as alert_queries
from storage.db import Database, open_database
from tests.conftest import WATCHES
from tests.fakebot import FakeBotApi
from tests.feedgen import Item, rss2

FSD = "Tesla wins approval for Full Self-Driving in China"
DATA = "Beijing grants data export approval to carmakers"
HOSTILE = 'Tesla FSD China: 1 < 2 & 3 > 2, "quoted" & <unclosed'
PRIVATE, EVERYTHING, GROUP, ADMIN = 111, 222, -100333, 999


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


def _config(tmp_path: Path, feed_url: str, fake: FakeBotApi) -> Config:
    return parse_config(_raw_config(tmp_path, feed_url, fake), environ={})


def _raw_config(tmp_path: Path, feed_url: str, fake: FakeBotApi) -> dict[str, Any]:
    return {
        "database": {"url": f"sqlite:///{tmp_path / 'n.db'}"},
        "feeds": [{"url": feed_url, "name": "Wire"}],
        "watches": [{"name": n, "query": q} for n, q in WATCHES.items()],
        "telegram": {
            "token": fake.token,
            "base_url": fake.base_url,
            "admins": [ADMIN],
            "chats": [
                {"id": PRIVATE, "watches": ["Tesla FSD in China"], "timezone": "Asia/Shanghai"},
                {"id": EVERYTHING},
                {"id": GROUP, "watches": ["Data exports"]},
            ],
        },
    }


async def _once(config: Config, clock: Callable[[], datetime] | None = None) -> None:
    app = App(config, clock=clock) if clock else App(config)
    try:
        await app.run_once()
    finally:
        await app.aclose()


def _texts(fake: FakeBotApi, chat: int) -> list[str]:
    return [message.text for message in fake.sent(chat)]


async def test_alerts_reach_the_chats_that_want_them_escaped(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    items = [
        Item(FSD, "https://a.example/1", guid="1"),
        Item(DATA, "https://a.example/2", guid="2"),
        Item(HOSTILE, "https://a.example/3?a=1&b=2", "A" * 20000, guid="3"),
    ]
    feed_server.set("/f", Route(rss2(items)))
    await _once(_config(tmp_path, feed_server.url("/f"), fake))

    private, everything, group = (_texts(fake, c) for c in (PRIVATE, EVERYTHING, GROUP))
    assert len(private) == 2 and len(everything) == 3 and len(group) == 1
    assert FSD in private[0] and DATA in group[0]
    for message in fake.sent():
        assert message.parse_mode == "HTML"
        assert len(message.text) <= 4096
    hostile = next(t for t in everything if "quoted" in t)
    assert '1 &lt; 2 &amp; 3 &gt; 2, "quoted" &amp; &lt;unclosed' in hostile
    assert 'href="https://a.example/3?a=1&amp;b=2"' in hostile
    assert "CST" in private[0]  # the chat's own timezone
    assert alert_queries.pending_alerts(_db(tmp_path)) == []
    shown = next(m for m in fake.sent(EVERYTHING) if "quoted" in m.text).plain_text
    assert HOSTILE in shown  # what the reader sees is the title as the feed wrote it


async def test_flood_control_three_times_then_delivered_once_after_the_wait(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="1")])))
    fake.fail_next("sendMessage", chat_id=PRIVATE, times=3, retry_after=1)
    await _once(_config(tmp_path, feed_server.url("/f"), fake))

    attempts = [
        c
        for c in fake.calls
        if c.method == "sendMessage" and c.params.get("chat_id") in (PRIVATE, str(PRIVATE))
    ]
    assert len(attempts) == 4
    assert len(fake.sent(PRIVATE)) == 1
    assert attempts[-1].at - attempts[0].at >= 3.0  # each retry_after obeyed
    assert len(fake.sent(EVERYTHING)) == 1  # the other chat was not held up


async def test_a_blocked_chat_keeps_its_alerts_and_admins_are_told(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="1")])))
    fake.block_chat(PRIVATE)
    config = _config(tmp_path, feed_server.url("/f"), fake)
    await _once(config)

    assert fake.sent(PRIVATE) == []
    assert len(fake.sent(EVERYTHING)) == 1
    [notice] = fake.sent(ADMIN)
    assert str(PRIVATE) in notice.text and "kept" in notice.text
    [pending] = alert_queries.pending_alerts(_db(tmp_path))
    assert pending.chat == str(PRIVATE)
    db = sqlite3.connect(tmp_path / "n.db")
    assert db.execute("select chat, active from chats").fetchall() == [(str(PRIVATE), 0)]

    await _once(config)  # still blocked: not tried again, admins not told twice
    assert len(fake.sent(ADMIN)) == 1
    assert [
        c
        for c in fake.calls
        if c.method == "sendMessage" and c.params.get("chat_id") in (PRIVATE, str(PRIVATE))
    ][1:] == []


async def test_crash_before_sending_delivers_after_restart_and_never_twice(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="1")])))
    config = _config(tmp_path, feed_server.url("/f"), fake)
    app = App(config)
    await app.sync_feeds()
    await app.poll_all()
    await app.aclose()  # the process dies here: alerts written, nothing sent
    assert fake.sent() == []

    await _once(config)
    await _once(config)
    assert len(fake.sent(PRIVATE)) == 1 and len(fake.sent(EVERYTHING)) == 1
    sent = alert_queries.delivered_alerts(_db(tmp_path))
    assert {a.chat for a in sent} == {str(PRIVATE), str(EVERYTHING)}
    assert all(a.sent_at is not None for a in sent)


async def test_messages_to_one_chat_are_paced(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    items = [Item(f"{FSD} #{i}", f"https://a.example/{i}", guid=str(i)) for i in range(3)]
    feed_server.set("/f", Route(rss2(items)))
    await _once(_config(tmp_path, feed_server.url("/f"), fake))
    stamps = [m.at for m in fake.sent(PRIVATE)]
    assert len(stamps) == 3
    # Sends start a second apart; the server's receipt times may jitter by a few ms
    # either way (seen: 1.9999995 s), which is not a pacing fault.
    assert stamps[2] - stamps[0] >= 2.0 - 0.05


def _db(tmp_path: Path) -> Database:
    return open_database(f"sqlite:///{tmp_path / 'n.db'}")


async def test_a_burst_becomes_one_combined_message(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    items = [Item(f"{FSD} #{i}", f"https://a.example/{i}", guid=str(i)) for i in range(8)]
    feed_server.set("/f", Route(rss2(items)))
    await _once(_config(tmp_path, feed_server.url("/f"), fake))

    [message] = fake.sent(PRIVATE)
    assert "8 new alerts" in message.text
    assert all(f"{FSD} #{i}" in message.plain_text for i in range(8))
    sent = [a for a in alert_queries.delivered_alerts(_db(tmp_path), 100) if a.chat == str(PRIVATE)]
    assert len(sent) == 8 and {a.message_id for a in sent} == {str(message.message_id)}


async def test_quiet_hours_hold_alerts_then_release_them_together(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    items = [Item(f"{FSD} #{i}", f"https://a.example/{i}", guid=str(i)) for i in range(2)]
    feed_server.set("/f", Route(rss2(items)))
    raw = _raw_config(tmp_path, feed_server.url("/f"), fake)
    raw["telegram"]["chats"] = [{"id": PRIVATE, "quiet_hours": "23:00-07:00", "timezone": "UTC"}]
    config = parse_config(raw, environ={})
    night = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    morning = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)

    await _once(config, clock=lambda: night)
    assert fake.sent(PRIVATE) == []
    assert len(alert_queries.pending_alerts(_db(tmp_path))) == 2  # held, not dropped

    await _once(config, clock=lambda: morning)
    [message] = fake.sent(PRIVATE)
    assert "2 new alerts" in message.text
    assert alert_queries.pending_alerts(_db(tmp_path)) == []


async def test_server_errors_are_retried_and_other_chats_go_on(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="1")])))
    fake.fail_next("sendMessage", chat_id=PRIVATE, times=1, error_code=502)
    await _once(_config(tmp_path, feed_server.url("/f"), fake))
    assert len(fake.sent(PRIVATE)) == 1  # after one backoff
    assert len(fake.sent(EVERYTHING)) == 1
    assert alert_queries.pending_alerts(_db(tmp_path)) == []


async def test_other_outlets_edit_the_alert_in_place(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    """One story in three feeds: one message per chat, edited to name the other outlets."""
    article = "https://wire.example/tesla-fsd-china"
    story = Item(FSD, article, guid="a")
    for path in ("/a", "/b", "/c", "/d"):
        feed_server.set(path, Route(rss2([])))
    raw = _raw_config(tmp_path, feed_server.url("/a"), fake)
    raw["feeds"] = [
        {"url": feed_server.url(p), "name": f"Outlet {p[1].upper()}"}
        for p in ("/a", "/b", "/c", "/d")
    ]
    config = parse_config(raw, environ={})
    start = datetime.now(UTC)

    feed_server.set("/a", Route(rss2([story])))
    await _once(config, clock=lambda: start)
    [first] = fake.sent(PRIVATE)

    feed_server.set("/b", Route(rss2([Item(FSD + " (B)", article + "?utm_source=x", guid="b")])))
    feed_server.set("/c", Route(rss2([Item(FSD + " (C)", article, guid="c")])))
    await _once(config, clock=lambda: start + timedelta(seconds=30))
    assert len(fake.sent(PRIVATE)) == 1  # no new message
    [edit] = fake.edits(PRIVATE)  # both outlets in one edit
    assert edit.message_id == first.message_id
    assert "also reported by: " in edit.plain_text
    assert {"Outlet B", "Outlet C"} <= set(
        edit.plain_text.split("also reported by: ")[1].split(", ")
    )

    await _once(config, clock=lambda: start + timedelta(minutes=5))  # a restart: nothing new
    assert len(fake.sent(PRIVATE)) == 1 and len(fake.edits(PRIVATE)) == 1

    data_story = Item("Data export approval for Tesla FSD China fleet", article, guid="d")
    feed_server.set("/d", Route(rss2([data_story])))  # a fourth outlet, another watch
    await _once(config, clock=lambda: start + timedelta(minutes=6))
    assert len(fake.edits(EVERYTHING)) == 2
    assert "Data exports" in fake.edits(EVERYTHING)[-1].plain_text  # the new watch, added
    assert len(fake.sent(EVERYTHING)) == 1
