"""Queries about chats: which ones cannot be reached, so delivery skips them and keeps their
alerts (a blocked bot, a kicked one), until they are reactivated."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from storage.db import Database
from storage.models import Chat

__all__ = ["inactive_chats", "set_chat_active"]


def inactive_chats(db: Database) -> dict[str, str]:
    """Chats that delivery must skip, with the reason each was deactivated."""
    with db.session() as session:
        rows = session.exec(select(Chat).where(col(Chat.active).is_(False)))
        return {row.chat: row.reason or "" for row in rows}


def set_chat_active(
    db: Database, chat: str, active: bool, now: datetime, reason: str | None = None
) -> bool:
    """Record a chat's reachability; True if that changed anything."""
    with db.session() as session:
        row = session.get(Chat, chat)
        if row is None:
            if active:
                return False  # chats are active unless recorded otherwise
            session.add(Chat(chat=chat, active=False, reason=reason, changed_at=now))
            return True
        if row.active == active:
            return False
        row.active, row.reason, row.changed_at = active, reason, now
        return True
