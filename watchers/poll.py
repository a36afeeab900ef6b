"""Polling one feed end to end: fetch -> parse -> identify -> (new only) match -> story ->
one transaction.

This is the only module of ``watchers`` that meets storage, and it is the
feed boundary: every expected failure (:class:`~watchers.errors.WatcherError`)
and every unexpected one is caught here, recorded against the feed with its
reason, and turned into an outcome, so one bad feed never stops the others.

Storage is synchronous; it and the CPU-heavy stages (parsing, matching) run
through ``asyncio.to_thread`` so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from storage import feeds as feed_queries
from storage import items as item_queries
from storage.db import Database
from storage.records import FeedState, FeedUpdate, NewItem, NewMatch, PollRecord, SaveResult
from watchers.errors import FetchError, WatcherError
from watchers.fetch import Fetcher, FetchResult
from watchers.identity import IdentifiedItem, identify
from watchers.match import Watchlist
from watchers.parse import ParsedFeed, parse_feed
from watchers.schedule import next_poll_at
from watchers.story_index import StoryIndex

__all__ = [
    "PollContext",
    "PollOutcome",
    "Router",
    "alert_chats",
    "match_items",
    "poll_feed",
    "save_with_stories",
]

log = logging.getLogger(__name__)

Router = Callable[[Sequence[str]], tuple[str, ...]]
"""Maps the names of the watches an item matched to the chats that should be alerted."""


@dataclass(frozen=True, slots=True)
class PollContext:
    """What every poll needs; built once by the application."""

    db: Database
    fetcher: Fetcher
    watchlist: Callable[[], Watchlist]  # read at each poll, so a reloaded watchlist applies
    route: Router
    first_poll_max_age: timedelta = timedelta(hours=24)
    stories: StoryIndex = field(default_factory=StoryIndex)  # one per process: it is a cache


@dataclass(frozen=True, slots=True)
class PollOutcome:
    feed: str
    url: str
    status: str  # ok | not_modified | error
    entries: int = 0
    new_items: int = 0
    new_matches: int = 0
    new_alerts: int = 0
    error: str | None = None


async def poll_feed(
    ctx: PollContext, feed: FeedState, interval: timedelta, now: datetime | None = None
) -> PollOutcome:
    """Poll ``feed`` once (the caller holds its lease) and record the result."""
    now = now or datetime.now(UTC)
    started = time.monotonic()  # the caller's clock may be simulated: measure elapsed time
    name = feed.display_name
    try:
        fetched = await ctx.fetcher.fetch(
            feed.fetch_url or feed.url, etag=feed.etag, last_modified=feed.last_modified
        )
        if fetched.not_modified:
            await asyncio.to_thread(
                feed_queries.record_not_modified, ctx.db, feed.id, now, next_poll_at(now, interval)
            )
            log.info("poll feed=%r status=not_modified", name)
            return PollOutcome(name, feed.url, "not_modified")
        parsed, items = await asyncio.to_thread(_parse_and_identify, fetched)
        outcome = await _store(ctx, feed, interval, now, started, fetched, parsed, items)
    except WatcherError as exc:
        return await _failed(ctx, feed, interval, now, exc.reason, exc)
    except Exception as exc:  # a bug or a broken database: log loudly, keep the others going
        log.exception("poll feed=%r failed unexpectedly", name)
        return await _failed(ctx, feed, interval, now, f"internal error: {exc!r}", None)
    log.info(
        "poll feed=%r status=ok entries=%d new=%d matches=%d alerts=%d",
        name, outcome.entries, outcome.new_items, outcome.new_matches, outcome.new_alerts,
    )  # fmt: skip
    return outcome


def alert_chats(
    item: IdentifiedItem,
    watches: Sequence[str],
    *,
    route: Router,
    first_poll: bool,
    now: datetime,
    max_age: timedelta,
) -> tuple[str, ...]:
    """Who to alert about a new item: nobody unless it matched; on a feed's first
    poll, nobody for items older than ``max_age`` or undated (they predate the
    subscription, and alerting them would flood the chat)."""
    if not watches:
        return ()
    if first_poll and (item.published_at is None or item.published_at < now - max_age):
        return ()
    return route(watches)


def _parse_and_identify(fetched: FetchResult) -> tuple[ParsedFeed, list[IdentifiedItem]]:
    parsed = parse_feed(fetched.content, content_type=fetched.content_type, url=fetched.final_url)
    return parsed, identify(parsed.entries)


async def _store(
    ctx: PollContext,
    feed: FeedState,
    interval: timedelta,
    now: datetime,
    started: float,
    fetched: FetchResult,
    parsed: ParsedFeed,
    items: list[IdentifiedItem],
) -> PollOutcome:
    unknown = await asyncio.to_thread(
        item_queries.unknown_keys, ctx.db, feed.id, [item.key for item in items]
    )
    fresh = [item for item in items if item.key in unknown]
    watchlist = ctx.watchlist()
    new_items = await asyncio.to_thread(_match_all, ctx, feed, now, watchlist, fresh)
    record = PollRecord(
        feed_id=feed.id,
        now=now,
        update=FeedUpdate(
            title=parsed.title,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            fetch_url=fetched.moved_to or feed.fetch_url,
            next_poll_at=next_poll_at(now, interval),
        ),
        items=tuple(new_items),
        matched_at=now + timedelta(seconds=time.monotonic() - started),
    )
    saved = await asyncio.to_thread(save_with_stories, ctx.db, ctx.stories, record)
    return PollOutcome(
        feed=feed.name or parsed.title or feed.url,
        url=feed.url,
        status="ok",
        entries=len(items),
        new_items=saved.new_items,
        new_matches=saved.new_matches,
        new_alerts=saved.new_alerts,
    )


def save_with_stories(db: Database, stories: StoryIndex, record: PollRecord) -> SaveResult:
    """The story stage, then the poll's transaction (blocking: run it in a thread).

    Under the index's lock from the refresh before assigning to the refresh
    after saving, so concurrent polls see each other's items in turn.
    """
    with stories.lock:
        stories.refresh(db, record.now)
        record = replace(record, items=tuple(stories.assign(record.items)))
        saved = item_queries.save_poll(db, record)
        stories.refresh(db, record.now)
    return saved


def _match_all(
    ctx: PollContext,
    feed: FeedState,
    now: datetime,
    watchlist: Watchlist,
    items: list[IdentifiedItem],
) -> list[NewItem]:
    return match_items(
        items,
        watchlist,
        route=ctx.route,
        first_poll=feed.first_success_at is None,
        now=now,
        max_age=ctx.first_poll_max_age,
    )


def match_items(
    items: Sequence[IdentifiedItem],
    watchlist: Watchlist,
    *,
    route: Router,
    first_poll: bool,
    now: datetime,
    max_age: timedelta,
) -> list[NewItem]:
    """The match stage: new items with their hits, explanations and the chats to alert."""
    out = []
    for item in items:
        hits = watchlist.match(item.title, item.summary)
        watches = [hit.watch for hit in hits]
        out.append(
            NewItem(
                key=item.key,
                url=item.url,
                canonical_url=item.canonical_url,
                title=item.title,
                summary=item.summary,
                published_at=item.published_at,
                matches=tuple(NewMatch(hit.watch, hit.explanation_json()) for hit in hits),
                chats=alert_chats(
                    item, watches, route=route, first_poll=first_poll, now=now, max_age=max_age
                ),
            )
        )
    return out


async def _failed(
    ctx: PollContext,
    feed: FeedState,
    interval: timedelta,
    now: datetime,
    reason: str,
    exc: WatcherError | None,
) -> PollOutcome:
    retry_after = exc.retry_after if isinstance(exc, FetchError) else None
    when = next_poll_at(
        now, interval, failures=feed.consecutive_failures + 1, retry_after=retry_after
    )
    log.warning("poll feed=%r status=error reason=%s", feed.display_name, reason)
    try:
        await asyncio.to_thread(feed_queries.record_failure, ctx.db, feed.id, now, reason, when)
    except Exception:
        log.exception("feed=%r: could not record the failure", feed.display_name)
    return PollOutcome(feed.display_name, feed.url, "error", error=reason)
