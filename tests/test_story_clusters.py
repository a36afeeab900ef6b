"""One story told by several outlets under different URLs and headlines: one alert per
chat, edited in place with the other outlets; the digest lists it once; a restart
changes nothing. Real parts throughout: feeds over HTTP on 127.0.0.1, a SQLite file,
python-telegram-bot talking to the fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Config, parse_config
from bot.demo.server import FeedServer, Route
from bot.digest import digest_text, pending_entries, send_digest
from storage import alerts as alert_queries
from storage.db import open_database
from storage.records import StoryMember
from tests.conftest import WATCHES
from tests.fakebot import FakeBotApi
from tests.feedgen import Item, rss2
from watchers.story import WINDOW, profile
from watchers.story_index import StoryIndex

PRIVATE, EVERYTHING = 111, 222
OUTLETS = ("Reuters", "Caixin", "Electrek", "Other")

# The same event, three outlets, three URLs, three headlines.
STORY = [
    Item(
        "Tesla wins approval to roll out FSD in China",
        "https://reuters.example/tesla-fsd-china-approval",
        "Chinese regulators have cleared Tesla's Full Self-Driving software for owners in "
        "China, the company said on Tuesday.",
        guid="r1",
    ),
    Item(
        "China approves Tesla's Full Self-Driving software",
        "https://caixin.example/2026/11/24/fsd",
        "Tesla has received approval from Chinese regulators to offer its Full Self-Driving "
        "package to owners in China, the carmaker said Tuesday.",
        guid="c1",
    ),
    Item(
        "Tesla FSD gets the green light in China",
        "https://electrek.example/tesla-fsd-green-light-china/",
        "Tesla's Full Self-Driving software has been approved by Chinese regulators for "
        "owners in China, Tesla said on Tuesday.",
        guid="e1",
    ),
]
# Looks alike, is not the same story: another country (a template headline), and news
# about another company.
EUROPE = Item(
    "Tesla wins approval to roll out FSD in Europe",
    "https://reuters.example/tesla-fsd-europe-approval",
    "The Dutch vehicle authority RDW has cleared Tesla's Full Self-Driving software for "
    "owners in the Netherlands, the first approval in Europe, the company said on Friday.",
    guid="r2",
)
OTHER = Item(
    "BYD cuts prices across its range in China",
    "https://other.example/byd-prices",
    "BYD lowered prices of 22 models by up to 53,000 yuan.",
    guid="o1",
)


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


def _config(tmp_path: Path, feed_server: FeedServer, fake: FakeBotApi) -> Config:
    return parse_config(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'n.db'}"},
            "feeds": [{"url": feed_server.url(f"/{name}"), "name": name} for name in OUTLETS],
            "watches": [
                *({"name": n, "query": q} for n, q in WATCHES.items()),
                {"name": "Tesla", "query": "tesla"},
                {"name": "BYD", "query": "byd OR 比亚迪"},
            ],
            "telegram": {
                "token": fake.token,
                "base_url": fake.base_url,
                "chats": [
                    {"id": PRIVATE, "watches": ["Tesla FSD in China"]},
                    {"id": EVERYTHING},
                ],
            },
        },
        environ={},
    )


async def _once(config: Config, at: datetime) -> None:
    app = App(config, clock=lambda: at)
    try:
        await app.run_once()
    finally:
        await app.aclose()


async def test_one_story_from_three_outlets_is_one_alert_edited_in_place(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    for name in OUTLETS:
        feed_server.set(f"/{name}", Route(rss2([])))
    config = _config(tmp_path, feed_server, fake)
    start = datetime.now(UTC)
    await _once(config, start)  # every feed polled once, empty: no first-poll flood guard

    feed_server.set("/Reuters", Route(rss2([STORY[0]])))
    await _once(config, start + timedelta(minutes=1))
    [first] = fake.sent(PRIVATE)
    assert "Tesla wins approval to roll out FSD in China" in first.text

    feed_server.set("/Reuters", Route(rss2([STORY[0], EUROPE])))
    feed_server.set("/Caixin", Route(rss2([STORY[1]])))
    feed_server.set("/Electrek", Route(rss2([STORY[2]])))
    feed_server.set("/Other", Route(rss2([OTHER])))
    await _once(config, start + timedelta(minutes=3))

    # The private chat's watch matches the story only: still one message, edited.
    assert [m.message_id for m in fake.sent(PRIVATE)] == [first.message_id]
    edits = fake.edits(PRIVATE)
    assert edits and edits[-1].message_id == first.message_id
    also = edits[-1].plain_text.split("also reported by: ")[1].splitlines()[0]
    assert {"Caixin", "Electrek"} <= {name.strip() for name in also.split(",")}

    # The other chat gets the story once, plus the look-alikes as stories of their own.
    texts = [m.text for m in fake.sent(EVERYTHING)]
    assert sum(any(item.title in t for item in STORY) for t in texts) == 1
    assert sum(EUROPE.title in t for t in texts) == 1
    assert sum(OTHER.title in t for t in texts) == 1
    assert len(texts) == 3

    db = open_database(config.database.url)
    sent = alert_queries.delivered_alerts(db, limit=100)
    story = next(a for a in sent if a.chat == str(PRIVATE))
    assert {feed for feed, _ in story.also} == {"Caixin", "Electrek"}
    assert {url for _, url in story.also} == {STORY[1].link, STORY[2].link}

    # A restart (a new process: the story index is rebuilt from the database) changes nothing.
    before = (len(fake.sent()), len(fake.edits()))
    await _once(config, start + timedelta(minutes=10))
    assert (len(fake.sent()), len(fake.edits())) == before

    # The digest lists the story once, with every outlet.
    chat = config.telegram.chat(EVERYTHING)
    assert chat is not None
    entries = await pending_entries(db, chat, start + timedelta(minutes=11))
    text = digest_text(entries, chat, start + timedelta(minutes=11))
    china = [line for line in text.splitlines() if "China" in line and "•" in line]
    china = [line for line in china if "BYD" not in line]
    assert len(china) == 1, text
    for outlet in ("Reuters", "Caixin", "Electrek"):
        assert outlet in china[0]
    assert sum("FSD in Europe" in line for line in text.splitlines()) == 1

    app = App(config, clock=lambda: start + timedelta(minutes=12))
    try:
        await app.start()
        assert app.telegram is not None
        outcome = await send_digest(
            db, chat, app.telegram.send_text, start + timedelta(minutes=12), printer=None
        )
    finally:
        await app.aclose()
    assert outcome.status == "sent"
    digest = fake.sent(EVERYTHING)[-1].text
    assert digest.count("Caixin") == 1 and digest.count("Electrek") == 1


def _member(item_id: int, story_id: int, title: str, at: datetime) -> StoryMember:
    return StoryMember(item_id, story_id, title, "", None, at)


def test_the_index_keeps_only_the_window() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    index = StoryIndex()
    index.add(_member(1, 1, "Tesla FSD approved in China by regulators", now - WINDOW * 2))
    index.add(_member(2, 2, "Starship explodes during ninth test flight", now))
    index.evict(now)
    assert len(index) == 1
    assert index.find(profile("Regulators approve Tesla FSD in China", ""), None) is None
    assert index.find(profile("Starship explodes on its ninth test flight", ""), None) == 2
    assert index.find(profile("Starship explodes during eighth test flight", ""), None) is None


def test_postings_are_bounded_however_common_a_word() -> None:
    """A word every item shares costs no more than POSTINGS items per lookup, and the
    item that really is the same story is still found among the rest."""
    now = datetime(2026, 11, 24, tzinfo=UTC)
    index = StoryIndex(postings=8)
    for i in range(1, 2001):
        index.add(_member(i, i, f"China shares news item number {i} about company{i}", now))
    index.add(_member(5000, 77, "Xiaomi SU7 Ultra launched in China at 529,900 yuan", now))
    assert all(len(ids) <= 16 for ids in index._postings.values())
    assert (
        index.find(profile("Xiaomi launches SU7 Ultra in China, priced 529,900 yuan", ""), None)
        == 77
    )


def test_the_index_finds_what_comparing_with_every_item_finds() -> None:
    """On a window small enough that no list is cut, the index's candidates lose
    nothing: it joins a story exactly when some item in the window passes the rules,
    and the most similar such item's (weights: the index's own rarity)."""
    from tests.test_story_eval import HOLDOUT_FILE, PAIRS_FILE, load_pairs
    from watchers.story import JACCARD_MIN, conflict, overlap

    texts = [t for path in (PAIRS_FILE, HOLDOUT_FILE) for p in load_pairs(path) for t in (p.a, p.b)]
    now = datetime(2026, 11, 24, tzinfo=UTC)
    stored, probes = texts[0::2][:30], texts[1::2]
    index = StoryIndex(lookups=1000, postings=1000)
    for i, text in enumerate(stored, start=1):
        index.add(StoryMember(i, i, text.title, text.summary, None, now))
    weight = index._weights()
    joined = 0
    for text in probes:
        analysed = profile(text.title, text.summary)
        total = sum(map(weight, analysed.features))
        passing = [
            (overlap(analysed.features, other.features, weight, total), i)
            for i, other in enumerate((profile(s.title, s.summary) for s in stored), start=1)
            if overlap(analysed.features, other.features, weight, total) >= JACCARD_MIN
            and conflict(analysed, other) is None
        ]
        expected = max(passing)[1] if passing else None
        assert index.find(analysed, None) == expected, text.title
        joined += expected is not None
    assert joined >= 10  # the comparison is not vacuous
