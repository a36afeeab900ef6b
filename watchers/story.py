"""Story identity: when two items from different outlets tell the same story.

Pure functions of values, no I/O. Two items are the same story when their
canonical URLs are equal (storage decides that), or when their texts (title
plus the lead of the summary) are near-duplicates within :data:`WINDOW`:

1. **Overlap**: the Jaccard similarity of their feature sets (Latin words with
   stop words dropped and a light stem; character bigrams for Chinese, which
   has no spaces) is at least :data:`JACCARD_MIN`, and they share at least
   :data:`MIN_SHARED` features.
2. **No conflict**: overlap alone cannot tell "Starship explodes on ninth test
   flight" from "... on eighth test flight", nor "Fed holds rates" from "Fed
   cuts rates": template headlines about different events share most words.
   So a pair that overlaps is still two stories when the headlines disagree on
   a detail that each side's text never mentions:

   - *numbers*: each headline has a number or ordinal the other item lacks;
   - *a filled slot*: aligned word by word, the headlines differ at one place,
     both sides' words there are mostly absent from the other item, and one
     side's are specific (a name, a number, a Chinese word);
   - *direction*: the headlines move opposite ways (rises / falls / holds,
     starts / stops / expands), and one side's way is absent from the other.

Precision comes first: a false merge hides a different story inside another
alert's "also reported by", while a missed merge costs one extra message.
The thresholds are tuned on tests/story_pairs.toml and checked against a
held-out set written blind to this module (tests/story_pairs_holdout.toml);
tests/test_story_eval.py prints both. Paraphrases that share almost no words
("Bitcoin tops $100,000" / "Crypto's biggest token breaks six figures") are
out of reach of any lexical test and stay separate stories.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from itertools import pairwise
from math import log1p

from storage.stories import LEAD
from watchers.text import CJK_CLASS, normalise

__all__ = [
    "JACCARD_MIN",
    "LEAD_CHARS",
    "MIN_SHARED",
    "SLOT_NOVELTY",
    "WINDOW",
    "Profile",
    "StoryText",
    "Weight",
    "conflict",
    "features",
    "overlap",
    "profile",
    "rarity",
    "same_story",
    "similar_profiles",
    "within",
]

# How much of the summary joins the title: about one English sentence or two
# Chinese ones. Headlines alone are too short (a reworded one shares two or three
# words with another); more than a sentence brings in background that differs.
# Storage defines it, because it hands out only that much of a stored summary.
LEAD_CHARS = LEAD
# Items further apart than this are never the same story.
WINDOW = timedelta(hours=72)
# Tuned on tests/story_pairs.toml: 0.15 keeps one more same-story pair there but
# merges two more different stories in the held-out set; precision comes first.
JACCARD_MIN = 0.18
# And at least this many features in common: on titles without a summary, one shared
# word of three is a Jaccard of 0.25 ("BYD wins approval" / "BYD again"). Every pair in
# the labelled sets shares five or more, so this only guards the short cases.
MIN_SHARED = 3
# A headline slot "conflicts" when at least this share of each side's words there
# is absent from the other item (all-absent misses "蔚来" vs "小鹏汽车", whose
# bigram 汽车 the other lead has; half-absent vetoes too many rewordings).
SLOT_NOVELTY = 0.66

_HAN = CJK_CLASS.replace("\u3000-\u303f", "")  # letters only, not CJK punctuation
_UNIT = re.compile(f"[{_HAN}]|[^\\W_{_HAN}]+")
_IS_HAN = re.compile(f"[{_HAN}]")
_DIGIT_SEPARATOR = re.compile(r"(?<=\d)[,.](?=\d)")  # "6,000" and "6000", "2.3" and "23"
_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# Words that carry no story identity; dropping them lets short headlines overlap on content.
_STOP = frozenset((
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "as", "and",
    "or", "but", "is", "are", "was", "were", "be", "been", "its", "it", "this", "that", "after",
    "over", "into", "than", "up", "down", "out", "about", "new", "says", "said", "will", "has",
    "have", "had",
))  # fmt: skip
_ORDINALS = frozenset((
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "q1", "q2", "q3", "q4", "h1", "h2",
))  # fmt: skip
# Which way a headline's event goes. Latin words are stemmed like the text; Chinese
# words are looked up as substrings. Pairs in different classes are opposite ways.
_DIRECTIONS = {
    "up": "rise rose jump climb surge soar gain rally raise hike beat top high record increase "
    "grow boost 涨 升 增 突破 新高 上调 加息 升息 提高",
    "down": "fall fell drop slide slump plunge tumble sink decline cut lower miss lose loss weak "
    "weaker low reduce 跌 降 减 跌破 下调 降息 降准 下滑",
    "hold": "hold keep steady unchanged pause 维持 不变 按兵不动",
    "start": "resume restart launch begin lift approve clear start open 恢复 启动 批准 获批 发布 "
    "推出 上线 上市",
    "stop": "halt suspend ground ban block delay reject stop close shut 暂停 停止 禁止 叫停 "
    "推迟 延迟",
    "expand": "expand extend 扩大",
}


def _stem(word: str) -> str:
    """Plural and third-person endings off: "recalls"/"recall", "launches"/"launch"."""
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _direction_words() -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    latin: dict[str, str] = {}
    han: list[tuple[str, str]] = []
    for way, words in _DIRECTIONS.items():
        for word in words.split():
            if word.isascii():
                latin.setdefault(_stem(word), way)
            else:
                han.append((word, way))
    return latin, tuple(han)


_LATIN_WAYS, _HAN_WAYS = _direction_words()

Weight = Callable[[str], float]
"""How much a shared feature says about two items being one story."""


@dataclass(frozen=True, slots=True)
class StoryText:
    """What story identity needs of an item: its texts, canonical URL and date."""

    title: str
    summary: str
    url: str | None = None
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """An item's text, analysed once for every comparison it takes part in."""

    features: frozenset[str]  # title + lead: what Jaccard compares
    title_units: tuple[str, ...]  # the headline word by word (Chinese: by character)
    vocab: frozenset[str]  # everything the item mentions, to ask "does it say X?"
    names: frozenset[str]  # capitalised words of the headline (any Latin word in Chinese)
    numbers: frozenset[str]  # numbers and ordinals of the headline
    ways: frozenset[str]  # directions of the headline
    text_ways: frozenset[str]  # directions anywhere in title + lead


def _units(text: str) -> list[str]:
    """Normalised text as comparison units: stemmed Latin words, single Han characters."""
    text = _DIGIT_SEPARATOR.sub("", text)
    return [u if _IS_HAN.match(u) else _stem(u) for u in _UNIT.findall(text)]


def _features(units: list[str]) -> set[str]:
    """Latin words minus stop words; Chinese runs as character bigrams (a lone
    character stands for itself): the usual substitute for words in Chinese."""
    out: set[str] = set()
    run: list[str] = []
    for unit in [*units, ""]:
        if unit and _IS_HAN.match(unit):
            run.append(unit)
            continue
        if len(run) == 1:
            out.add(run[0])
        out.update(a + b for a, b in pairwise(run))
        run = []
        if (len(unit) > 1 or unit.isdigit()) and unit not in _STOP:  # not the "s" of "Tesla's"
            out.add(unit)
    return out


def _ways(units: list[str], text: str) -> frozenset[str]:
    found = {_LATIN_WAYS[u] for u in units if u in _LATIN_WAYS}
    found.update(way for word, way in _HAN_WAYS if word in text)
    return frozenset(found)


def profile(title: str, summary: str) -> Profile:
    """Analyse an item's title and the lead of its summary."""
    head = normalise(title)
    text = _lead_text(title, summary)
    title_units, units = _units(head), _units(text)
    found = _features(units)
    names = {_stem(normalise(w)) for w in _NAME.findall(title)}
    if _IS_HAN.search(title):  # Chinese headlines have no capitals: any Latin word is a name
        names.update(_stem(normalise(w)) for w in _LATIN_WORD.findall(title))
    return Profile(
        features=frozenset(found),
        title_units=tuple(title_units),
        vocab=frozenset(found | {u for u in units if _IS_HAN.match(u)}),
        names=frozenset(names - _STOP),
        numbers=frozenset(u for u in title_units if _is_number(u)),
        ways=_ways(title_units, head),
        text_ways=_ways(units, text),
    )


def _is_number(unit: str) -> bool:
    return unit in _ORDINALS or any(c.isdigit() for c in unit)


def features(title: str, summary: str) -> frozenset[str]:
    """Just the features of :func:`profile`, at a fraction of its cost: what a window
    index keeps of every item (the rest is analysed only for close candidates)."""
    return frozenset(_features(_units(_lead_text(title, summary))))


def _lead_text(title: str, summary: str) -> str:
    return normalise(f"{title} {summary[:LEAD_CHARS]}")


def overlap(
    a: frozenset[str], b: Collection[str], weight: Weight | None = None, a_total: float = 0.0
) -> float:
    """Jaccard of two feature sets (``b`` may be any collection of distinct features),
    weighted by ``weight`` if given; 0 below :data:`MIN_SHARED` features in common.

    ``a_total`` is ``a``'s total weight if the caller has it (one item compared with
    many): the union's weight is then found without building the union.
    """
    shared = a.intersection(b)
    if len(shared) < MIN_SHARED:
        return 0.0
    if weight is None:
        return len(shared) / (len(a) + len(b) - len(shared))
    common = sum(map(weight, shared))
    return common / ((a_total or sum(map(weight, a))) + sum(map(weight, b)) - common)


def similar_profiles(a: Profile, b: Profile, weight: Weight | None = None) -> bool:
    """The decision on texts alone: enough overlap and no conflicting detail.

    With ``weight`` (see :func:`rarity`), overlap is a weighted Jaccard: words
    that most items around share ("tesla", "china" when a watch pulls in every
    Tesla-in-China item) count for little, the story's own names and numbers
    for much. Without, every feature counts one.
    """
    return overlap(a.features, b.features, weight) >= JACCARD_MIN and conflict(a, b) is None


def rarity(frequency: Callable[[str], int], items: int) -> Weight:
    """Inverse document frequency: ``log(1 + items / frequency)``, where ``frequency``
    counts the items (the pair included) among ``items`` that have a feature."""

    def weight(feature: str) -> float:
        return log1p(items / max(frequency(feature), 1))

    return weight


def conflict(a: Profile, b: Profile) -> str | None:
    """Why two overlapping items are still different stories, or None."""
    if any(n not in b.vocab for n in a.numbers) and any(n not in a.vocab for n in b.numbers):
        return "numbers"
    if a.ways and b.ways and (a.ways - b.text_ways or b.ways - a.text_ways):
        return "direction"
    return _slot_conflict(a, b)


def _slot_conflict(a: Profile, b: Profile) -> str | None:
    for slot_a, slot_b in _slots(a.title_units, b.title_units):
        han_a = sum(1 for u in slot_a if _IS_HAN.match(u))
        han_b = sum(1 for u in slot_b if _IS_HAN.match(u))
        if han_a == len(slot_a) == 1 or han_b == len(slot_b) == 1:
            continue  # one character against a word is an alignment artefact (辉/英伟)
        novel_a, share_a = _novelty(slot_a, b.vocab)
        novel_b, share_b = _novelty(slot_b, a.vocab)
        if share_a < SLOT_NOVELTY or share_b < SLOT_NOVELTY:
            continue
        if _specific(novel_a, a, han_a) or _specific(novel_b, b, han_b):
            return f"slot: {''.join(slot_a)!r} / {''.join(slot_b)!r}"
    return None


def _specific(novel: list[str], owner: Profile, han: int) -> bool:
    return han >= 2 or any(_is_number(u) or u in owner.names for u in novel)


def _slots(a: tuple[str, ...], b: tuple[str, ...]) -> list[tuple[list[str], list[str]]]:
    """Where two headlines differ at the same place: the gaps between their common runs.

    A lone common Han character is no anchor (北京 / 河北 share 北 by accident)."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    slots = []
    at_a = at_b = 0
    for block in matcher.get_matching_blocks():
        if block.size == 1 and _IS_HAN.match(a[block.a]):
            continue
        gap_a, gap_b = list(a[at_a : block.a]), list(b[at_b : block.b])
        if gap_a and gap_b:
            slots.append((gap_a, gap_b))
        at_a, at_b = block.a + block.size, block.b + block.size
    return slots


def _novelty(slot: list[str], other_vocab: frozenset[str]) -> tuple[list[str], float]:
    """The slot's content absent from the other item, and its share of the content."""
    words = [u for u in slot if not _IS_HAN.match(u) and u not in _STOP and len(u) > 1]
    han = [u for u in slot if _IS_HAN.match(u)]
    terms = words + ([a + b for a, b in pairwise(han)] or han)
    if not terms:
        return [], 0.0
    novel = [t for t in terms if t not in other_vocab]
    return novel, len(novel) / len(terms)


def same_story(a: StoryText, b: StoryText) -> bool:
    """Same canonical URL, or similar texts published within :data:`WINDOW`."""
    if a.url is not None and a.url == b.url:
        return True
    if not within(a.published, b.published):
        return False
    return similar_profiles(profile(a.title, a.summary), profile(b.title, b.summary))


def within(a: datetime | None, b: datetime | None, window: timedelta = WINDOW) -> bool:
    """Published within the window of each other (undated items are given the benefit)."""
    return a is None or b is None or abs(a - b) <= window
