"""What chats steer from Telegram, and what the bot's commands read back.

Mutes and pauses live in the database, not in memory, so a restart (or a second
process) sees the same settings the chat asked for. Each function is one short
transaction; the bot calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from storage.chats import set_chat_active
from storage.db import Database
from storage.models import Alert, Chat, Feed, Item, Match, Mute

__all__ = [
    "AlertTarget",
    "RecentMatch",
    "active_mutes",
    "alert_target",
    "match_counts_since",
    "mute",
    "paused_chats",
    "reactivate",
    "recent_matches",
    "set_paused",
    "unmute",
]


@dataclass(frozen=True, slots=True)
class RecentMatch:
    """One stored match with its item: a line of ``/recent``."""

    item_id: int
    watch: str
    title: str
    summary: str
    url: str | None
    feed: str
    published_at: datetime | None
    matched_at: datetime


@dataclass(frozen=True, slots=True)
class AlertTarget:
    """The chat an alert went to and the watches its item matched (in match order)."""

    chat: str
    watches: tuple[str, ...]


def mute(db: Database, chat: str, watch: str, until: datetime) -> None:
    """Mute ``watch`` in ``chat`` until ``until``; muting again moves the end.

    An upsert, not get-then-insert, so two presses racing in two processes end in
    one row instead of a unique-constraint error.
    """
    dialect_insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
    table = Mute.__table__  # type: ignore[attr-defined]
    statement = (
        dialect_insert(table)
        .values(chat=chat, watch=watch, until=until)
        .on_conflict_do_update(index_elements=["chat", "watch"], set_={"until": until})
    )
    with db.session() as session:
        session.execute(statement)


def unmute(db: Database, chat: str, watch: str) -> bool:
    """Lift a mute; False if there was none (expired ones count as there)."""
    with db.session() as session:
        row = session.get(Mute, (chat, watch))
        if row is None:
            return False
        session.delete(row)
        return True


def active_mutes(db: Database, now: datetime) -> dict[str, dict[str, datetime]]:
    """Unexpired mutes: chat -> watch -> until. Expired rows are simply ignored."""
    query = select(Mute).where(col(Mute.until) > now)
    out: dict[str, dict[str, datetime]] = {}
    with db.session() as session:
        for row in session.exec(query):
            assert row.until is not None
            out.setdefault(row.chat, {})[row.watch] = row.until
    return out


def set_paused(db: Database, chat: str, paused: bool, now: datetime) -> bool:
    """Pause or resume a chat's alerts; True if that changed anything.

    ``active`` (reachability, see :mod:`storage.chats`) is left as it is, and so is
    ``changed_at`` of an existing row: it dates the last reachability change. A new
    row needs a ``changed_at``, so it gets ``now``.
    """
    with db.session() as session:
        row = session.get(Chat, chat)
        if row is None:
            if not paused:
                return False  # chats are unpaused unless recorded otherwise
            session.add(Chat(chat=chat, active=True, paused=True, changed_at=now))
            return True
        if row.paused == paused:
            return False
        row.paused = paused
        return True


def paused_chats(db: Database) -> set[str]:
    """Chats whose alerts are paused (by /pause)."""
    with db.session() as session:
        return set(session.exec(select(Chat.chat).where(col(Chat.paused).is_(True))))


def reactivate(db: Database, chat: str, now: datetime) -> bool:
    """Mark a chat reachable again (e.g. /start after a 403); True if it was inactive."""
    return set_chat_active(db, chat, True, now, None)


def match_counts_since(db: Database, since: datetime) -> dict[str, int]:
    """Matches per watch made since ``since`` (watches without any are absent)."""
    query = (
        select(Match.watch, func.count())
        .where(col(Match.matched_at) >= since)
        .group_by(col(Match.watch))
    )
    with db.session() as session:
        return {watch: int(n) for watch, n in session.exec(query)}


def recent_matches(
    db: Database, watch: str | None, limit: int, *, among: Collection[str] | None = None
) -> list[RecentMatch]:
    """The newest matches, newest first: of ``watch``, or of any watch in ``among`` (any
    watch at all if both are None). An item that matched several of them is listed once,
    under its latest match."""
    latest = select(func.max(Match.id))
    if watch is not None:
        latest = latest.where(col(Match.watch) == watch)
    elif among is not None:
        latest = latest.where(col(Match.watch).in_(list(among)))
    latest = latest.group_by(col(Match.item_id))
    query = (
        select(Match, Item, Feed)
        .join(Item, col(Item.id) == col(Match.item_id))
        .join(Feed, col(Feed.id) == col(Item.feed_id))
        .where(col(Match.id).in_(latest.scalar_subquery()))
        .order_by(col(Match.matched_at).desc(), col(Match.id).desc())
        .limit(limit)
    )
    with db.session() as session:
        rows = list(session.exec(query))
    records = []
    for match, item, feed in rows:
        assert item.id is not None and match.matched_at is not None
        records.append(
            RecentMatch(
                item_id=item.id,
                watch=match.watch,
                title=item.title,
                summary=item.summary,
                url=item.url,
                feed=feed.name or feed.title or feed.url,
                published_at=item.published_at,
                matched_at=match.matched_at,
            )
        )
    return records


def alert_target(db: Database, alert_id: int) -> AlertTarget | None:
    """The chat of an alert and its item's watches, for resolving an alert's inline button
    (whose 64-byte callback data holds the alert id, not the watch name); None if the
    alert does not exist (any more)."""
    with db.session() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return None
        watches = session.exec(
            select(Match.watch).where(col(Match.item_id) == alert.item_id).order_by(col(Match.id))
        )
        return AlertTarget(chat=alert.chat, watches=tuple(watches))
