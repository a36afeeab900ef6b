"""Evaluating a compiled watch on the terms found in one item.

The scan (in :mod:`watchers.match`) finds every occurrence of every term at
once; this module decides, per watch, whether those occurrences satisfy its
tree: boolean operators on presence, ``title:``/``summary:`` on the field of
each occurrence, and NEAR/n on token distances within one field. Token
positions are computed only when a NEAR actually needs them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "CAnd",
    "CAny",
    "CField",
    "CNear",
    "CNode",
    "CNot",
    "COr",
    "CTerm",
    "Found",
    "Occurrence",
    "holds",
    "keys_of",
    "positive_keys",
    "simplify",
    "triggers",
]

Occurrence = tuple[int, int, int]  # (field index, start, end) in the normalised field text
ALL_FIELDS = (0, 1)

# A token is a run of Latin letters/digits, or one Han/kana/Hangul character.
_HAN = "\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002ebef\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKEN = re.compile(f"[{_HAN}]|(?:(?![{_HAN}])[^\\W_])+")


@dataclass(frozen=True, slots=True)
class CTerm:
    key: str  # the pattern's key in the scan results


@dataclass(frozen=True, slots=True)
class CAny:
    """An OR of plain terms, tested as one set operation."""

    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class CNot:
    child: CNode


@dataclass(frozen=True, slots=True)
class CAnd:
    children: tuple[CNode, ...]


@dataclass(frozen=True, slots=True)
class COr:
    children: tuple[CNode, ...]


@dataclass(frozen=True, slots=True)
class CNear:
    left: CNode
    right: CNode
    distance: int


@dataclass(frozen=True, slots=True)
class CField:
    field: int
    child: CNode


CNode = CTerm | CAny | CNot | CAnd | COr | CNear | CField


@dataclass(slots=True)
class Found:
    """The scan's result for one item: occurrences per key, and the texts they index."""

    texts: tuple[str, ...]
    occurrences: Mapping[str, list[Occurrence]]
    _starts: dict[int, list[int]] = field(default_factory=dict)

    def token(self, field_index: int, offset: int) -> int:
        """Index of the token at (or just before) ``offset`` in a field."""
        starts = self._starts.get(field_index)
        if starts is None:
            text = self.texts[field_index]
            starts = self._starts[field_index] = [m.start() for m in _TOKEN.finditer(text)]
        return bisect.bisect_right(starts, offset) - 1


def holds(node: CNode, found: Found, fields: tuple[int, ...] = ALL_FIELDS) -> bool:
    """Does the item satisfy ``node`` looking only in ``fields``?"""
    if isinstance(node, CAny):
        if fields is ALL_FIELDS:
            return not found.occurrences.keys().isdisjoint(node.keys)
        return any(o[0] in fields for key in node.keys for o in found.occurrences.get(key, ()))
    if isinstance(node, CTerm):
        occurrences = found.occurrences.get(node.key)
        if not occurrences:
            return False
        return fields is ALL_FIELDS or any(o[0] in fields for o in occurrences)
    if isinstance(node, CAnd):
        return all(holds(child, found, fields) for child in node.children)
    if isinstance(node, COr):
        return any(holds(child, found, fields) for child in node.children)
    if isinstance(node, CNot):
        return not holds(node.child, found, fields)
    if isinstance(node, CField):
        return node.field in fields and holds(node.child, found, (node.field,))
    return any(_spans(node, found, f) for f in fields)


def positive_keys(
    node: CNode, fields: tuple[int, ...] = ALL_FIELDS
) -> list[tuple[str, tuple[int, ...]]]:
    """The terms whose presence supports a match, each with the fields it may be found in."""
    if isinstance(node, CTerm):
        return [(node.key, fields)]
    if isinstance(node, CAny):
        return [(key, fields) for key in sorted(node.keys)]
    if isinstance(node, CNot):
        return []
    if isinstance(node, CField):
        return positive_keys(node.child, (node.field,) if node.field in fields else ())
    if isinstance(node, CNear):
        return positive_keys(node.left, fields) + positive_keys(node.right, fields)
    return [pair for child in node.children for pair in positive_keys(child, fields)]


def _spans(node: CNode, found: Found, field_index: int) -> list[tuple[int, int]]:
    """Where a NEAR operand occurs in one field, as character spans."""
    if isinstance(node, CTerm):
        return [(s, e) for f, s, e in found.occurrences.get(node.key, ()) if f == field_index]
    if isinstance(node, CAny):
        return [
            (s, e)
            for key in node.keys
            for f, s, e in found.occurrences.get(key, ())
            if f == field_index
        ]
    if isinstance(node, COr):
        return [span for child in node.children for span in _spans(child, found, field_index)]
    if isinstance(node, CField):
        return _spans(node.child, found, field_index) if node.field == field_index else []
    if isinstance(node, CNear):
        left = _spans(node.left, found, field_index)
        right = _spans(node.right, found, field_index) if left else []
        return [
            (min(a[0], b[0]), max(a[1], b[1]))
            for a in left
            for b in right
            if _between(found, field_index, a, b) <= node.distance
        ]
    raise TypeError(f"NEAR operand cannot be {type(node).__name__}")  # the parser forbids it


def _between(found: Found, field_index: int, a: tuple[int, int], b: tuple[int, int]) -> int:
    """Tokens strictly between two spans (0 when they touch or overlap)."""
    first, second = (a, b) if a[0] <= b[0] else (b, a)
    last_of_first = found.token(field_index, first[1] - 1)
    first_of_second = found.token(field_index, second[0])
    return max(0, first_of_second - last_of_first - 1)


def simplify(node: CNode) -> CNode:
    """The same tree with every OR of plain terms turned into one :class:`CAny`."""
    if isinstance(node, CTerm | CAny):
        return node
    if isinstance(node, CNot):
        return CNot(simplify(node.child))
    if isinstance(node, CField):
        return CField(node.field, simplify(node.child))
    if isinstance(node, CNear):
        return CNear(simplify(node.left), simplify(node.right), node.distance)
    children = tuple(simplify(child) for child in node.children)
    if isinstance(node, CAnd):
        return CAnd(children)
    if all(isinstance(child, CTerm | CAny) for child in children):
        return CAny(frozenset(k for child in children for k in keys_of(child)))
    return COr(children)


def keys_of(node: CNode) -> list[str]:
    """Every term key in the tree, negated ones included."""
    if isinstance(node, CTerm):
        return [node.key]
    if isinstance(node, CAny):
        return sorted(node.keys)
    if isinstance(node, CNot | CField):
        return keys_of(node.child)
    if isinstance(node, CNear):
        return keys_of(node.left) + keys_of(node.right)
    return [key for child in node.children for key in keys_of(child)]


def triggers(node: CNode, weight: Mapping[str, int]) -> frozenset[str] | None:
    """A set of keys at least one of which every matching text contains; None if there is none.

    Only texts with a trigger present are evaluated against the watch. Of an
    AND's children any one will do, so the lightest is picked: ``weight`` is
    how many watches use a key, and a term shared by many watches (a region,
    a topic) is likely common in text, while a name is likely rare.
    """
    if isinstance(node, CTerm):
        return frozenset([node.key])
    if isinstance(node, CAny):
        return node.keys
    if isinstance(node, CNot):
        return None
    if isinstance(node, CField):
        return triggers(node.child, weight)
    if isinstance(node, COr):
        parts = [triggers(child, weight) for child in node.children]
        if any(part is None for part in parts):
            return None
        return frozenset().union(*(part for part in parts if part is not None))
    sides = node.children if isinstance(node, CAnd) else (node.left, node.right)
    options = [t for t in (triggers(side, weight) for side in sides) if t is not None]
    if not options:
        return None
    return min(options, key=lambda keys: (sum(weight.get(k, 0) for k in keys), len(keys)))
