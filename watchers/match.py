"""The compiled watchlist: which watches an item matches, and why.

A watchlist is compiled once: queries parsed, aliases expanded, terms
normalised, shared between watches, and put into one Aho-Corasick automaton (ahocorasick_rs, a DFA).
Matching an item normalises its title and summary once and scans each once
for every term at the same time; then only the watches that have a term in
the text are evaluated (:mod:`watchers.evaluate`), on the occurrences'
fields and positions. A watch none of whose terms occur cannot match unless
it matches empty text (like ``-gdpr`` alone), which the config rejects.

Every hit carries the terms that made it, with field and span in the
normalised text, so an alert can say why it was sent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ahocorasick_rs

from watchers.evaluate import (
    CAnd,
    CField,
    CNear,
    CNode,
    CNot,
    COr,
    CTerm,
    Found,
    Occurrence,
    holds,
    keys_of,
    positive_keys,
    simplify,
    triggers,
)
from watchers.query import (
    FIELDS,
    Alias,
    And,
    Field,
    Near,
    Node,
    Not,
    QuerySyntaxError,
    Term,
    parse_query,
)
from watchers.text import is_cjk, is_word_char, normalise

__all__ = [
    "FIELDS",
    "MatchedTerm",
    "Watch",
    "WatchHit",
    "Watchlist",
    "compile_query",
    "matches_empty_text",
]


_DFA = ahocorasick_rs.Implementation.DFA  # more memory than the NFA, and the fastest scan


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
    """A normalised term: where it must sit on word boundaries, and whether it is a prefix."""

    key: str
    label: str  # as shown in explanations: the term, with * for a prefix
    size: int
    prefix: bool
    bound_start: bool
    bound_end: bool


@dataclass(frozen=True, slots=True)
class _Compiled:
    name: str
    tree: CNode
    positive: tuple[tuple[str, tuple[int, ...]], ...]


class Watchlist:
    """Watches compiled for matching; immutable once built, so it is safe to share and swap."""

    def __init__(
        self, watches: Sequence[Watch], aliases: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        """Raises QuerySyntaxError for an alias a query uses but ``aliases`` lacks."""
        self.watches: tuple[Watch, ...] = tuple(watches)
        patterns: dict[str, _Pattern] = {}
        self._compiled = [_compile_watch(w, aliases or {}, patterns) for w in self.watches]
        self._patterns = patterns
        words: dict[str, list[_Pattern]] = {}
        for pattern in patterns.values():
            words.setdefault(pattern.key[2:], []).append(pattern)
        # Per automaton pattern index, what each hit must pass: (key, prefix, bounds).
        self._groups = [
            tuple((p.key, p.prefix, p.bound_start, p.bound_end) for p in group)
            for group in words.values()
        ]
        self._automaton = (
            ahocorasick_rs.AhoCorasick(list(words), implementation=_DFA) if words else None
        )
        # Each watch is indexed under its trigger keys only, so a term shared by many
        # watches (a region, a topic) does not make them all candidates.
        weight = Counter(k for c in self._compiled for k in dict.fromkeys(keys_of(c.tree)))
        self._watches_of: dict[str, list[int]] = {}
        self._always: set[int] = set()  # watches with no trigger: evaluated on every text
        for index, compiled in enumerate(self._compiled):
            keys = triggers(compiled.tree, weight)
            if keys is None:
                self._always.add(index)
                continue
            for key in sorted(keys):
                self._watches_of.setdefault(key, []).append(index)

    @classmethod
    def from_queries(
        cls, queries: Mapping[str, str], aliases: Mapping[str, Sequence[str]] | None = None
    ) -> Watchlist:
        """Compile ``{name: query}``; raises QuerySyntaxError for the first bad query."""
        return cls([Watch(name, parse_query(q)) for name, q in queries.items()], aliases)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(w.name for w in self.watches)

    @property
    def term_count(self) -> int:
        """Distinct patterns in the automaton (a prefix and the same exact word count twice)."""
        return len(self._patterns)

    def match(self, title: str, summary: str) -> list[WatchHit]:
        """The watches that ``title`` and ``summary`` (plain text) satisfy, with their terms."""
        found = self._scan((normalise(title), normalise(summary)))
        watches_of = self._watches_of
        candidates = self._always.union(
            *(watches_of[key] for key in found.occurrences if key in watches_of)
        )
        hits = []
        for index in sorted(candidates):
            compiled = self._compiled[index]
            if holds(compiled.tree, found):
                hits.append(WatchHit(compiled.name, self._explain(compiled, found)))
        return hits

    def _scan(self, texts: tuple[str, str]) -> Found:
        occurrences: dict[str, list[Occurrence]] = {}
        if self._automaton is None:
            return Found(texts, occurrences)
        find, groups = self._automaton.find_matches_as_indexes, self._groups
        for field_index, text in enumerate(texts):
            size = len(text)
            for index, start, end in find(text, overlapping=True):
                for key, prefix, bound_start, bound_end in groups[index]:
                    # is_word_char, inlined (this runs for every raw hit): a letter or
                    # digit glues onto a Latin term unless it is CJK (U+3000-U+9FFF
                    # tested inline, the rarer CJK ranges by is_cjk).
                    if bound_start and start > 0:
                        c = text[start - 1]
                        if c.isalnum() and (c < "\u3000" or not ("\u3000" <= c <= "\u9fff"
                                                                 or is_cjk(c))):  # fmt: skip
                            continue
                    stop = end
                    if prefix:
                        while stop < size and is_word_char(text[stop]):
                            stop += 1
                    elif bound_end and stop < size:
                        c = text[stop]
                        if c.isalnum() and (c < "\u3000" or not ("\u3000" <= c <= "\u9fff"
                                                                 or is_cjk(c))):  # fmt: skip
                            continue
                    occurrences.setdefault(key, []).append((field_index, start, stop))
        return Found(texts, occurrences)

    def _explain(self, compiled: _Compiled, found: Found) -> tuple[MatchedTerm, ...]:
        seen: set[tuple[str, int, int, int]] = set()
        matched = []
        for key, fields in compiled.positive:
            for f, start, end in found.occurrences.get(key, ()):
                if f in fields and (key, f, start, end) not in seen:
                    seen.add((key, f, start, end))
                    matched.append(MatchedTerm(self._patterns[key].label, FIELDS[f], start, end))
        matched.sort(key=lambda m: (FIELDS.index(m.field), m.start, m.end))
        return tuple(matched)


def compile_query(query: Node, aliases: Mapping[str, Sequence[str]] | None = None) -> CNode:
    """The evaluable form of a query (aliases expanded, terms normalised)."""
    return _compile(query, aliases or {}, {})


def matches_empty_text(node: Node, aliases: Mapping[str, Sequence[str]] | None = None) -> bool:
    """True for a query that matches a text containing none of its terms (e.g. ``-GDPR``).

    Such a watch would alert on nearly every item; the config rejects it.
    """
    return holds(compile_query(node, aliases), Found(("", ""), {}))


def _compile_watch(
    watch: Watch, aliases: Mapping[str, Sequence[str]], patterns: dict[str, _Pattern]
) -> _Compiled:
    tree = simplify(_compile(watch.query, aliases, patterns))
    return _Compiled(watch.name, tree, tuple(dict.fromkeys(positive_keys(tree))))


def _compile(
    node: Node, aliases: Mapping[str, Sequence[str]], patterns: dict[str, _Pattern]
) -> CNode:
    if isinstance(node, Term):
        return _term(node.text, node.prefix, patterns)
    if isinstance(node, Alias):
        if node.name not in aliases:
            known = ", ".join(sorted(aliases)) or "none defined"
            raise QuerySyntaxError(f"unknown alias @{node.name} (aliases: {known})", node.column)
        return COr(tuple(_alias_entry(entry, patterns) for entry in aliases[node.name]))
    if isinstance(node, Not):
        return CNot(_compile(node.child, aliases, patterns))
    if isinstance(node, Field):
        return CField(FIELDS.index(node.name), _compile(node.child, aliases, patterns))
    if isinstance(node, Near):
        left = _compile(node.left, aliases, patterns)
        return CNear(left, _compile(node.right, aliases, patterns), node.distance)
    children = tuple(_compile(child, aliases, patterns) for child in node.children)
    return CAnd(children) if isinstance(node, And) else COr(children)


def _alias_entry(entry: str, patterns: dict[str, _Pattern]) -> CTerm:
    """An alias name is matched like a phrase; a trailing * makes it a prefix."""
    entry = entry.strip()
    prefix = entry.endswith("*") and len(entry) > 1
    return _term(entry[:-1] if prefix else entry, prefix, patterns)


def _term(text: str, prefix: bool, patterns: dict[str, _Pattern]) -> CTerm:
    word = normalise(text)
    key = ("p:" if prefix else "t:") + word
    if word and key not in patterns:
        patterns[key] = _Pattern(
            key=key,
            label=word + ("*" if prefix else ""),
            size=len(word),
            prefix=prefix,
            bound_start=is_word_char(word[0]),
            bound_end=is_word_char(word[-1]),
        )
    return CTerm(key)
