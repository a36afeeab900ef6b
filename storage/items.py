"""Queries about items: which are new, and the one transaction that saves a poll.

Storage decides what is new. :func:`unknown_keys` lets the caller skip
matching items it has seen before, but the decision that counts is the insert
in :func:`save_poll`: ``ON CONFLICT DO NOTHING`` on (feed, key), and matches
and alerts are written only for rows that insert really created. A race with
another worker, or a retry after a crash, therefore never doubles anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import Table, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from storage.db import Database
from storage.models import Alert, Feed, Item, Match
from storage.records import NewItem, PollRecord, SaveResult, StoredItem
from storage.stories import assign_stories, schemeless, schemes

__all__ = ["item_pages_since", "items_since", "save_poll", "unknown_keys"]

_CHUNK = 500  # stay well under SQLite's bound-parameter limit


def unknown_keys(db: Database, feed_id: int, keys: Iterable[str]) -> set[str]:
    """The subset of ``keys`` this feed has not stored yet."""
    wanted = list(dict.fromkeys(keys))
    known: set[str] = set()
    with db.session() as session:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = select(Item.key).where(col(Item.feed_id) == feed_id, col(Item.key).in_(chunk))
            known.update(session.exec(query))
    return {key for key in wanted if key not in known}


def save_poll(db: Database, poll: PollRecord) -> SaveResult:
    """Write a successful poll in ONE transaction: feed state, new items, matches, alerts.

    A crash before the commit leaves nothing half-written; the next poll
    simply finds the same items new again. Rows go in as batched multi-row
    statements, not one round trip per item.
    """
    with db.session() as session:
        inserted = _insert_items(session, db.dialect, poll)
        fresh = [item for item in poll.items if item.key in inserted]
        stories = assign_stories(session, [(item, inserted[item.key]) for item in fresh])
        matches = [
            {"item_id": inserted[i.key], "watch": m.watch, "explanation": m.explanation,
             "matched_at": poll.matched_at or poll.now}
            for i in fresh for m in i.matches
        ]  # fmt: skip
        alerts = [
            {"item_id": inserted[i.key], "chat": chat, "status": "pending",
             "created_at": poll.now, "attempts": 0, "story_id": stories[i.key]}
            for i in fresh for chat in dict.fromkeys(i.chats)
        ]  # fmt: skip
        if matches:
            session.execute(insert(_table(Match)), matches)
        new_alerts = _insert_alerts(session, db.dialect, alerts) if alerts else 0
        u = poll.update
        session.execute(
            update(Feed)
            .where(col(Feed.id) == poll.feed_id)
            .values(
                title=u.title,
                etag=u.etag,
                last_modified=u.last_modified,
                fetch_url=u.fetch_url,
                last_polled_at=poll.now,
                last_status="ok",
                last_error=None,
                consecutive_failures=0,
                next_poll_at=u.next_poll_at,
                lease_until=None,
                first_success_at=func.coalesce(Feed.first_success_at, poll.now),
            )
        )
    return SaveResult(new_items=len(fresh), new_matches=len(matches), new_alerts=new_alerts)


def items_since(db: Database, since: datetime, limit: int | None = None) -> list[StoredItem]:
    """Stored items fetched since ``since``, newest first (backtests, searches)."""
    query = (
        select(Item, Feed)
        .join(Feed, col(Feed.id) == col(Item.feed_id))
        .where(col(Item.fetched_at) >= since)
        .order_by(col(Item.fetched_at).desc(), col(Item.id).desc())
    )
    if limit is not None:
        query = query.limit(limit)
    with db.session() as session:
        return [_stored(item, feed) for item, feed in session.exec(query)]


def item_pages_since(db: Database, since: datetime, page: int = 1000) -> Iterator[list[StoredItem]]:
    """Stored items fetched since ``since``, oldest first, a page at a time (bounded memory)."""
    after = 0
    while True:
        query = (
            select(Item, Feed)
            .join(Feed, col(Feed.id) == col(Item.feed_id))
            .where(col(Item.fetched_at) >= since, col(Item.id) > after)
            .order_by(col(Item.id))
            .limit(page)
        )
        with db.session() as session:
            rows = [_stored(item, feed) for item, feed in session.exec(query)]
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _stored(item: Item, feed: Feed) -> StoredItem:
    assert item.id is not None and item.fetched_at is not None
    return StoredItem(
        id=item.id,
        feed=feed.name or feed.title or feed.url,
        title=item.title,
        summary=item.summary,
        url=item.url,
        published_at=item.published_at,
        fetched_at=item.fetched_at,
    )


def _insert_items(session: Session, dialect: str, poll: PollRecord) -> dict[str, int]:
    """Insert the poll's items, skipping keys already stored; returns {key: id} of new rows."""
    items = list({item.key: item for item in reversed(poll.items)}.values())[::-1]
    items = _without_republished(session, poll.feed_id, items)
    if not items:
        return {}
    table = _table(Item)
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=["feed_id", "key"])
        .returning(table.c.key, table.c.id)
    )
    rows = [
        {"feed_id": poll.feed_id, "key": i.key, "url": i.url, "canonical_url": i.canonical_url,
         "title": i.title, "summary": i.summary, "published_at": i.published_at,
         "fetched_at": poll.now}
        for i in items
    ]  # fmt: skip
    return {key: int(item_id) for key, item_id in session.execute(statement, rows)}


def _without_republished(session: Session, feed_id: int, items: list[NewItem]) -> list[NewItem]:
    """Drop items this feed already has under another key: same canonical URL, http or
    https alike. Feeds change guids (http -> https, an edited slug) while the article
    stays where it is; that is the same item, not news."""
    urls = {variant for i in items if i.canonical_url for variant in schemes(i.canonical_url)}
    if not urls:
        return items
    query = select(Item.canonical_url).where(
        col(Item.feed_id) == feed_id, col(Item.canonical_url).in_(urls)
    )
    seen = {schemeless(url) for url in session.exec(query) if url}
    kept = []
    for item in items:
        if item.canonical_url:
            if schemeless(item.canonical_url) in seen:
                continue
            seen.add(schemeless(item.canonical_url))  # and twice in one document: once
        kept.append(item)
    return kept


def _insert_alerts(session: Session, dialect: str, rows: list[dict[str, object]]) -> int:
    """Insert alerts one by one; a chat that already has one for the story (another
    outlet's item, or an earlier item of this poll) gets no second alert: its existing one
    is marked grown, to be edited in place. Returns how many alerts went in."""
    table = _table(Alert)
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = dialect_insert(table).on_conflict_do_nothing().returning(table.c.id)
    inserted = 0
    for row in rows:
        if session.execute(statement, row).first() is not None:
            inserted += 1
            continue
        session.execute(
            update(table)
            .where(table.c.chat == row["chat"], table.c.story_id == row["story_id"])
            .values(grown_at=row["created_at"])
        )
    return inserted


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]
