"""The tables. Their history lives in ``storage/migrations``; a test checks the two agree.

Unique constraints carry the rules that must survive crashes and races:
one row per (feed, item identity), one match per (item, watch), one alert per
(chat, item). Application code never checks these first and hopes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from storage.columns import UTCDateTime

__all__ = ["Alert", "Chat", "Digest", "Feed", "Item", "Match", "Mute"]


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Feed(SQLModel, table=True):
    """A feed from the config, with everything polling has learnt about it."""

    __tablename__ = "feeds"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    name: str | None = Field(default=None, sa_column=Column(Text))
    title: str | None = Field(default=None, sa_column=Column(Text))
    active: bool = Field(default=True)
    fetch_url: str | None = Field(default=None, sa_column=Column(Text))
    etag: str | None = Field(default=None, sa_column=Column(Text))
    last_modified: str | None = Field(default=None, sa_column=Column(Text))
    last_polled_at: datetime | None = _ts()
    last_status: str | None = Field(default=None, sa_column=Column(Text))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = Field(default=0)
    first_success_at: datetime | None = _ts()
    next_poll_at: datetime | None = _ts()
    lease_until: datetime | None = _ts()


class Item(SQLModel, table=True):
    """One entry of one feed, identified by ``key`` (guid, canonical link or hash)."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("feed_id", "key", name="uq_items_feed_key"),
        Index("ix_items_fetched_at", "fetched_at"),
        Index("ix_items_canonical_url", "canonical_url"),
        Index("ix_items_story_id", "story_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(
        sa_column=Column(Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False)
    )
    key: str = Field(sa_column=Column(Text, nullable=False))
    url: str | None = Field(default=None, sa_column=Column(Text))
    canonical_url: str | None = Field(default=None, sa_column=Column(Text))
    title: str = Field(sa_column=Column(Text, nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime | None = _ts()
    fetched_at: datetime | None = _ts(nullable=False)
    story_id: int | None = Field(default=None)  # the id of the story's first item


class Match(SQLModel, table=True):
    """A watch that matched an item, with the JSON explanation of why."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("item_id", "watch", name="uq_matches_item_watch"),
        Index("ix_matches_watch_matched_at", "watch", "matched_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False)
    )
    watch: str = Field(sa_column=Column(Text, nullable=False))
    explanation: str = Field(sa_column=Column(Text, nullable=False))
    matched_at: datetime | None = _ts(nullable=False)


class Alert(SQLModel, table=True):
    """The outbox: one row per (chat, item), pending until the notifier confirms it."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("chat", "item_id", name="uq_alerts_chat_item"),
        Index("uq_alerts_chat_story", "chat", "story_id", unique=True),
        Index("ix_alerts_status_id", "status", "id"),
        Index("ix_alerts_sent_at", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False)
    )
    chat: str = Field(sa_column=Column(Text, nullable=False))
    story_id: int | None = Field(default=None)  # one alert per chat and story
    status: str = Field(default="pending", sa_column=Column(Text, nullable=False))
    created_at: datetime | None = _ts(nullable=False)
    sent_at: datetime | None = _ts()
    message_id: str | None = Field(default=None, sa_column=Column(Text))
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    grown_at: datetime | None = _ts()  # another item joined the story after this alert
    edited_at: datetime | None = _ts()  # the sent message was last edited to show it


class Chat(SQLModel, table=True):
    """A chat that alerts go to, when it is not simply reachable (e.g. the bot was blocked)."""

    __tablename__ = "chats"

    chat: str = Field(sa_column=Column(Text, primary_key=True))
    active: bool = Field(default=True)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    changed_at: datetime | None = _ts(nullable=False)
    paused: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class Mute(SQLModel, table=True):
    """A watch a chat does not want instant alerts for, until a time."""

    __tablename__ = "mutes"

    chat: str = Field(sa_column=Column(Text, primary_key=True))
    watch: str = Field(sa_column=Column(Text, primary_key=True))
    until: datetime | None = _ts(nullable=False)


class Digest(SQLModel, table=True):
    """One daily digest of one chat: the unique (chat, local day) makes it exactly one."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("chat", "local_date", name="uq_digests_chat_day"),)

    id: int | None = Field(default=None, primary_key=True)
    chat: str = Field(sa_column=Column(Text, nullable=False))
    local_date: str = Field(sa_column=Column(Text, nullable=False))  # YYYY-MM-DD in the chat's zone
    status: str = Field(default="pending", sa_column=Column(Text, nullable=False))
    created_at: datetime | None = _ts(nullable=False)
    sent_at: datetime | None = _ts()
    message_ids: str | None = Field(default=None, sa_column=Column(Text))
