"""The story stage: which stored story, if any, a new item joins.

The index holds the items of the last :data:`~watchers.story.WINDOW` in memory
(story id, text, features), how many of them have each feature, and an inverted
index from each feature to the newest :data:`POSTINGS` items having it. A new
item looks up only its :data:`LOOKUPS` rarest features (names, numbers, the
event's own words: what same-story items share; "china" or "shares" would only
bring noise), ranks the items found by the rarity-weighted overlap, and runs the
exact rules (``watchers.story``) on the best :data:`CANDIDATES` that overlap
enough. The work per item is bounded by LOOKUPS x POSTINGS + CANDIDATES exact
checks, however long the history and however large the window.

Why not SimHash or MinHash LSH buckets: to reach 90% of same-story pairs at the
tuned similarity (weighted Jaccard 0.18 over 20-60 features) SimHash needs a
radius of 25 bits of 64, i.e. bands of 2-3 bits that every item shares, and MinHash
needs bands of one or two rows: a band of one row is a single feature, so the
buckets are the inverted index above, common words and all. Looking up the rarest
features is the same scheme with the bucket sizes bounded.

Storage is the truth: :meth:`StoryIndex.refresh` loads what it has that the
index has not (the whole window on first use, then new rows, whoever wrote
them), and the poll that saves items refreshes under :attr:`StoryIndex.lock`,
so two feeds polled at once cannot both open a story for the same event.
"""

from __future__ import annotations

import logging
import sys
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
    JACCARD_MIN,
    LEAD_CHARS,
    MIN_SHARED,
    WINDOW,
    Profile,
    Weight,
    conflict,
    features,
    overlap,
    profile,
    rarity,
    within,
)

__all__ = ["CANDIDATES", "LOOKUPS", "POSTINGS", "StoryIndex"]

log = logging.getLogger(__name__)

LOOKUPS = 16  # rarest features of a new item looked up
POSTINGS = 48  # newest items remembered per feature
CANDIDATES = 8  # best-overlapping items given the exact rules
_PROFILES = 2048  # full analyses kept (candidates that overlap enough are mostly recent)
_PROGRESS = 20_000  # log the first load every this many items


@dataclass(frozen=True, slots=True)
class _Entry:
    story_id: int
    title: str
    lead: str
    published_at: datetime | None
    fetched_at: datetime
    features: tuple[str, ...]  # a tuple is a quarter of a frozenset's memory


class StoryIndex:
    """Recent items by feature, bounded by a time window and per-feature postings."""

    def __init__(
        self,
        window: timedelta = WINDOW,
        *,
        postings: int = POSTINGS,
        lookups: int = LOOKUPS,
        candidates: int = CANDIDATES,
    ) -> None:
        self.window = window
        self.lock = threading.Lock()  # held around refresh -> assign -> save -> refresh
        self._postings_max = postings
        self._lookups = lookups
        self._candidates = candidates
        self._entries: dict[int, _Entry] = {}  # by item id, ascending = fetch order
        self._postings: dict[str, list[int]] = {}
        self._frequency: Counter[str] = Counter()  # items in the window having each feature
        self._profiles: OrderedDict[int, Profile] = OrderedDict()
        self._analysed: dict[tuple[str, str], Profile] = {}  # by assign, for add to reuse
        self._last_id = 0

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
        self._analysed.clear()
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
        analysed = self._analysed.get((member.title, member.lead[:LEAD_CHARS]))
        found = analysed.features if analysed else features(member.title, member.lead)
        kept = tuple(sys.intern(f) for f in found)  # one string per word, window-wide
        self._entries[member.id] = _Entry(
            member.story_id,
            member.title,
            member.lead,
            member.published_at,
            member.fetched_at,
            kept,
        )
        if analysed is not None:
            self._remember(member.id, analysed)
        self._frequency.update(kept)
        limit = self._postings_max
        for feature in kept:
            ids = self._postings.setdefault(feature, [])
            ids.append(member.id)
            if len(ids) > 2 * limit:
                del ids[:-limit]

    def evict(self, now: datetime) -> None:
        """Forget items fetched before the window (ids ascend with fetch time)."""
        cutoff = now - self.window
        while self._entries:
            oldest = next(iter(self._entries))
            entry = self._entries[oldest]
            if entry.fetched_at >= cutoff:
                break
            del self._entries[oldest]
            self._profiles.pop(oldest, None)
            for feature in entry.features:
                left = self._frequency[feature] - 1
                if left:
                    self._frequency[feature] = left
                    continue
                del self._frequency[feature]  # the word left the window: so do its postings
                self._postings.pop(feature, None)

    def find(self, analysed: Profile, published_at: datetime | None) -> int | None:
        """The story of the most similar item in the window that is the same story."""
        weight = self._weights()
        best = self._best(analysed, published_at, weight, sum(map(weight, analysed.features)))
        return best[1] if best else None

    def assign(self, items: Sequence[NewItem]) -> list[NewItem]:
        """The poll's new items, each with the story it joins: a stored one, or an
        earlier item of the same poll (by key), whichever is more similar."""
        out: list[NewItem] = []
        weight = self._weights()
        earlier: list[tuple[NewItem, Profile]] = []
        by_feature: dict[str, list[int]] = {}  # the poll's own postings
        for item in items:
            analysed = profile(item.title, item.summary)
            self._analysed[(item.title, item.summary[:LEAD_CHARS])] = analysed
            total = sum(map(weight, analysed.features))
            best: tuple[float, StoryRef] | None = self._best(
                analysed, item.published_at, weight, total
            )
            shared = Counter(i for f in analysed.features for i in by_feature.get(f, ()))
            for index, count in shared.items():
                other, other_profile = earlier[index]
                if count < MIN_SHARED or not within(
                    item.published_at, other.published_at, self.window
                ):
                    continue
                score = overlap(analysed.features, other_profile.features, weight, total)
                if (
                    score >= JACCARD_MIN
                    and (best is None or score > best[0])
                    and conflict(analysed, other_profile) is None
                ):
                    best = (score, other.key)
            out.append(replace(item, story=best[1]) if best else item)
            for feature in analysed.features:
                by_feature.setdefault(feature, []).append(len(earlier))
            earlier.append((item, analysed))
        return out

    def _weights(self) -> Weight:
        """Rarity in the window (the item compared counted in), memoised for one use:
        a dict's own lookup, because the sums call it for every shared feature."""
        return _Rarity(self._frequency, len(self._entries) + 1).__getitem__

    def _best(
        self, analysed: Profile, published_at: datetime | None, weight: Weight, total: float
    ) -> tuple[float, int] | None:
        """Look up the rarest features, rank what they find by weighted overlap, and
        give the exact rules to the best few that overlap enough."""
        frequency = self._frequency
        rarest = sorted(analysed.features, key=lambda f: frequency.get(f, 0))[: self._lookups]
        hits: Counter[int] = Counter()
        for feature in rarest:
            ids = self._postings.get(feature)
            if ids:
                hits.update(ids[-self._postings_max :])
        scored = []
        for item_id, _ in hits.most_common(4 * self._candidates):
            entry = self._entries.get(item_id)
            if entry is None or not within(published_at, entry.published_at, self.window):
                continue
            score = overlap(analysed.features, entry.features, weight, total)
            if score >= JACCARD_MIN:
                scored.append((score, item_id, entry))
        scored.sort(key=lambda found_item: found_item[0], reverse=True)
        for score, item_id, entry in scored[: self._candidates]:
            if conflict(analysed, self._profile(item_id, entry)) is None:
                return score, entry.story_id
        return None

    def _profile(self, item_id: int, entry: _Entry) -> Profile:
        found = self._profiles.get(item_id)
        if found is not None:
            self._profiles.move_to_end(item_id)
            return found
        analysed = profile(entry.title, entry.lead)
        self._remember(item_id, analysed)
        return analysed

    def _remember(self, item_id: int, analysed: Profile) -> None:
        self._profiles[item_id] = analysed
        if len(self._profiles) > _PROFILES:
            self._profiles.popitem(last=False)


class _Rarity(dict[str, float]):
    """``watchers.story.rarity`` over the window's frequencies, computed once per feature."""

    def __init__(self, frequency: Counter[str], items: int) -> None:
        super().__init__()
        self._weight = rarity(lambda feature: frequency.get(feature, 0) + 1, items)

    def __missing__(self, feature: str) -> float:
        value = self[feature] = self._weight(feature)
        return value
