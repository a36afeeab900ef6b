"""The daily digest: real SQLite files, items saved by the real pipeline transaction, and
python-telegram-bot talking HTTP to the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot

from bot.digest import DigestOutcome, digest_messages, digest_text, is_due, local_date, send_digest
from bot.pacing import Pacer
from bot.telegram import TelegramNotifier
from bot.telegram_config import ChatConfig
from storage import Database, open_database
from storage import digests as queries
from storage.digests import DigestEntry
from storage.feeds import sync_feeds
from storage.items import save_poll
from storage.records import FeedSpec, FeedState, FeedUpdate, NewItem, NewMatch, PollRecord
from tests.fakebot import FakeBotApi

FSD, DATA, OTHER = "Tesla FSD in China", "Data exports", "Other watch"
HOSTILE_TITLE = '<script>alert("x")</script> Tesla & FSD < China'
HOSTILE_FEED = "Hostile <Feed> & Co"
CHAT = 111
NOW = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


def _chat(**fields: object) -> ChatConfig:
    data: dict[str, object] = {"id": CHAT, "watches": [FSD, DATA], "digest": "08:00"}
    return ChatConfig.model_validate(data | {"timezone": "Asia/Shanghai"} | fields)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'n.db'}")
    yield database
    database.close()


@pytest.fixture
def feeds(db: Database) -> list[FeedState]:
    specs = [
        FeedSpec("https://a.example/feed", "Wire"),
        FeedSpec("https://b.example/f", HOSTILE_FEED),
    ]
    return sync_feeds(db, specs)


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


@pytest.fixture
async def notifier(
    fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramNotifier]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        yield TelegramNotifier(bot, [_chat()], pacer=Pacer(per_chat_interval=0.0))


def _item(
    key: str, title: str, *watches: str, url: str | None = None, published: datetime | None = None
) -> NewItem:
    link = url or f"https://a.example/{key}"
    matches = tuple(NewMatch(w, "{}") for w in watches)
    return NewItem(key, link, link, title, "", published, matches)


def _save(db: Database, feed: FeedState, at: datetime, *items: NewItem) -> None:
    """Items and their matches through the pipeline's own transaction, matched at ``at``."""
    update = FeedUpdate(title=None, etag=None, last_modified=None, fetch_url=None, next_poll_at=at)
    save_poll(db, PollRecord(feed.id, at, update, items))


def _lines(fake: FakeBotApi) -> list[str]:
    return [line for message in fake.sent(CHAT) for line in message.plain_text.split("\n")]


async def test_content_counts_grouping_newest_first_links_and_escaping(
    db: Database, feeds: list[FeedState], fake: FakeBotApi, notifier: TelegramNotifier
) -> None:
    wire, hostile = feeds
    hour = timedelta(hours=1)
    _save(db, wire, NOW - 30 * hour, _item("old", "Older than the first digest's 24 h", FSD))
    _save(db, wire, NOW - 2 * hour,
          _item("1", "Tesla FSD approved in China", FSD, published=NOW - 5 * hour),
          _item("2", "Beijing weighs Tesla FSD", FSD, published=NOW - hour),
          _item("4", "Data export approval granted", DATA, url="javascript:alert(1)", published=NOW - 3 * hour),
          _item("5", "Not this chat's watch", OTHER))  # fmt: skip
    _save(db, hostile, NOW, _item("3", HOSTILE_TITLE, FSD, url="https://b.example/3?a=1&b=2"))

    outcome = await send_digest(db, _chat(), notifier.send_text, NOW)

    assert outcome == DigestOutcome("sent", messages=1, entries=4)
    [message] = fake.sent(CHAT)
    assert message.parse_mode == "HTML"
    assert message.plain_text.split("\n") == [
        "📰 Daily digest · 24 Nov",
        f"{FSD}: 3",
        f"{DATA}: 1",
        "",
        FSD,
        f"• {HOSTILE_TITLE} — {HOSTILE_FEED}",  # undated: sorted by when it matched (now)
        "• Beijing weighs Tesla FSD — Wire",
        "• Tesla FSD approved in China — Wire",
        "",
        DATA,
        "• Data export approval granted — Wire",
    ]
    links = [e["url"] for e in message.entities if e["type"] == "text_link"]
    assert links == ["https://b.example/3?a=1&b=2", "https://a.example/2", "https://a.example/1"]
    assert (
        "&lt;script&gt;" in message.text
        and 'href="https://b.example/3?a=1&amp;b=2"' in message.text
    )
    assert {"bold"} <= {e["type"] for e in message.entities}
    assert queries.previous_digest_at(db, str(CHAT)) == NOW
    assert queries.last_sent_date(db, str(CHAT)) == "2026-11-24"
    row = sqlite3.connect(db.engine.url.database or "").execute(
        "select status, message_ids from digests"
    )
    assert row.fetchall() == [("sent", str(message.message_id))]


async def test_each_digest_covers_only_what_matched_since_the_previous_one(
    db: Database, feeds: list[FeedState], fake: FakeBotApi, notifier: TelegramNotifier
) -> None:
    wire = feeds[0]
    day = timedelta(days=1)
    _save(db, wire, NOW - timedelta(hours=3), _item("a", "Day one: Tesla FSD", FSD))
    _save(db, wire, NOW, _item("b", "Day one, at the digest's moment", FSD))
    assert (await send_digest(db, _chat(), notifier.send_text, NOW)).entries == 2
    _save(db, wire, NOW + timedelta(hours=3), _item("c", "Day two: data export", DATA))

    second = await send_digest(db, _chat(), notifier.send_text, NOW + day)
    third = await send_digest(db, _chat(), notifier.send_text, NOW + 2 * day)

    assert (second.status, second.entries, third.entries) == ("sent", 1, 0)
    first_msg, second_msg, third_msg = (m.plain_text for m in fake.sent(CHAT))
    assert "Day one: Tesla FSD" in first_msg and "Day one, at the digest's moment" in first_msg
    assert "Day two" in second_msg and "Day one" not in second_msg
    assert (
        third_msg == "📰 Daily digest · 26 Nov\nNothing matched your watches since the last digest."
    )


async def test_only_the_chats_watches_and_star_means_all(
    db: Database, feeds: list[FeedState], fake: FakeBotApi, notifier: TelegramNotifier
) -> None:
    _save(
        db,
        feeds[0],
        NOW,
        _item("1", "Tesla", FSD),
        _item("2", "Data", DATA),
        _item("3", "Else", OTHER),
    )
    await send_digest(db, _chat(watches=[DATA]), notifier.send_text, NOW)
    await send_digest(db, _chat(id=222, watches=["*"]), notifier.send_text, NOW)
    assert _lines(fake)[1:] == [f"{DATA}: 1", "", DATA, "• Data — Wire"]
    assert fake.sent(222)[0].plain_text.split("\n")[1:4] == [
        f"{DATA}: 1",
        f"{OTHER}: 1",
        f"{FSD}: 1",
    ]


async def test_a_long_digest_splits_between_items_and_loses_none(
    db: Database, feeds: list[FeedState], fake: FakeBotApi, notifier: TelegramNotifier
) -> None:
    items = [
        _item(f"{i:03d}", f"story-{i:03d} " + "Tesla FSD & China <news> " * 7, FSD if i % 3 else DATA,
              published=NOW - timedelta(minutes=i))
        for i in range(120)
    ]  # fmt: skip
    _save(db, feeds[0], NOW, *items)

    outcome = await send_digest(db, _chat(), notifier.send_text, NOW)

    sent = fake.sent(CHAT)
    assert (
        outcome.status == "sent" and outcome.messages == len(sent) >= 4 and outcome.entries == 120
    )
    assert all(len(m.text) <= 4096 for m in sent)
    shown = re.findall(r"story-\d{3}", "\n".join(m.plain_text for m in sent))
    assert sorted(shown) == [f"story-{i:03d}" for i in range(120)]  # each exactly once
    by_watch = {w: [s for s in shown if (int(s[6:]) % 3 != 0) == (w == FSD)] for w in (FSD, DATA)}
    assert all(ids == sorted(ids) for ids in by_watch.values())  # newest first within a watch
    item = re.compile(r'• <a href="https://a\.example/\d{3}">story-\d{3} [^\n]*</a> — Wire')
    for message in sent[1:]:
        first, *rest = message.text.split("\n")
        assert first in (f"<b>{FSD}</b> (cont.)", f"<b>{DATA}</b> (cont.)", f"<b>{DATA}</b>")
        assert all(item.fullmatch(line) or line in ("", f"<b>{DATA}</b>") for line in rest)
    assert sent[0].plain_text.startswith(f"📰 Daily digest · 24 Nov\n{FSD}: 80\n{DATA}: 40\n")


def test_hostile_worst_case_stays_under_the_limit_and_merges_one_story() -> None:
    at = NOW - timedelta(hours=1)
    worst = [
        DigestEntry(
            "&" * 300, "&" * 1000, "https://x.example/" + "a" * 1480, "", "&" * 500, None, at
        )
        for _ in range(12)
    ]
    messages = digest_messages(worst, _chat(), NOW)
    assert len(messages) == 12 and all(len(m) <= 4096 for m in messages)
    assert all(m.count('<a href="https://x.example/') == 1 for m in messages)
    same = [DigestEntry(FSD, "One story", "https://s.example/1", "", feed, None, at, story_id=1)
            for feed in ("Wire", "Other & Co", "Wire")]  # fmt: skip
    [message] = digest_messages(same, _chat(), NOW)
    assert f"{FSD}: 1" in message and "— Wire (also Other &amp; Co)" in message


def test_a_story_is_listed_once_under_one_watch_with_every_outlet() -> None:
    """Several outlets' items of one story, matching two watches: one line, under the
    watch with more stories, naming the other watch and every other outlet (also those
    whose item matched nothing: ``outlets`` comes from the whole story)."""
    at = NOW - timedelta(hours=1)
    outlets = ("Wire", "Caixin", "Quiet Outlet")
    story = [
        DigestEntry(watch, title, f"https://{feed}.example/", "", feed, at, at, 7, outlets)
        for watch, title, feed in (
            (FSD, "Tesla FSD approved in China", "Wire"),
            (DATA, "Tesla FSD approved in China", "Wire"),
            (FSD, "China approves Tesla FSD", "Caixin"),
        )
    ]
    other = DigestEntry(FSD, "Beijing weighs FSD road tests", "https://w.example/2", "", "Wire",
                        at - timedelta(hours=1), at, 8, ("Wire",))  # fmt: skip
    text = digest_text([*story, other], _chat(), NOW)
    lines = [line for line in text.splitlines() if line.startswith("  •")]
    assert len(lines) == 2
    assert lines[0] == (
        f"  • Tesla FSD approved in China — Wire (also Caixin, Quiet Outlet) [also {DATA}]"
    )
    assert f"{FSD}: 2" in text and f"{DATA}: " not in text


async def test_exactly_one_digest_per_chat_and_day_under_concurrent_triggers(
    db: Database,
    feeds: list[FeedState],
    fake: FakeBotApi,
    notifier: TelegramNotifier,
    tmp_path: Path,
) -> None:
    _save(db, feeds[0], NOW, _item("1", "Tesla FSD", FSD))
    outcomes = await asyncio.gather(
        *(send_digest(db, _chat(), notifier.send_text, NOW) for _ in range(5))
    )
    assert Counter(o.status for o in outcomes) == {"sent": 1, "already_sent": 4}

    tomorrow = NOW + timedelta(days=1)
    other = open_database(f"sqlite:///{tmp_path / 'n.db'}")  # a second process's own engine
    try:
        outcomes = await asyncio.gather(
            *(send_digest(d, _chat(), notifier.send_text, tomorrow + timedelta(seconds=s))
              for s, d in enumerate([db, other, db, other]))
        )  # fmt: skip
    finally:
        other.close()
    assert Counter(o.status for o in outcomes) == {"sent": 1, "already_sent": 3}
    assert len(fake.sent(CHAT)) == 2


def test_the_database_decides_the_claim_across_processes(db_url: str) -> None:
    databases = [open_database(db_url) for _ in range(8)]  # one engine each, as processes have
    try:
        with ThreadPoolExecutor(8) as pool:
            won = list(
                pool.map(lambda d: queries.claim_digest(d, "7", "2026-11-24", NOW), databases)
            )
        assert won.count(True) == 1
        db = databases[0]
        later = NOW + timedelta(minutes=31)
        assert not queries.claim_digest(
            db, "7", "2026-11-24", NOW + timedelta(minutes=5), stale_after=timedelta(minutes=30)
        )
        assert queries.claim_digest(db, "7", "2026-11-24", later, stale_after=timedelta(minutes=30))
        assert not queries.release_digest(db, "7", "2026-11-24", NOW)  # not ours any more
        assert queries.mark_digest_sent(db, "7", "2026-11-24", later, ["1", "2"])
        assert not queries.release_digest(db, "7", "2026-11-24")  # sent is never released
        assert queries.previous_digest_at(db, "7") == later
    finally:
        for database in databases:
            database.close()


async def test_a_failed_send_releases_the_claim_so_a_later_try_sends(
    db: Database, feeds: list[FeedState], fake: FakeBotApi, notifier: TelegramNotifier
) -> None:
    _save(db, feeds[0], NOW, _item("1", "Tesla FSD", FSD))
    fake.block_chat(CHAT)
    blocked = await send_digest(db, _chat(), notifier.send_text, NOW)
    fake.unblock_chat(CHAT)
    fake.fail_next("sendMessage", chat_id=CHAT, error_code=400, description="Bad Request: nope")
    rejected = await send_digest(db, _chat(), notifier.send_text, NOW + timedelta(minutes=1))
    assert (blocked.status, blocked.unreachable, rejected.status, rejected.unreachable) == (
        "failed", True, "failed", False)  # fmt: skip
    assert "blocked" in (blocked.error or "") and queries.last_sent_date(db, str(CHAT)) is None

    retried = await send_digest(db, _chat(), notifier.send_text, NOW + timedelta(minutes=2))
    assert (retried.status, retried.entries) == ("sent", 1)
    assert "Tesla FSD" in fake.sent(CHAT)[0].plain_text


async def test_a_claim_left_by_a_crash_is_taken_over_later(
    db: Database, feeds: list[FeedState], fake: FakeBotApi, notifier: TelegramNotifier
) -> None:
    _save(db, feeds[0], NOW - timedelta(hours=2), _item("1", "Tesla FSD", FSD))
    assert queries.claim_digest(db, str(CHAT), "2026-11-24", NOW - timedelta(hours=1))  # then died
    assert (await send_digest(db, _chat(), notifier.send_text, NOW)).status == "sent"
    assert len(fake.sent(CHAT)) == 1


async def test_printing_records_the_digest_like_sending(
    db: Database, feeds: list[FeedState]
) -> None:
    _save(db, feeds[0], NOW, _item("1", HOSTILE_TITLE, FSD))
    printed: list[str] = []
    outcome = await send_digest(db, _chat(), None, NOW, printer=printed.append)
    again = await send_digest(db, _chat(), None, NOW, printer=printed.append)
    assert (outcome.status, again.status) == ("printed", "already_sent")
    assert printed == [
        f"Daily digest · 24 Nov\n{FSD}: 1\n\n{FSD}\n  • {HOSTILE_TITLE} — Wire\n    https://a.example/1"
    ]


async def test_the_local_day_decides_around_midnight(
    db: Database, feeds: list[FeedState], fake: FakeBotApi, notifier: TelegramNotifier
) -> None:
    shanghai, utc = _chat(), _chat(id=222, timezone="UTC")
    before, after = (
        datetime(2026, 11, 23, 15, 59, tzinfo=UTC),
        datetime(2026, 11, 23, 16, 1, tzinfo=UTC),
    )
    assert [local_date(c, t) for c in (shanghai, utc) for t in (before, after)] == [
        "2026-11-23", "2026-11-24", "2026-11-23", "2026-11-23"]  # fmt: skip
    assert not is_due(shanghai, after, "2026-11-23")  # 00:01 in Shanghai, digest at 08:00
    assert is_due(shanghai, NOW, "2026-11-23") and is_due(shanghai, NOW, None)
    assert not is_due(shanghai, NOW - timedelta(seconds=1), None)  # 07:59:59
    assert not is_due(shanghai, NOW, "2026-11-24")
    assert is_due(utc, after, "2026-11-22") and not is_due(utc, after, "2026-11-23")
    assert not is_due(_chat(digest=None), NOW, None)

    _save(db, feeds[0], before - timedelta(minutes=1), _item("1", "Tesla FSD", FSD))
    statuses = [
        (await send_digest(db, chat, notifier.send_text, moment)).status
        for chat in (shanghai, utc)
        for moment in (before, after)
    ]
    assert statuses == ["sent", "sent", "sent", "already_sent"]
