"""Queries about feeds: syncing them from the config, leasing them for a poll, recording results.

A lease (``lease_until``) is taken with one conditional UPDATE, so two
workers (or two overlapping ticks) never poll the same feed at once; a
crashed worker's lease simply expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import col, select

from storage.db import Database
from storage.models import Feed, Item
from storage.records import FeedSpec, FeedState, FeedSummary

__all__ = [
    "claim_feed",
    "due_feed_ids",
    "feed_summaries",
    "record_failure",
    "record_not_modified",
    "sync_feeds",
]


def sync_feeds(db: Database, specs: Sequence[FeedSpec]) -> list[FeedState]:
    """Make the feeds table agree with the config and return the active feeds.

    Feeds dropped from the config are deactivated, never deleted: their items
    and alerts stay, and adding the feed back resumes where it stopped.
    """
    wanted = {spec.url: spec for spec in specs}
    with db.session() as session:
        rows = {feed.url: feed for feed in session.exec(select(Feed))}
        for url, feed in rows.items():
            feed.active = url in wanted
            if url in wanted:
                feed.name = wanted[url].name
        for url, spec in wanted.items():
            if url not in rows:
                rows[url] = Feed(url=url, name=spec.name, active=True, consecutive_failures=0)
                session.add(rows[url])
        session.flush()
        return [_state(rows[url]) for url in wanted]


def claim_feed(
    db: Database, feed_id: int, now: datetime, *, lease: timedelta, force: bool = False
) -> FeedState | None:
    """Lease the feed for one poll if it is due (or ``force``) and nobody holds it."""
    due = or_(col(Feed.next_poll_at).is_(None), col(Feed.next_poll_at) <= now)
    free = or_(col(Feed.lease_until).is_(None), col(Feed.lease_until) < now)
    conditions = [col(Feed.id) == feed_id, col(Feed.active).is_(True), free]
    if not force:
        conditions.append(due)
    with db.session() as session:
        result = session.execute(update(Feed).where(*conditions).values(lease_until=now + lease))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        feed = session.get(Feed, feed_id)
        assert feed is not None
        return _state(feed)


def due_feed_ids(db: Database, now: datetime, limit: int = 1000) -> list[int]:
    """Active feeds whose next poll is due and that nobody holds, most overdue first."""
    query = (
        select(Feed.id)
        .where(
            col(Feed.active).is_(True),
            or_(col(Feed.next_poll_at).is_(None), col(Feed.next_poll_at) <= now),
            or_(col(Feed.lease_until).is_(None), col(Feed.lease_until) < now),
        )
        .order_by(col(Feed.next_poll_at).is_not(None), col(Feed.next_poll_at))
        .limit(limit)
    )
    with db.session() as session:
        return [feed_id for feed_id in session.exec(query) if feed_id is not None]


def record_not_modified(db: Database, feed_id: int, now: datetime, next_poll_at: datetime) -> None:
    """A 304: the feed is healthy and nothing else changes."""
    _finish(
        db,
        feed_id,
        last_polled_at=now,
        last_status="not_modified",
        last_error=None,
        consecutive_failures=0,
        next_poll_at=next_poll_at,
    )


def record_failure(
    db: Database, feed_id: int, now: datetime, reason: str, next_poll_at: datetime
) -> None:
    """A failed poll: keep the reason, count it, and release the lease."""
    with db.session() as session:
        session.execute(
            update(Feed)
            .where(col(Feed.id) == feed_id)
            .values(
                last_polled_at=now,
                last_status="error",
                last_error=reason,
                consecutive_failures=Feed.consecutive_failures + 1,
                next_poll_at=next_poll_at,
                lease_until=None,
            )
        )


def feed_summaries(db: Database) -> list[FeedSummary]:
    """All feeds with their health and item counts, active ones first."""
    counts = select(Item.feed_id, func.count().label("n")).group_by(col(Item.feed_id)).subquery()
    query = (
        select(Feed, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.feed_id == Feed.id)
        .order_by(col(Feed.active).desc(), col(Feed.id))
    )
    with db.session() as session:
        return [
            FeedSummary(
                url=feed.url,
                name=feed.name or feed.title or feed.url,
                active=feed.active,
                last_polled_at=feed.last_polled_at,
                last_status=feed.last_status,
                items=int(n),
                consecutive_failures=feed.consecutive_failures,
                last_error=feed.last_error,
                next_poll_at=feed.next_poll_at,
            )
            for feed, n in session.exec(query)
        ]


def _finish(db: Database, feed_id: int, **values: object) -> None:
    with db.session() as session:
        session.execute(
            update(Feed).where(col(Feed.id) == feed_id).values(lease_until=None, **values)
        )


def _state(feed: Feed) -> FeedState:
    assert feed.id is not None
    return FeedState(
        id=feed.id,
        url=feed.url,
        name=feed.name,
        title=feed.title,
        fetch_url=feed.fetch_url,
        etag=feed.etag,
        last_modified=feed.last_modified,
        consecutive_failures=feed.consecutive_failures,
        first_success_at=feed.first_success_at,
    )
