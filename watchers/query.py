"""The watch query language: text -> tree, with errors that name the column.

Grammar (precedence NOT > AND > OR; juxtaposition means AND)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | atom
    atom    := TERM | '"' PHRASE '"' | "(" or ")"

Operators are the upper-case words AND, OR and NOT, so that a lower-case
"or" stays searchable; ``-`` negates only at the start of a word, so
``self-driving`` is one term. Columns in errors are 1-based.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["And", "Node", "Not", "Or", "QuerySyntaxError", "Term", "parse_query", "terms"]


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed; ``column`` (1-based) points at the culprit."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.reason = message
        self.column = column


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a quoted phrase, as written (matching normalises it)."""

    text: str
    phrase: bool = False
    column: int = 0

    def __str__(self) -> str:
        return f'"{self.text}"' if self.phrase else self.text


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


Node = Term | Not | And | Or


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
    if parser.peek() is not None:
        token = parser.peek()
        assert token is not None
        if token.kind == ")":
            raise QuerySyntaxError("unbalanced parenthesis", token.column)
        raise QuerySyntaxError(f"unexpected {token.describe()}", token.column)
    return node


def terms(node: Node) -> list[Term]:
    """Every term in the tree, in order."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return terms(node.child)
    return [term for child in node.children for term in terms(child)]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # TERM PHRASE AND OR NOT - ( )
    text: str
    column: int

    def describe(self) -> str:
        if self.kind in ("TERM", "PHRASE"):
            return f"term {self.text!r}"
        return f"'{self.text}'" if self.kind in "()-" else self.kind


_OPERATORS = {"AND", "OR", "NOT"}
_MAX_DEPTH = 64
_BREAK = set('()"') | {" ", "\t", "\n", "\r", "\u3000"}


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
            word = text[start:i]
            kind = word if word in _OPERATORS else "TERM"
            tokens.append(_Token(kind, word, start + 1))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token], length: int) -> None:
        self._tokens = tokens
        self._pos = 0
        self._end_column = length + 1
        self._depth = 0

    def _nest(self, token: _Token) -> None:
        # Recursion is bounded so that no input, however hostile, crashes the parser.
        self._depth += 1
        if self._depth > _MAX_DEPTH:
            raise QuerySyntaxError("nesting too deep", token.column)

    def peek(self) -> _Token | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self) -> _Token:
        token = self._tokens[self._pos]
        self._pos += 1
        return token

    def parse_or(self) -> Node:
        children = [self._parse_and()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self._take()
            children.append(self._operand_after(token, self._parse_and))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _parse_and(self) -> Node:
        children = [self._parse_unary()]
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":
                self._take()
                children.append(self._operand_after(token, self._parse_unary))
            else:
                children.append(self._parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def _parse_unary(self) -> Node:
        token = self.peek()
        if token is not None and token.kind in ("NOT", "-"):
            self._take()
            self._nest(token)
            node = Not(self._operand_after(token, self._parse_unary))
            self._depth -= 1
            return node
        return self._parse_atom()

    def _parse_atom(self) -> Node:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("expected a term", self._end_column)
        if token.kind in ("AND", "OR"):
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
        return Term(token.text, phrase=token.kind == "PHRASE", column=token.column)

    def _operand_after(self, operator: _Token, parse: Callable[[], Node]) -> Node:
        nxt = self.peek()
        if nxt is None or nxt.kind in (")", "AND", "OR"):
            name = operator.text if operator.kind != "-" else "'-'"
            raise QuerySyntaxError(f"{name} needs a term after it", operator.column)
        return parse()
