"""Queries about daily digests: claiming a chat's day, recording it sent, and what goes in it.

Exactly one digest per chat and local day is the database's decision, not the
application's: :func:`claim_digest` inserts a pending row and the unique
(chat, local_date) constraint lets exactly one of any number of racing
callers (tasks, threads, processes, machines) succeed. The claim is made
BEFORE anything is sent; a failed send releases it so a later try can claim
the day again, and a successful one marks it sent.

A digest covers the matches since the previous SENT digest's ``created_at``
up to its own, so consecutive digests neither repeat nor skip a match, and a
day whose digest failed is covered by the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.db import Database
from storage.models import Digest, Feed, Item, Match
from storage.stories import story_items

__all__ = [
    "LOOKBACK",
    "DigestEntry",
    "claim_digest",
    "last_sent_date",
    "mark_digest_sent",
    "matches_between",
    "previous_digest_at",
    "release_digest",
]

LOOKBACK = timedelta(hours=24)  # a chat's first digest covers this much


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One match as a digest shows it: the watch, the item and the feed it came from."""

    watch: str
    title: str
    url: str | None
    summary: str
    feed: str
    published_at: datetime | None
    matched_at: datetime
    story_id: int | None = None  # entries of one story share it
    outlets: tuple[str, ...] = ()  # the feeds of every item of the story, first first

    @property
    def when(self) -> datetime:
        """The moment the digest sorts by: when it was published, else when we matched it."""
        return self.published_at or self.matched_at


def claim_digest(
    db: Database,
    chat: str,
    local_date: str,
    now: datetime,
    *,
    stale_after: timedelta | None = None,
) -> bool:
    """Take the (chat, local day) digest; False if it is already taken.

    The insert is the whole check: two callers racing get exactly one True.
    With ``stale_after``, a claim still pending after that long (its process
    died between claiming and recording) is taken over by one conditional
    UPDATE, so a crash costs a late digest rather than none that day.
    """
    try:
        with db.session() as session:
            session.execute(
                insert(Digest).values(
                    chat=chat, local_date=local_date, status="pending", created_at=now
                )
            )
        return True
    except IntegrityError:
        pass
    if stale_after is None:
        return False
    with db.session() as session:
        result = session.execute(
            update(Digest)
            .where(
                col(Digest.chat) == chat,
                col(Digest.local_date) == local_date,
                col(Digest.status) == "pending",
                col(Digest.created_at) < now - stale_after,
            )
            .values(created_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release_digest(
    db: Database, chat: str, local_date: str, claimed_at: datetime | None = None
) -> bool:
    """Give back a claim that was not delivered, so a later try can claim the day again.

    A sent digest is never released. With ``claimed_at`` (the ``now`` given to
    :func:`claim_digest`), only that claim is released, not one that another
    process took over since. True if a row was deleted.
    """
    conditions = [
        col(Digest.chat) == chat,
        col(Digest.local_date) == local_date,
        col(Digest.status) == "pending",
    ]
    if claimed_at is not None:
        conditions.append(col(Digest.created_at) == claimed_at)
    with db.session() as session:
        result = session.execute(delete(Digest).where(*conditions))
        return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_digest_sent(
    db: Database, chat: str, local_date: str, now: datetime, message_ids: list[str]
) -> bool:
    """Record that the day's digest went out (message ids comma-separated); False if the
    claim was not pending any more (nothing changes then)."""
    with db.session() as session:
        result = session.execute(
            update(Digest)
            .where(
                col(Digest.chat) == chat,
                col(Digest.local_date) == local_date,
                col(Digest.status) == "pending",
            )
            .values(status="sent", sent_at=now, message_ids=",".join(message_ids))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def previous_digest_at(db: Database, chat: str) -> datetime | None:
    """The end of the window the chat's last sent digest covered (its ``created_at``)."""
    query = (
        select(Digest.created_at)
        .where(col(Digest.chat) == chat, col(Digest.status) == "sent")
        .order_by(col(Digest.created_at).desc())
        .limit(1)
    )
    with db.session() as session:
        return session.exec(query).first()


def last_sent_date(db: Database, chat: str) -> str | None:
    """The local date ("YYYY-MM-DD") of the chat's latest sent digest, for a scheduler's
    cheap "is it due?" check before it tries to claim."""
    query = select(func.max(col(Digest.local_date))).where(
        col(Digest.chat) == chat, col(Digest.status) == "sent"
    )
    with db.session() as session:
        return session.exec(query).one()


def matches_between(
    db: Database, since: datetime | None, until: datetime, watches: set[str] | None
) -> list[DigestEntry]:
    """Matches with ``since < matched_at <= until`` of these watches (None: all), newest first.

    Without ``since`` (the chat has had no digest yet) the window is the
    :data:`LOOKBACK` before ``until``. Newest means published, falling back to
    matched for undated items.
    """
    if watches is not None and not watches:
        return []
    start = since if since is not None else until - LOOKBACK
    newest = func.coalesce(col(Item.published_at), col(Match.matched_at))
    query = (
        select(Match, Item, Feed)
        .join(Item, col(Item.id) == col(Match.item_id))
        .join(Feed, col(Feed.id) == col(Item.feed_id))
        .where(col(Match.matched_at) > start, col(Match.matched_at) <= until)
        .order_by(newest.desc(), col(Match.id).desc())
    )
    if watches is not None:
        query = query.where(col(Match.watch).in_(sorted(watches)))
    with db.session() as session:
        rows = list(session.exec(query))
        outlets = _outlets(session, {item.story_id for _, item, _ in rows if item.story_id})
    return [_entry(match, item, feed, outlets) for match, item, feed in rows]


def _outlets(session: Session, stories: set[int]) -> dict[int, tuple[str, ...]]:
    """Every feed that carried each story, in the order they did."""
    return {
        story_id: tuple(dict.fromkeys(name for _, name, _ in members))
        for story_id, members in story_items(session, stories).items()
    }


def _entry(
    match: Match, item: Item, feed: Feed, outlets: dict[int, tuple[str, ...]]
) -> DigestEntry:
    assert match.matched_at is not None
    return DigestEntry(
        watch=match.watch,
        title=item.title,
        url=item.url,
        summary=item.summary,
        feed=feed.name or feed.title or feed.url,
        published_at=item.published_at,
        matched_at=match.matched_at,
        story_id=item.story_id,
        outlets=outlets.get(item.story_id, ()) if item.story_id is not None else (),
    )
