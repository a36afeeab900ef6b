"""Queries about stories: the story each new item joins, and the window to compare with.

A story's id is the id of its first item. Which story a new item joins is
decided in two places: the story stage (``watchers``) compares texts and puts
its finding on the item (:attr:`NewItem.story`); :func:`assign_stories`, inside
the poll's transaction, makes it final. An equal canonical URL (http or https
alike) wins over the text comparison: it is the same article, whatever the two
feeds call it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Table, bindparam, func, update
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from storage.db import Database
from storage.models import Feed, Item
from storage.records import NewItem, StoryMember

__all__ = [
    "LEAD",
    "StoryItem",
    "assign_stories",
    "members_since",
    "schemeless",
    "schemes",
    "story_items",
]

LEAD = 200  # characters of the summary that story identity reads (watchers.story uses it)
_CHUNK = 500  # story ids per IN list

StoryItem = tuple[int, str, str | None]
"""One item of a story as alerts and digests name it: (item id, feed name, URL)."""


def story_items(session: Session, story_ids: set[int]) -> dict[int, list[StoryItem]]:
    """Every item of these stories, oldest first: who carried each story, and where."""
    found: dict[int, list[StoryItem]] = {}
    ordered = sorted(story_ids)
    for start in range(0, len(ordered), _CHUNK):
        query = (
            select(Item, Feed)
            .join(Feed, col(Feed.id) == col(Item.feed_id))
            .where(col(Item.story_id).in_(ordered[start : start + _CHUNK]))
            .order_by(col(Item.id))
        )
        for item, feed in session.exec(query):
            assert item.id is not None and item.story_id is not None
            name = feed.name or feed.title or feed.url
            found.setdefault(item.story_id, []).append((item.id, name, item.url))
    return found


def members_since(
    db: Database, since: datetime, after_id: int = 0, page: int = 2000
) -> Iterator[list[StoryMember]]:
    """Items fetched since ``since`` with an id above ``after_id``, oldest first, a page at
    a time: the story stage loads its window with it, then only what was added since."""
    c = _items().c
    lead = func.substr(c.summary, 1, LEAD)  # the rest of a summary never leaves SQL
    columns = (c.id, c.story_id, c.title, lead, c.published_at, c.fetched_at)
    while True:
        query = (
            sql_select(*columns)
            .where(c.fetched_at >= since, c.id > after_id, c.story_id.is_not(None))
            .order_by(c.id)
            .limit(page)
        )
        with db.session() as session:
            rows = [StoryMember(*row) for row in session.execute(query)]
        if not rows:
            return
        yield rows
        after_id = rows[-1].id


def assign_stories(session: Session, fresh: list[tuple[NewItem, int]]) -> dict[str, int]:
    """Give each new item (with its new id) its story, in order; returns {key: story id}.

    Same canonical URL as a stored item: that item's story. Else the story the
    story stage found (an id, or an earlier item of this poll). Else its own.
    """
    urls = {v for item, _ in fresh if item.canonical_url for v in schemes(item.canonical_url)}
    new_ids = [item_id for _, item_id in fresh]
    known: dict[str, int] = {}
    if urls:
        query = (
            select(Item.canonical_url, Item.story_id)
            .where(col(Item.canonical_url).in_(urls), col(Item.id).not_in(new_ids))
            .where(col(Item.story_id).is_not(None))
            .order_by(col(Item.id))
        )
        for url, story_id in session.exec(query):
            if url is not None and story_id is not None:
                known.setdefault(schemeless(url), story_id)
    by_key: dict[str, int] = {}
    for item, item_id in fresh:
        url = schemeless(item.canonical_url) if item.canonical_url else None
        if url is not None and url in known:
            story_id = known[url]
        elif isinstance(item.story, int):
            story_id = item.story
        elif isinstance(item.story, str) and item.story in by_key:
            story_id = by_key[item.story]
        else:
            story_id = item_id
        if url is not None:
            known.setdefault(url, story_id)
        by_key[item.key] = story_id
    if fresh:
        table = _items()
        statement = update(table).where(table.c.id == bindparam("row_id"))
        session.execute(
            statement.values(story_id=bindparam("sid")),
            [{"row_id": item_id, "sid": by_key[item.key]} for item, item_id in fresh],
        )
    return by_key


def schemes(url: str) -> tuple[str, str]:
    """Both forms of a canonical URL: feeds move between http and https."""
    rest = schemeless(url)
    return "http://" + rest, "https://" + rest


def schemeless(url: str) -> str:
    return url.split("://", 1)[-1]


def _items() -> Table:
    return Item.__table__  # type: ignore[attr-defined, no-any-return]
