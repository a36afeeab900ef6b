"""The matcher against a labelled evaluation set: tests/matching_cases.toml.

Each case is an invented news item (title and summary, maybe with HTML) and
the exact set of watches it must match. The items go through the pipeline's
own steps: ``html_to_text`` on each field (items are stored as text), then
``Watchlist.match``. Precision and recall over (case, watch) pairs are
printed, overall and per language, at the end of every test run.
Every case must pass; a failure lists each failing case with its note.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCORES
from watchers.match import Watchlist
from watchers.text import html_to_text

CASES_FILE = Path(__file__).with_name("matching_cases.toml")
LANGS = ("en", "zh-Hans", "zh-Hant", "mixed")
MIN_CASES = 200
MIN_PER_LANG = {"en": 90, "zh-Hans": 50, "zh-Hant": 40, "mixed": 20}
MIN_NEGATIVE_SHARE = 0.40
CASE_KEYS = {"id", "lang", "title", "summary", "expect", "note"}


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    lang: str
    title: str
    summary: str
    expect: frozenset[str]
    note: str


@dataclass(frozen=True, slots=True)
class EvalSet:
    aliases: dict[str, list[str]]
    watches: dict[str, str]
    cases: tuple[Case, ...]


@dataclass(slots=True)
class Tally:
    """Counts over (case, watch) pairs: a pair is positive when the watch must match."""

    cases: int = 0
    failed: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: frozenset[str], got: frozenset[str]) -> None:
        self.cases += 1
        self.failed += expected != got
        self.tp += len(expected & got)
        self.fp += len(got - expected)
        self.fn += len(expected - got)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def line(self, label: str) -> str:
        return (
            f"{label:<8} cases={self.cases:<4} failed={self.failed:<4} "
            f"tp={self.tp:<4} fp={self.fp:<4} fn={self.fn:<4} "
            f"precision={self.precision:.3f} recall={self.recall:.3f}"
        )


def load_eval_set(path: Path = CASES_FILE) -> EvalSet:
    with path.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    cases = []
    for raw in data["cases"]:
        missing = CASE_KEYS - raw.keys()
        assert not missing, f"case {raw.get('id', '?')} lacks {sorted(missing)}"
        cases.append(
            Case(
                id=raw["id"],
                lang=raw["lang"],
                title=raw["title"],
                summary=raw["summary"],
                expect=frozenset(raw["expect"]),
                note=raw["note"],
            )
        )
    return EvalSet(dict(data.get("aliases", {})), dict(data["watches"]), tuple(cases))


@pytest.fixture(scope="module")
def eval_set() -> EvalSet:
    return load_eval_set()


def test_eval_set_is_well_formed(eval_set: EvalSet) -> None:
    cases = eval_set.cases
    ids = Counter(case.id for case in cases)
    assert not [i for i, n in ids.items() if n > 1], "duplicate case ids"
    assert len(cases) >= MIN_CASES, f"{len(cases)} cases, want at least {MIN_CASES}"

    negatives = sum(1 for case in cases if not case.expect)
    assert negatives / len(cases) >= MIN_NEGATIVE_SHARE, (
        f"{negatives}/{len(cases)} negatives, want at least {MIN_NEGATIVE_SHARE:.0%}"
    )

    per_lang = Counter(case.lang for case in cases)
    assert set(per_lang) <= set(LANGS), f"unknown languages: {set(per_lang) - set(LANGS)}"
    short = {lang: per_lang[lang] for lang, least in MIN_PER_LANG.items() if per_lang[lang] < least}
    assert not short, f"too few cases for {short} (minimums {MIN_PER_LANG})"

    unknown = {case.id: sorted(case.expect - eval_set.watches.keys()) for case in cases}
    assert not {i: w for i, w in unknown.items() if w}, "cases expect watches that do not exist"
    assert not [case.id for case in cases if not case.note.strip()], "every case needs a note"
    never = set(eval_set.watches) - {w for case in cases for w in case.expect}
    assert not never, f"watches that no case expects to match: {sorted(never)}"


def test_matcher_on_eval_set(eval_set: EvalSet, request: pytest.FixtureRequest) -> None:
    watchlist = Watchlist.from_queries(eval_set.watches, aliases=eval_set.aliases)
    total = Tally()
    per_lang = {lang: Tally() for lang in LANGS}
    failures = []
    for case in eval_set.cases:
        hits = watchlist.match(html_to_text(case.title), html_to_text(case.summary))
        got = frozenset(hit.watch for hit in hits)
        total.add(case.expect, got)
        per_lang.setdefault(case.lang, Tally()).add(case.expect, got)
        if got != case.expect:
            failures.append(
                f"  {case.id} [{case.lang}] expected {sorted(case.expect)} got {sorted(got)}"
                f"\n      title={case.title!r} summary={case.summary!r}\n      note: {case.note}"
            )

    report = "\n".join(
        [
            f"matching eval: {len(eval_set.cases)} cases x {len(eval_set.watches)} watches",
            total.line("all"),
            *(tally.line(lang) for lang, tally in per_lang.items()),
        ]
    )
    print(f"\n{report}")
    previous = request.config.stash.get(SCORES, "")  # shown in the run's summary, pass or fail
    request.config.stash[SCORES] = f"{previous}\n{report}".strip()
    assert not failures, f"{len(failures)} failing cases\n{report}\n" + "\n".join(failures)
