"""Queries about the outbox: pending alerts, marking them sent, the delivered history.

Delivery is at-least-once towards the notifier and exactly-once in the
database: an alert is marked sent only after the notifier returns, and a
second alert for the same (chat, item) cannot exist (unique constraint).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from storage.db import Database
from storage.models import Alert, Feed, Item, Match
from storage.records import AlertRecord
from storage.stories import StoryItem, story_items

__all__ = [
    "alerts_to_edit",
    "delivered_alerts",
    "mark_edited",
    "mark_failed",
    "mark_sent",
    "mark_skipped",
    "pending_alerts",
]


def pending_alerts(db: Database, limit: int = 500) -> list[AlertRecord]:
    """Alerts not yet confirmed by the notifier, oldest first."""
    query = _joined().where(col(Alert.status) == "pending").order_by(col(Alert.id)).limit(limit)
    with db.session() as session:
        return _records(session, list(session.exec(query)))


def delivered_alerts(db: Database, limit: int = 50) -> list[AlertRecord]:
    """Alerts the notifier confirmed, newest first."""
    query = (
        _joined()
        .where(col(Alert.status) == "sent")
        .order_by(col(Alert.sent_at).desc(), col(Alert.id).desc())
        .limit(limit)
    )
    with db.session() as session:
        return _records(session, list(session.exec(query)))


def alerts_to_edit(db: Database, now: datetime, every: timedelta) -> list[AlertRecord]:
    """Sent alerts whose story gained items since the message was last edited, and that
    were not edited in the last ``every`` (one edit per story per minute, not per item)."""
    stale = or_(col(Alert.edited_at).is_(None), col(Alert.edited_at) < col(Alert.grown_at))
    rested = or_(col(Alert.edited_at).is_(None), col(Alert.edited_at) <= now - every)
    query = (
        _joined()
        .where(col(Alert.status) == "sent", col(Alert.grown_at).is_not(None), stale, rested)
        .where(col(Alert.message_id).is_not(None))
        .order_by(col(Alert.id))
    )
    with db.session() as session:
        return _records(session, list(session.exec(query)))


def mark_edited(db: Database, alert_id: int, now: datetime) -> None:
    with db.session() as session:
        session.execute(update(Alert).where(col(Alert.id) == alert_id).values(edited_at=now))


def mark_sent(db: Database, alert_id: int, now: datetime, message_id: str | None = None) -> bool:
    """Record the notifier's confirmation. False if it was already marked (nothing changes)."""
    with db.session() as session:
        result = session.execute(
            update(Alert)
            .where(col(Alert.id) == alert_id, col(Alert.status) == "pending")
            .values(status="sent", sent_at=now, message_id=message_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_skipped(db: Database, alert_id: int, reason: str) -> None:
    """Close an alert without sending it (every watch it is for is muted in its chat)."""
    with db.session() as session:
        session.execute(
            update(Alert)
            .where(col(Alert.id) == alert_id, col(Alert.status) == "pending")
            .values(status="skipped", last_error=reason)
        )


def mark_failed(db: Database, alert_id: int, error: str) -> None:
    """Count a failed attempt; the alert stays pending and is tried again later."""
    with db.session() as session:
        session.execute(
            update(Alert)
            .where(col(Alert.id) == alert_id)
            .values(attempts=Alert.attempts + 1, last_error=error)
        )


def _joined() -> Select[Alert, Item, Feed]:
    return (
        select(Alert, Item, Feed)
        .join(Item, col(Item.id) == col(Alert.item_id))
        .join(Feed, col(Feed.id) == col(Item.feed_id))
    )


def _records(session: Session, rows: list[tuple[Alert, Item, Feed]]) -> list[AlertRecord]:
    members = _members(session, [item for _, item, _ in rows])
    item_ids = {item.id for _, item, _ in rows} | {
        other for group in members.values() for other, _, _ in group
    }
    by_item: dict[int, list[Match]] = defaultdict(list)
    if item_ids:
        matches = session.exec(
            select(Match).where(col(Match.item_id).in_(item_ids)).order_by(col(Match.id))
        )
        for match in matches:
            by_item[match.item_id].append(match)
    records = []
    for alert, item, feed in rows:
        assert alert.id is not None and item.id is not None and alert.created_at is not None
        found = by_item.get(item.id, [])
        group = members.get(item.id, [])
        story_watches = [m.watch for m in found]
        story_watches += [m.watch for other, _, _ in group for m in by_item.get(other, [])]
        records.append(
            AlertRecord(
                id=alert.id,
                chat=alert.chat,
                item_id=item.id,
                title=item.title,
                url=item.url,
                summary=item.summary,
                feed=feed.name or feed.title or feed.url,
                published_at=item.published_at,
                created_at=alert.created_at,
                sent_at=alert.sent_at,
                watches=tuple(m.watch for m in found),
                explanations=tuple(m.explanation for m in found),
                message_id=alert.message_id,
                story=alert.story_id,
                also=tuple((name, url) for _, name, url in group),
                story_watches=tuple(dict.fromkeys(story_watches)),
            )
        )
    return records


def _members(session: Session, items: list[Item]) -> dict[int, list[StoryItem]]:
    """For each item, the other items of its story: (id, feed name, URL), oldest first."""
    by_story = story_items(session, {i.story_id for i in items if i.story_id is not None})
    return {
        item.id: [member for member in by_story.get(item.story_id, []) if member[0] != item.id]
        for item in items
        if item.id is not None and item.story_id is not None
    }
