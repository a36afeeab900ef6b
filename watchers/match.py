"""The compiled watchlist: which watches an item matches, and why.

A watchlist is compiled once: queries parsed, terms normalised, shared
between watches, and put into one Aho-Corasick automaton. Matching an item
normalises its title and summary once, scans each once for every term at
the same time, then evaluates only the watches that have a term in the text
(a watch none of whose terms occur cannot match unless it matches empty text,
like ``-gdpr`` alone; the config rejects those). Every hit carries the terms
that made it, with field and span in the normalised text, so an alert can say
why it was sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ahocorasick

from watchers.query import And, Node, Not, Or, Term, parse_query, terms
from watchers.text import is_word_char, normalise

__all__ = ["FIELDS", "MatchedTerm", "Watch", "WatchHit", "Watchlist", "matches_empty_text"]

FIELDS = ("title", "summary")


@dataclass(frozen=True, slots=True)
class MatchedTerm:
    """One occurrence of a term: ``text[start:end]`` of the normalised ``field``."""

    term: str
    field: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class WatchHit:
    watch: str
    matched: tuple[MatchedTerm, ...]

    @property
    def terms(self) -> tuple[str, ...]:
        """The distinct terms that matched, in order of first appearance."""
        return tuple(dict.fromkeys(m.term for m in self.matched))

    def explanation_json(self) -> str:
        return json.dumps(
            [
                {"term": m.term, "field": m.field, "start": m.start, "end": m.end}
                for m in self.matched
            ],
            ensure_ascii=False,
        )

    @staticmethod
    def terms_from_json(explanation: str) -> tuple[str, ...]:
        """The matched terms of a stored explanation (for showing an alert)."""
        try:
            rows = json.loads(explanation)
            return tuple(dict.fromkeys(str(row["term"]) for row in rows))
        except (ValueError, TypeError, KeyError):
            return ()


@dataclass(frozen=True, slots=True)
class Watch:
    name: str
    query: Node


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A normalised term and whether each end must sit on a word boundary."""

    text: str
    bound_start: bool
    bound_end: bool


class Watchlist:
    """Watches compiled for matching; immutable once built, so it is safe to share and swap."""

    def __init__(self, watches: Sequence[Watch]) -> None:
        self.watches: tuple[Watch, ...] = tuple(watches)
        # Trees with every term already normalised, and each watch's supporting terms.
        self._compiled = [
            (w.name, tree := _normalised(w.query), tuple(dict.fromkeys(_positive_keys(tree))))
            for w in self.watches
        ]
        self._automaton = ahocorasick.Automaton()
        self._watches_of: dict[str, list[int]] = {}  # term -> indices of watches using it
        for index, (_, tree, _) in enumerate(self._compiled):
            for key in dict.fromkeys(term.text for term in terms(tree)):
                if not key:
                    continue
                if key not in self._watches_of:
                    pattern = _Pattern(key, is_word_char(key[0]), is_word_char(key[-1]))
                    self._automaton.add_word(key, pattern)
                    self._watches_of[key] = []
                self._watches_of[key].append(index)
        if self._watches_of:
            self._automaton.make_automaton()
        # Watches that hold on a text with none of their terms (e.g. "-gdpr") are always
        # evaluated; the config rejects them, but the Watchlist itself stays exact.
        self._always = {i for i, (_, tree, _) in enumerate(self._compiled) if _evaluate(tree, {})}

    @classmethod
    def from_queries(cls, queries: Mapping[str, str]) -> Watchlist:
        """Compile ``{name: query}``; raises QuerySyntaxError for the first bad query."""
        return cls([Watch(name, parse_query(query)) for name, query in queries.items()])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(w.name for w in self.watches)

    def match(self, title: str, summary: str) -> list[WatchHit]:
        """The watches that ``title`` and ``summary`` (plain text) satisfy, with their terms."""
        found = self._scan({"title": normalise(title), "summary": normalise(summary)})
        candidates = sorted(self._always.union(*(self._watches_of[key] for key in found)))
        hits = []
        for name, tree, positive in (self._compiled[i] for i in candidates):
            if _evaluate(tree, found):
                matched = [occurrence for key in positive for occurrence in found.get(key, ())]
                matched.sort(key=lambda m: (FIELDS.index(m.field), m.start, m.end))
                hits.append(WatchHit(name, tuple(matched)))
        return hits

    def _scan(self, fields: Mapping[str, str]) -> dict[str, list[MatchedTerm]]:
        found: dict[str, list[MatchedTerm]] = {}
        if not self._watches_of:
            return found
        for name, text in fields.items():
            size = len(text)
            pattern: _Pattern
            for last, pattern in self._automaton.iter(text):
                end = last + 1
                start = end - len(pattern.text)
                if pattern.bound_start and start > 0 and is_word_char(text[start - 1]):
                    continue
                if pattern.bound_end and end < size and is_word_char(text[end]):
                    continue
                found.setdefault(pattern.text, []).append(
                    MatchedTerm(pattern.text, name, start, end)
                )
        return found


def _evaluate(node: Node, found: Mapping[str, list[MatchedTerm]]) -> bool:
    if isinstance(node, Term):
        return bool(found.get(node.text))
    if isinstance(node, Not):
        return not _evaluate(node.child, found)
    if isinstance(node, And):
        return all(_evaluate(child, found) for child in node.children)
    assert isinstance(node, Or)
    return any(_evaluate(child, found) for child in node.children)


def _normalised(node: Node) -> Node:
    if isinstance(node, Term):
        return Term(normalise(node.text), node.phrase, node.column)
    if isinstance(node, Not):
        return Not(_normalised(node.child))
    children = tuple(_normalised(child) for child in node.children)
    return And(children) if isinstance(node, And) else Or(children)


def _positive_keys(node: Node, negated: bool = False) -> list[str]:
    """Terms whose presence supports a match (not under an odd number of NOTs)."""
    if isinstance(node, Term):
        return [] if negated else [node.text]
    if isinstance(node, Not):
        return _positive_keys(node.child, not negated)
    return [key for child in node.children for key in _positive_keys(child, negated)]


def matches_empty_text(node: Node) -> bool:
    """True for a query that matches a text containing none of its terms (e.g. ``-GDPR``).

    Such a watch would alert on nearly every item; the config rejects it.
    """
    return _evaluate(node, {})
