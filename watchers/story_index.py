"""The story stage: which stored story, if any, a new item joins.

The index holds the items of the last :data:`~watchers.story.WINDOW` in memory
(their story id and the text story identity reads), and an inverted index from
each feature to the newest :data:`POSTINGS` items having it. A new item counts
the features it shares with those items, compares exactly (``same_story``'s
rules) only the :data:`CANDIDATES` that share most, and joins the story of the
most similar one that passes. So the cost per item is bounded by its feature
count times :data:`POSTINGS`, however long the history and however large the
window: common words ("china", "shares") cost no more than rare ones, and
rare ones (names, numbers) are what same-story items share.

Storage is the truth: :meth:`StoryIndex.refresh` loads what it has that the
index has not (the whole window on first use, then new rows, whoever wrote
them), and the poll that saves items refreshes under :attr:`StoryIndex.lock`,
so two feeds polled at once cannot both open a story for the same event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from storage.db import Database
from storage.records import NewItem, StoryMember, StoryRef
from storage.stories import members_since
from watchers.story import (
    MIN_SHARED,
    WINDOW,
    Profile,
    Weight,
    profile,
    rarity,
    similar_profiles,
)

__all__ = ["CANDIDATES", "POSTINGS", "StoryIndex"]

log = logging.getLogger(__name__)

POSTINGS = 24  # newest items remembered per feature: the bound on work per item
CANDIDATES = 8  # items sharing the most features, compared exactly
_PROFILES = 4096  # analysed texts kept (the candidates are mostly recent items)
_PROGRESS = 20_000  # log the first load every this many items


@dataclass(frozen=True, slots=True)
class _Entry:
    story_id: int
    title: str
    lead: str
    published_at: datetime | None
    fetched_at: datetime


class StoryIndex:
    """Recent items by feature, bounded by a time window and per-feature postings."""

    def __init__(
        self,
        window: timedelta = WINDOW,
        *,
        postings: int = POSTINGS,
        candidates: int = CANDIDATES,
    ) -> None:
        self.window = window
        self.lock = threading.Lock()  # held around refresh -> assign -> save -> refresh
        self._postings_max = postings
        self._candidates = candidates
        self._entries: dict[int, _Entry] = {}  # by item id, ascending = fetch order
        self._postings: dict[str, list[int]] = {}
        self._frequency: Counter[str] = Counter()  # items in the window having each feature
        self._profiles: OrderedDict[int, Profile] = OrderedDict()
        self._last_id = 0
        self._evicted = 0  # since postings were last swept of evicted ids

    def __len__(self) -> int:
        return len(self._entries)

    def refresh(self, db: Database, now: datetime) -> int:
        """Take in what storage added since the last refresh; drop what left the window."""
        first, started, added = self._last_id == 0, time.monotonic(), 0
        for page in members_since(db, now - self.window, self._last_id):
            for member in page:
                self.add(member)
            added += len(page)
            if first and added % _PROGRESS < len(page):
                log.info("story index: %d items of the last %s loaded", added, self.window)
        self.evict(now)
        if first and added:
            log.info(
                "story index: %d items in the window, loaded in %.1f s",
                len(self),
                time.monotonic() - started,
            )
        return added

    def add(self, member: StoryMember) -> None:
        """Index a stored item (its story already decided)."""
        if member.id in self._entries:
            return
        self._last_id = max(self._last_id, member.id)
        entry = _Entry(
            member.story_id, member.title, member.lead, member.published_at, member.fetched_at
        )
        self._entries[member.id] = entry
        analysed = self._profile(member.id, entry)
        self._frequency.update(analysed.features)
        limit = self._postings_max
        for feature in analysed.features:
            ids = self._postings.setdefault(feature, [])
            ids.append(member.id)
            if len(ids) > 2 * limit:
                del ids[:-limit]

    def evict(self, now: datetime) -> None:
        """Forget items fetched before the window (ids ascend with fetch time)."""
        cutoff = now - self.window
        while self._entries:
            oldest = next(iter(self._entries))
            if self._entries[oldest].fetched_at >= cutoff:
                break
            self._frequency.subtract(self._profile(oldest, self._entries[oldest]).features)
            del self._entries[oldest]
            self._profiles.pop(oldest, None)
            self._evicted += 1
        if self._evicted > len(self._entries) + 1000:  # amortised: postings stay bounded
            self._sweep()

    def find(self, analysed: Profile, published_at: datetime | None) -> int | None:
        """The story of the most similar item in the window that is the same story."""
        best = self._best(analysed, published_at, self.weight())
        return best[1] if best else None

    def weight(self) -> Weight:
        """Rarity in the window, counting the item being compared as one more."""
        frequency, items = self._frequency, len(self._entries) + 1
        return rarity(lambda feature: frequency[feature] + 1, items)

    def assign(self, items: Sequence[NewItem]) -> list[NewItem]:
        """The poll's new items, each with the story it joins: a stored one, or an
        earlier item of the same poll (by key), whichever is more similar."""
        out: list[NewItem] = []
        earlier: list[tuple[NewItem, Profile]] = []
        weight = self.weight()
        for item in items:
            analysed = profile(item.title, item.summary)
            best: tuple[float, StoryRef] | None = self._best(analysed, item.published_at, weight)
            for other, other_profile in earlier:
                score = _overlap(analysed, other_profile, weight)
                if (
                    (best is None or score > best[0])
                    and _within(self.window, item.published_at, other.published_at)
                    and similar_profiles(analysed, other_profile, weight)
                ):
                    best = (score, other.key)
            out.append(replace(item, story=best[1]) if best else item)
            earlier.append((item, analysed))
        return out

    def _best(
        self, analysed: Profile, published_at: datetime | None, weight: Weight
    ) -> tuple[float, int] | None:
        """Rank the window's items by the weight of the features they share with this
        one (at most POSTINGS items per feature), then decide on the best few."""
        scores: dict[int, float] = {}
        counts: Counter[int] = Counter()
        for feature in analysed.features:
            ids = self._postings.get(feature)
            if ids:
                recent = ids[-self._postings_max :]
                counts.update(recent)
                value = weight(feature)
                for item_id in recent:
                    scores[item_id] = scores.get(item_id, 0.0) + value
        ranked = sorted(
            (i for i, n in counts.items() if n >= MIN_SHARED), key=scores.__getitem__, reverse=True
        )
        best: tuple[float, int] | None = None
        for item_id in ranked[: self._candidates]:
            entry = self._entries.get(item_id)
            if entry is None or not _within(self.window, published_at, entry.published_at):
                continue
            other = self._profile(item_id, entry)
            score = _overlap(analysed, other, weight)
            if (best is None or score > best[0]) and similar_profiles(analysed, other, weight):
                best = (score, entry.story_id)
        return best

    def _profile(self, item_id: int, entry: _Entry) -> Profile:
        found = self._profiles.get(item_id)
        if found is not None:
            self._profiles.move_to_end(item_id)
            return found
        analysed = profile(entry.title, entry.lead)
        self._profiles[item_id] = analysed
        if len(self._profiles) > _PROFILES:
            self._profiles.popitem(last=False)
        return analysed

    def _sweep(self) -> None:
        live = self._entries
        self._postings = {
            feature: kept
            for feature, ids in self._postings.items()
            if (kept := [i for i in ids if i in live])
        }
        self._evicted = 0


def _overlap(a: Profile, b: Profile, weight: Weight) -> float:
    union = a.features | b.features
    return sum(map(weight, a.features & b.features)) / sum(map(weight, union)) if union else 0.0


def _within(window: timedelta, a: datetime | None, b: datetime | None) -> bool:
    """Published within the window of each other (undated items are given the benefit)."""
    return a is None or b is None or abs(a - b) <= window
