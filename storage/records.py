"""Plain values going in and out of storage.

The layers above never see ORM objects: a detached SQLModel row in another
thread is a bug waiting to happen, and these records say exactly what each
query promises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "AlertRecord",
    "FeedSpec",
    "FeedState",
    "FeedSummary",
    "FeedUpdate",
    "NewItem",
    "NewMatch",
    "PollRecord",
    "SaveResult",
    "StoredItem",
    "StoryMember",
    "StoryRef",
]

StoryRef = int | str
"""Where a new item's story is: an existing story's id, or the key of an earlier item
of the same poll (whose story is not stored yet)."""


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed as the config names it."""

    url: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class FeedState:
    """What polling needs to know about a feed before fetching it."""

    id: int
    url: str
    name: str | None
    title: str | None
    fetch_url: str | None
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    first_success_at: datetime | None

    @property
    def display_name(self) -> str:
        return self.name or self.title or self.url


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """What a successful fetch taught us about the feed."""

    title: str | None
    etag: str | None
    last_modified: str | None
    fetch_url: str | None
    next_poll_at: datetime


@dataclass(frozen=True, slots=True)
class NewMatch:
    watch: str
    explanation: str  # JSON, written by watchers.match


@dataclass(frozen=True, slots=True)
class NewItem:
    """A parsed item that storage may not have seen yet, with its matches and alert targets."""

    key: str
    url: str | None
    canonical_url: str | None
    title: str
    summary: str
    published_at: datetime | None
    matches: tuple[NewMatch, ...] = ()
    chats: tuple[str, ...] = ()  # where to alert; empty = store (and match) silently
    # The story it joins, as the story stage found it: a story id, or the key of an
    # earlier item of the same poll. None: a story of its own (unless its canonical
    # URL is already stored, which storage checks and which wins).
    story: StoryRef | None = None


@dataclass(frozen=True, slots=True)
class PollRecord:
    feed_id: int
    now: datetime  # when the poll started: fetched_at, last_polled_at
    update: FeedUpdate
    items: tuple[NewItem, ...]
    # When the matches were made, just before saving (default: ``now``). Digests window
    # on it, so it must not trail the commit by a whole fetch, or a digest running
    # during the fetch would skip these matches for good.
    matched_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What one poll's transaction wrote: only items that were really new count."""

    new_items: int
    new_matches: int
    new_alerts: int


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert joined with its item, feed and matches: everything a notifier shows."""

    id: int
    chat: str
    item_id: int
    title: str
    url: str | None
    summary: str
    feed: str
    published_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    watches: tuple[str, ...]
    explanations: tuple[str, ...] = field(default=())  # JSON per watch, same order
    message_id: str | None = None  # the channel's id for the sent message
    story: int | None = None  # the story's id: one alert per chat and story
    also: tuple[tuple[str, str | None], ...] = ()  # the story's other items: (feed, URL)
    story_watches: tuple[str, ...] = ()  # watches any item of the story matched


@dataclass(frozen=True, slots=True)
class StoryMember:
    """A stored item as the story stage compares it: its text, story and times."""

    id: int
    story_id: int
    title: str
    lead: str  # the start of the summary, as much as story identity reads
    published_at: datetime | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class StoredItem:
    id: int
    feed: str
    title: str
    summary: str
    url: str | None
    published_at: datetime | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class FeedSummary:
    """One row of `newshound feeds`."""

    url: str
    name: str
    active: bool
    last_polled_at: datetime | None
    last_status: str | None
    items: int
    consecutive_failures: int
    last_error: str | None
    next_poll_at: datetime | None
