"""The database layer on both backends: migrations, agreement with the models, a real pass.

PostgreSQL runs on 127.0.0.1:5432 on these machines (trust auth, database
`test`); each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.app import App
from bot.config import parse_config
from bot.demo.server import FeedServer, Route
from bot.notify import CONSOLE
from storage import StorageError, open_database
from storage import alerts as alert_queries
from storage import feeds as feed_queries
from storage.db import MIGRATIONS, Database, upgrade
from storage.records import AlertRecord
from tests.conftest import WATCHES
from tests.feedgen import Item, rss2

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
FSD = "Tesla wins approval for Full Self-Driving in China"


def _schema_diff(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_migrations_build_exactly_the_models_schema(db_url: str) -> None:
    db = open_database(db_url)
    try:
        assert _schema_diff(db) == []
        with db.engine.connect() as conn:
            assert conn.execute(text("select version_num from alembic_version")).scalar() == HEAD
    finally:
        db.close()


def test_an_old_database_is_upgraded_with_its_data(db_url: str) -> None:
    from storage.records import FeedSpec

    old = open_database(db_url, migrate=False)
    upgrade(old, "0001")  # the first released schema
    feed_queries.sync_feeds(old, [FeedSpec("https://a.example/rss", "A")])
    old.close()
    db = open_database(db_url)
    try:
        assert [s.name for s in feed_queries.feed_summaries(db)] == ["A"]
        assert _schema_diff(db) == []
    finally:
        db.close()


def test_url_stories_become_story_ids_on_upgrade(db_url: str) -> None:
    """0005 kept stories as ``url:<canonical>`` keys on alerts; 0006 gives every item the
    id of its story's first item, and every alert its item's story, nothing resent."""
    from storage.records import FeedSpec

    old = open_database(db_url, migrate=False)
    upgrade(old, "0005")
    feed_queries.sync_feeds(
        old, [FeedSpec("https://a.example/rss", "A"), FeedSpec("https://b.example/rss", "B")]
    )
    now = "2026-11-24 10:00:00.000000"
    same = "https://news.example/fsd"
    with old.engine.begin() as conn:
        feeds = [row[0] for row in conn.execute(text("select id from feeds order by id"))]
        for key, feed, url in (
            ("a1", feeds[0], same),
            ("b1", feeds[1], same),
            ("b2", feeds[1], None),
        ):
            conn.execute(
                text(
                    "insert into items (feed_id, key, url, canonical_url, title, summary, fetched_at)"
                    " values (:f, :k, :u, :u, 'Tesla FSD', '', :t)"
                ),
                {"f": feed, "k": key, "u": url, "t": now},
            )
        ids = dict(conn.execute(text("select key, id from items")).fetchall())
        conn.execute(
            text(
                "insert into alerts (item_id, chat, status, created_at, attempts, story)"
                " values (:i, '1', 'sent', :t, 0, :s)"
            ),
            [
                {"i": ids["a1"], "t": now, "s": f"url:{same}"},
                {"i": ids["b2"], "t": now, "s": f"item:{ids['b2']}"},
            ],
        )
    old.close()
    db = open_database(db_url)
    try:
        assert _schema_diff(db) == []
        with db.engine.begin() as conn:
            stories = dict(conn.execute(text("select key, story_id from items")).fetchall())
            assert stories == {"a1": ids["a1"], "b1": ids["a1"], "b2": ids["b2"]}
            alerts = conn.execute(text("select item_id, story_id from alerts order by item_id"))
            assert alerts.fetchall() == [(ids["a1"], ids["a1"]), (ids["b2"], ids["b2"])]
        [grown] = [a for a in alert_queries.delivered_alerts(db) if a.item_id == ids["a1"]]
        assert grown.story == ids["a1"] and [f for f, _ in grown.also] == ["B"]
    finally:
        db.close()


def test_reopening_migrates_nothing_and_keeps_data(db_url: str) -> None:
    from storage.records import FeedSpec

    db = open_database(db_url)
    feed_queries.sync_feeds(db, [FeedSpec("https://a.example/rss", "A")])
    db.close()
    db = open_database(db_url)
    try:
        assert [s.name for s in feed_queries.feed_summaries(db)] == ["A"]
    finally:
        db.close()


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[AlertRecord] = []

    async def send(self, alert: AlertRecord) -> str | None:
        self.sent.append(alert)
        return None

    async def send_combined(self, alerts: Sequence[AlertRecord]) -> str | None:
        self.sent.extend(alerts)
        return None


def test_a_full_pass_on_each_backend(db_url: str, feed_server: FeedServer) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    config = parse_config(
        {
            "database": {"url": db_url},
            "feeds": [{"url": feed_server.url("/f")}],
            "watches": [{"name": n, "query": q} for n, q in WATCHES.items()],
        }
    )

    async def once(recorder: _Recorder) -> None:
        app = App(config, notifiers={CONSOLE: recorder})
        try:
            await app.run_once()
        finally:
            await app.aclose()

    first, second = _Recorder(), _Recorder()
    asyncio.run(once(first))
    asyncio.run(once(second))
    assert [a.title for a in first.sent] == [FSD]
    assert second.sent == []
    db = open_database(db_url)
    try:
        [delivered] = alert_queries.delivered_alerts(db)
        assert delivered.watches == ("Tesla FSD in China",)
        assert delivered.published_at is not None and delivered.published_at.tzinfo is not None
    finally:
        db.close()


def test_unusable_database_urls_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_database(f"sqlite:///{tmp_path / 'missing-dir' / 'n.db'}")
    with pytest.raises(StorageError, match="not a database URL"):
        open_database("not a url")
    with pytest.raises(StorageError, match="database"):
        open_database("postgresql+psycopg://nobody@127.0.0.1:1/none")
