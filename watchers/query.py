"""The watch query language: text -> tree, with errors that name the column.

Grammar (precedence NOT > NEAR > AND > OR; juxtaposition means AND)::

    query   := or
    or      := and ("OR" and)*
    and     := near (["AND"] near)*
    near    := unary ("NEAR/" n unary)*
    unary   := ("NOT" | "-") unary | scoped
    scoped  := [("title:" | "summary:")] atom
    atom    := TERM | TERM* | @ALIAS | '"' PHRASE '"' | "(" or ")"

Operators are the upper-case words AND, OR, NOT and NEAR/n, so that a
lower-case "or" stays searchable; ``-`` negates only at the start of a word,
so ``self-driving`` is one term. ``approv*`` is a prefix (Latin words only);
``@tesla`` names an alias group from the config; ``title:`` and ``summary:``
limit what follows to one field. The operands of NEAR are terms, phrases,
aliases or OR groups of them. Columns in errors are 1-based.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from watchers.text import has_cjk, normalise

__all__ = [
    "FIELDS",
    "Alias",
    "And",
    "Field",
    "Near",
    "Node",
    "Not",
    "Or",
    "QuerySyntaxError",
    "Term",
    "aliases_used",
    "parse_query",
    "terms",
]

FIELDS = ("title", "summary")
MAX_NEAR = 1000


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed; ``column`` (1-based) points at the culprit."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.reason = message
        self.column = column


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a quoted phrase, as written (matching normalises it); ``prefix`` for ``stem*``."""

    text: str
    phrase: bool = False
    column: int = 0
    prefix: bool = False

    def __str__(self) -> str:
        if self.phrase:
            return f'"{self.text}"'
        return self.text + ("*" if self.prefix else "")


@dataclass(frozen=True, slots=True)
class Alias:
    """``@name``: any of the names of an alias group defined in the config."""

    name: str
    column: int = 0

    def __str__(self) -> str:
        return f"@{self.name}"


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    def __str__(self) -> str:
        return f"NOT {self.child}"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.children)) + ")"


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.children)) + ")"


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides in one field, at most ``distance`` tokens between them, either order."""

    left: Node
    right: Node
    distance: int

    def __str__(self) -> str:
        return f"({self.left} NEAR/{self.distance} {self.right})"


@dataclass(frozen=True, slots=True)
class Field:
    """The child holds within one field only (``title:`` or ``summary:``)."""

    name: str
    child: Node

    def __str__(self) -> str:
        return f"{self.name}:{self.child}"


Node = Term | Alias | Not | And | Or | Near | Field


def parse_query(text: str) -> Node:
    """Parse a query into a tree.

    Raises:
        QuerySyntaxError: with the reason and the 1-based column.
    """
    tokens = _tokenize(text)
    if not tokens:
        raise QuerySyntaxError("empty query", 1)
    parser = _Parser(tokens, len(text))
    node = parser.parse_or()
    token = parser.peek()
    if token is not None:
        if token.kind == ")":
            raise QuerySyntaxError("unbalanced parenthesis", token.column)
        raise QuerySyntaxError(f"unexpected {token.describe()}", token.column)
    return node


def terms(node: Node) -> list[Term]:
    """Every term in the tree, in order (aliases are not expanded here)."""
    return [n for n in _walk(node) if isinstance(n, Term)]


def aliases_used(node: Node) -> list[Alias]:
    return [n for n in _walk(node) if isinstance(n, Alias)]


def _walk(node: Node) -> list[Node]:
    if isinstance(node, Term | Alias):
        return [node]
    if isinstance(node, Not | Field):
        return [node, *_walk(node.child)]
    if isinstance(node, Near):
        return [node, *_walk(node.left), *_walk(node.right)]
    return [node, *(n for child in node.children for n in _walk(child))]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # TERM PHRASE ALIAS FIELD AND OR NOT NEAR - ( )
    text: str
    column: int
    distance: int = 0

    def describe(self) -> str:
        if self.kind in ("TERM", "PHRASE", "ALIAS"):
            return f"term {self.text!r}"
        return f"'{self.text}'" if self.kind in "()-" else self.kind


_OPERATORS = {"AND", "OR", "NOT"}
_MAX_DEPTH = 64
_BREAK = set('()"')
_NEAR = re.compile(r"NEAR(?:/(\d*))?$")
_ALIAS = re.compile(r"@[\w-]+$")
_FIELD = re.compile(r"(title|summary):", re.IGNORECASE)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, char, i + 1))
            i += 1
        elif char == '"':
            end = text.find('"', i + 1)
            if end == -1:
                raise QuerySyntaxError("unterminated quote", i + 1)
            phrase = text[i + 1 : end].strip()
            if not phrase:
                raise QuerySyntaxError("empty phrase", i + 1)
            tokens.append(_Token("PHRASE", phrase, i + 1))
            i = end + 1
        elif char == "-" and (i + 1 < n and not text[i + 1].isspace()):
            tokens.append(_Token("-", "-", i + 1))
            i += 1
        elif char == "-":
            raise QuerySyntaxError("'-' must be followed by a term", i + 1)
        else:
            start = i
            while i < n and text[i] not in _BREAK and not text[i].isspace():
                i += 1
            tokens.extend(_word(text[start:i], start + 1))
    return tokens


def _word(word: str, column: int) -> list[_Token]:
    """One space-free word: an operator, a field prefix (maybe with its term), an alias, a term."""
    if word in _OPERATORS:
        return [_Token(word, word, column)]
    if near := _NEAR.match(word):
        digits = near.group(1)
        if not digits:
            raise QuerySyntaxError("NEAR needs a distance, like NEAR/5", column)
        if int(digits) > MAX_NEAR:
            raise QuerySyntaxError(f"NEAR distance must be at most {MAX_NEAR}", column)
        return [_Token("NEAR", word, column, int(digits))]
    if field := _FIELD.match(word):
        scope = _Token("FIELD", field.group(1).lower(), column)
        rest = word[field.end() :]
        return [scope, *(_word(rest, column + field.end()) if rest else [])]
    if word.startswith("@"):
        if not _ALIAS.match(word):
            raise QuerySyntaxError(f"invalid alias name {word!r}", column)
        return [_Token("ALIAS", word[1:], column)]
    if "*" in word:
        _check_prefix(word, column)
    return [_Token("TERM", word, column)]


def _check_prefix(word: str, column: int) -> None:
    star = word.index("*")
    if star != len(word) - 1:
        raise QuerySyntaxError("'*' is only allowed at the end of a word", column + star)
    stem = normalise(word[:-1])
    if has_cjk(stem):
        raise QuerySyntaxError("a prefix* works on Latin-script words only", column)
    if len(stem) < 2:
        raise QuerySyntaxError("a prefix* needs at least 2 letters before '*'", column)


class _Parser:
    def __init__(self, tokens: list[_Token], length: int) -> None:
        self._tokens = tokens
        self._pos = 0
        self._end_column = length + 1
        self._depth = 0

    def peek(self) -> _Token | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self) -> _Token:
        token = self._tokens[self._pos]
        self._pos += 1
        return token

    def _nest(self, token: _Token) -> None:
        # Recursion is bounded so that no input, however hostile, crashes the parser.
        self._depth += 1
        if self._depth > _MAX_DEPTH:
            raise QuerySyntaxError("nesting too deep", token.column)

    def parse_or(self) -> Node:
        children = [self._parse_and()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self._take()
            children.append(self._operand_after(token, self._parse_and))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _parse_and(self) -> Node:
        children = [self._parse_near()]
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":
                self._take()
                children.append(self._operand_after(token, self._parse_near))
            else:
                children.append(self._parse_near())
        return children[0] if len(children) == 1 else And(tuple(children))

    def _parse_near(self) -> Node:
        if (token := self.peek()) is not None and token.kind == "NEAR":
            raise QuerySyntaxError(f"{token.text} needs a term before it", token.column)
        node = self._parse_unary()
        while (token := self.peek()) is not None and token.kind == "NEAR":
            self._take()
            right = self._operand_after(token, self._parse_unary)
            for side in (node, right):
                if not _near_operand(side):
                    raise QuerySyntaxError(
                        f"{token.text} takes terms, phrases, aliases or OR groups", token.column
                    )
            node = Near(node, right, token.distance)
        return node

    def _parse_unary(self) -> Node:
        token = self.peek()
        if token is not None and token.kind in ("NOT", "-"):
            self._take()
            self._nest(token)
            negated = Not(self._operand_after(token, self._parse_unary))
            self._depth -= 1
            return negated
        if token is not None and token.kind == "FIELD":
            self._take()
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("TERM", "PHRASE", "ALIAS", "("):
                raise QuerySyntaxError(f"{token.text}: needs a term or a group after it",
                                       token.column)  # fmt: skip
            self._nest(token)
            scoped = Field(token.text, self._parse_atom())
            self._depth -= 1
            return scoped
        return self._parse_atom()

    def _parse_atom(self) -> Node:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("expected a term", self._end_column)
        if token.kind in ("AND", "OR", "NEAR"):
            raise QuerySyntaxError(f"{token.kind} needs a term before it", token.column)
        if token.kind == ")":
            raise QuerySyntaxError("unbalanced parenthesis", token.column)
        self._take()
        if token.kind == "(":
            if (inner := self.peek()) is not None and inner.kind == ")":
                raise QuerySyntaxError("empty parentheses", token.column)
            self._nest(token)
            node = self.parse_or()
            self._depth -= 1
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise QuerySyntaxError("unbalanced parenthesis", token.column)
            self._take()
            return node
        if token.kind == "ALIAS":
            return Alias(token.text, token.column)
        if token.kind == "TERM" and token.text.endswith("*"):
            return Term(token.text[:-1], column=token.column, prefix=True)
        return Term(token.text, phrase=token.kind == "PHRASE", column=token.column)

    def _operand_after(self, operator: _Token, parse: Callable[[], Node]) -> Node:
        nxt = self.peek()
        if nxt is None or nxt.kind in (")", "AND", "OR", "NEAR"):
            name = operator.text if operator.kind != "-" else "'-'"
            raise QuerySyntaxError(f"{name} needs a term after it", operator.column)
        return parse()


def _near_operand(node: Node) -> bool:
    if isinstance(node, Term | Alias | Near):
        return True
    if isinstance(node, Field):
        return _near_operand(node.child)
    if isinstance(node, Or):
        return all(_near_operand(child) for child in node.children)
    return False
