"""Story identity: when two items from different outlets tell the same story.

Pure functions of values, no I/O. Two items are the same story when their
canonical URLs are equal, or when their texts (normalised title plus the lead
of the summary) are near-duplicates within :data:`WINDOW`.

The text side has two stages, because storage must find candidates cheaply
and the decision must be precise:

1. **Candidates**: :func:`fingerprint` is a 64-bit SimHash of the text's
   features, returned as a signed int64 so it fits an SQL ``BIGINT``.
   :func:`lsh_keys` splits it into ``THRESHOLD + 1`` bands; by pigeonhole, two
   fingerprints within Hamming distance ``THRESHOLD`` agree on at least one
   whole band, so an indexed ``(key)`` column finds every candidate with one
   lookup per band and the cost per item does not grow with history beyond the
   rows sharing a key inside the window.
2. **Decision**: :func:`same_story` compares the feature sets exactly (Jaccard)
   and vetoes pairs whose headlines carry *conflicting specifics*: each side has
   a number or a name (a capitalised word, an ASCII token in Chinese text) that
   the other side's text never mentions ("approved in China" vs "approved in
   Europe", "ninth" vs "eighth flight", "6.8" vs "6.1").

Why not SimHash alone: on headline-length texts (20-60 features) the Hamming
distance of reworded same-story pairs overlaps that of template headlines about
different events; see tests/test_story_eval.py for the measured numbers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from watchers.text import CJK_CLASS, normalise

__all__ = [
    "BANDS",
    "JACCARD_MIN",
    "LEAD_CHARS",
    "THRESHOLD",
    "WINDOW",
    "StoryText",
    "conflicting_specifics",
    "features",
    "fingerprint",
    "hamming",
    "jaccard",
    "lsh_keys",
    "same_story",
    "similar",
    "story_text",
]

# How much of the summary joins the title. Headlines alone are too short (a
# reworded headline often shares two or three words); the first sentence of the
# summary repeats who/what/where/numbers. 200 characters is about one English
# sentence and two Chinese ones; more brings in background paragraphs that
# differ between outlets. Measured: title alone loses a third of the recall.
LEAD_CHARS = 200
# Items further apart than this are never the same story (storage filters on it).
WINDOW = timedelta(hours=72)
# SimHash candidate radius, in bits of 64: the smallest radius that keeps >= 90% of
# the same-story pairs in tests/story_pairs.toml (measured: same-story pairs lie at
# 6-30 bits, different stories at 9-39). At this radius the 26 bands are 2-3 bits
# wide, so a band key is NOT selective: storage should bound candidates by WINDOW
# (or a rarer-feature index) rather than rely on these keys alone. See the report.
THRESHOLD = 25
# The exact decision: Jaccard of feature sets at or above this (tuned on the pairs).
JACCARD_MIN = 0.2
BANDS = THRESHOLD + 1

_HAN = CJK_CLASS.replace("\u3000-\u303f", "")  # letters only, not CJK punctuation
_TOKENS = re.compile(f"[{_HAN}]+|[^\\W_{_HAN}]+")
_HAN_RUN = re.compile(f"[{_HAN}]")
_DIGIT_SEPARATOR = re.compile(r"(?<=\d)[,.](?=\d)")  # "6,000" and "6000", "2.3" and "23"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*")
# Words that carry no story identity; dropping them lets short headlines overlap on content.
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "as",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "its",
        "it",
        "this",
        "that",
        "after",
        "over",
        "into",
        "than",
        "up",
        "down",
        "out",
        "about",
        "new",
        "says",
        "said",
        "will",
        "has",
        "have",
        "had",
    ]
)
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class StoryText:
    """What story identity needs of an item: its texts, canonical URL and date."""

    title: str
    summary: str
    url: str | None = None
    published: datetime | None = None


def story_text(title: str, summary: str) -> str:
    """Normalised title plus the first :data:`LEAD_CHARS` characters of the summary."""
    return normalise(f"{title} {summary[:LEAD_CHARS]}")


def _stem(word: str) -> str:
    """Plural and third-person 's' off: "recalls"/"recall", "cuts"/"cut", "rates"/"rate"."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def features(text: str) -> frozenset[str]:
    """The feature set of normalised text.

    Latin script: word unigrams, stop words dropped, a light plural stem.
    Bigrams and k-shingles were tried and lose recall: reworded headlines share
    words, rarely word pairs. CJK runs (no spaces): character bigrams, the usual
    substitute for words; a lone character stands for itself. Digit groups are
    joined so "6,000" and "6000" agree.
    """
    text = _DIGIT_SEPARATOR.sub("", text)
    out: set[str] = set()
    for match in _TOKENS.finditer(text):
        token = match.group()
        if _HAN_RUN.match(token):
            if len(token) == 1:
                out.add(token)
            else:
                out.update(token[i : i + 2] for i in range(len(token) - 1))
        elif token not in _STOP:
            out.add(_stem(token))
    return frozenset(out)


def _hash64(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")


def _simhash(feats: Iterable[str]) -> int:
    weights = [0] * 64
    for feature in feats:
        h = _hash64(feature)
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    unsigned = sum(1 << bit for bit in range(64) if weights[bit] > 0)
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def fingerprint(title: str, summary: str) -> int:
    """64-bit SimHash of the story text's features, as a signed int64 (an SQL BIGINT)."""
    return _simhash(features(story_text(title, summary)))


def hamming(fp_a: int, fp_b: int) -> int:
    return ((fp_a ^ fp_b) & _MASK64).bit_count()


def similar(fp_a: int, fp_b: int) -> bool:
    """Candidates: within :data:`THRESHOLD` bits (the LSH keys guarantee a shared key)."""
    return hamming(fp_a, fp_b) <= THRESHOLD


def lsh_keys(fp: int) -> tuple[int, ...]:
    """One key per band of the fingerprint, :data:`BANDS` bands covering all 64 bits.

    Each key is the band's bits with the band number in the top byte, so keys of
    different bands never collide and all fit a signed 64-bit column.
    """
    unsigned = fp & _MASK64
    keys = []
    for band in range(BANDS):
        start = band * 64 // BANDS
        stop = (band + 1) * 64 // BANDS
        bits = (unsigned >> start) & ((1 << (stop - start)) - 1)
        keys.append((band << 48) | bits)
    return tuple(keys)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def _specifics(title: str) -> set[str]:
    """Numbers and names in a headline, normalised (stop words are not names)."""
    found = {_DIGIT_SEPARATOR.sub("", n) for n in _NUMBER.findall(title)}
    found.update(normalise(w) for w in _NAME.findall(title))
    return {s for s in found if s not in _STOP}


def conflicting_specifics(a: StoryText, b: StoryText) -> bool:
    """Each headline names a number or name that the other item never mentions."""
    text_a = _DIGIT_SEPARATOR.sub("", story_text(a.title, a.summary))
    text_b = _DIGIT_SEPARATOR.sub("", story_text(b.title, b.summary))
    only_a = any(s not in text_b for s in _specifics(a.title))
    return only_a and any(s not in text_a for s in _specifics(b.title))


def same_story(a: StoryText, b: StoryText) -> bool:
    """The decision: same canonical URL, or near-duplicate texts within :data:`WINDOW`."""
    if a.url is not None and a.url == b.url:
        return True
    if (
        a.published is not None
        and b.published is not None
        and abs(a.published - b.published) > WINDOW
    ):
        return False
    feats_a = features(story_text(a.title, a.summary))
    feats_b = features(story_text(b.title, b.summary))
    if jaccard(feats_a, feats_b) < JACCARD_MIN:
        return False
    return not conflicting_specifics(a, b)
