"""Queries about items: which are new, and the one transaction that saves a poll.

Storage decides what is new. :func:`unknown_keys` lets the caller skip
matching items it has seen before, but the decision that counts is the insert
in :func:`save_poll`: ``ON CONFLICT DO NOTHING`` on (feed, key), and matches
and alerts are written only for rows that insert really created. A race with
another worker, or a retry after a crash, therefore never doubles anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Insert, Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.db import Database
from storage.models import Alert, Feed, Item, Match
from storage.records import NewItem, PollRecord, SaveResult, StoredItem

__all__ = ["items_since", "save_poll", "unknown_keys"]

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
    simply finds the same items new again.
    """
    new_items = new_matches = new_alerts = 0
    with db.session() as session:
        for item in poll.items:
            item_id = _insert_item(session, db.dialect, poll, item)
            if item_id is None:
                continue  # stored by an earlier poll or another worker
            new_items += 1
            for match in item.matches:
                session.add(
                    Match(
                        item_id=item_id,
                        watch=match.watch,
                        explanation=match.explanation,
                        matched_at=poll.now,
                    )
                )
                new_matches += 1
            for chat in dict.fromkeys(item.chats):
                session.add(Alert(item_id=item_id, chat=chat, created_at=poll.now, attempts=0))
                new_alerts += 1
        u = poll.update
        values: dict[str, object] = {
            "title": u.title,
            "etag": u.etag,
            "last_modified": u.last_modified,
            "fetch_url": u.fetch_url,
            "last_polled_at": poll.now,
            "last_status": "ok",
            "last_error": None,
            "consecutive_failures": 0,
            "next_poll_at": u.next_poll_at,
            "lease_until": None,
        }
        session.execute(update(Feed).where(col(Feed.id) == poll.feed_id).values(**values))
        session.execute(
            update(Feed)
            .where(col(Feed.id) == poll.feed_id, col(Feed.first_success_at).is_(None))
            .values(first_success_at=poll.now)
        )
    return SaveResult(new_items=new_items, new_matches=new_matches, new_alerts=new_alerts)


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
        return [
            StoredItem(
                id=item.id or 0,
                feed=feed.name or feed.title or feed.url,
                title=item.title,
                summary=item.summary,
                url=item.url,
                published_at=item.published_at,
                fetched_at=item.fetched_at or since,
            )
            for item, feed in session.exec(query)
        ]


def _insert_item(session: Session, dialect: str, poll: PollRecord, item: NewItem) -> int | None:
    table: Table = Item.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement: Insert = (
        insert(table)
        .values(
            feed_id=poll.feed_id,
            key=item.key,
            url=item.url,
            canonical_url=item.canonical_url,
            title=item.title,
            summary=item.summary,
            published_at=item.published_at,
            fetched_at=poll.now,
        )
        .on_conflict_do_nothing(index_elements=["feed_id", "key"])
        .returning(table.c.id)
    )
    row = session.execute(statement).first()
    return None if row is None else int(row[0])
