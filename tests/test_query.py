"""The watch query language: tree shapes, errors with their columns, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchers.query import (
    Alias,
    And,
    Field,
    Near,
    Node,
    Not,
    Or,
    QuerySyntaxError,
    Term,
    parse_query,
    terms,
)


def shape(node: Node) -> object:
    """The tree without columns, which say where a term was written, not what it means."""
    if isinstance(node, Term):
        kind = "phrase" if node.phrase else "prefix" if node.prefix else "term"
        return (kind, node.text)
    if isinstance(node, Alias):
        return ("alias", node.name)
    if isinstance(node, Not):
        return ("NOT", shape(node.child))
    if isinstance(node, Field):
        return (node.name, shape(node.child))
    if isinstance(node, Near):
        return (f"NEAR/{node.distance}", shape(node.left), shape(node.right))
    return ("AND" if isinstance(node, And) else "OR", tuple(shape(c) for c in node.children))


def t(text: str) -> tuple[str, str]:
    return ("term", text)


def p(text: str) -> tuple[str, str]:
    return ("phrase", text)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tesla", t("tesla")),
        ("tesla fsd", ("AND", (t("tesla"), t("fsd")))),
        ("tesla AND fsd", ("AND", (t("tesla"), t("fsd")))),
        ("a b c", ("AND", (t("a"), t("b"), t("c")))),
        ("a OR b OR c", ("OR", (t("a"), t("b"), t("c")))),
        # AND binds tighter than OR, on either side
        ("a b OR c", ("OR", (("AND", (t("a"), t("b"))), t("c")))),
        ("a OR b AND c", ("OR", (t("a"), ("AND", (t("b"), t("c")))))),
        ("a AND b OR c AND d", ("OR", (("AND", (t("a"), t("b"))), ("AND", (t("c"), t("d")))))),
        # NOT binds tighter than AND
        ("NOT a b", ("AND", (("NOT", t("a")), t("b")))),
        ("NOT a OR b", ("OR", (("NOT", t("a")), t("b")))),
        ("NOT (a OR b)", ("NOT", ("OR", (t("a"), t("b"))))),
        ("NOT NOT a", ("NOT", ("NOT", t("a")))),
        # parentheses override precedence
        ("(a OR b) c", ("AND", (("OR", (t("a"), t("b"))), t("c")))),
        ("a (b OR c)", ("AND", (t("a"), ("OR", (t("b"), t("c")))))),
        ("((a))", t("a")),
        # '-' negates only at the start of a word
        ("-gdpr", ("NOT", t("gdpr"))),
        ("a -b", ("AND", (t("a"), ("NOT", t("b"))))),
        ("--a", ("NOT", ("NOT", t("a")))),
        ("-(a OR b)", ("NOT", ("OR", (t("a"), t("b"))))),
        ("self-driving", t("self-driving")),
        ("a-", t("a-")),
        (
            "tesla self-driving -lidar",
            ("AND", (t("tesla"), t("self-driving"), ("NOT", t("lidar")))),
        ),
        # quoted phrases keep their spaces and their operators as text
        ('"full self-driving"', p("full self-driving")),
        ('"  data export "', p("data export")),
        ('"a OR b"', p("a OR b")),
        ('"data export" AND approval', ("AND", (p("data export"), t("approval")))),
        # operators are upper-case only
        ("tesla or fsd", ("AND", (t("tesla"), t("or"), t("fsd")))),
        ("and not", ("AND", (t("and"), t("not")))),
        ("Or", t("Or")),
        # CJK: no spaces needed, full-width space separates
        ("特斯拉FSD", t("特斯拉FSD")),
        ("特斯拉\u3000中国", ("AND", (t("特斯拉"), t("中国")))),
        ("(特斯拉 OR tesla)", ("OR", (t("特斯拉"), t("tesla")))),
    ],
)
def test_tree_shape(query: str, expected: object) -> None:
    assert shape(parse_query(query)) == expected


def test_design_example_tree() -> None:
    query = '(tesla OR 特斯拉) AND (FSD OR "full self-driving") AND (china OR 中国)'
    assert shape(parse_query(query)) == (
        "AND",
        (
            ("OR", (t("tesla"), t("特斯拉"))),
            ("OR", (t("FSD"), p("full self-driving"))),
            ("OR", (t("china"), t("中国"))),
        ),
    )


def test_terms_keep_their_columns_and_order() -> None:
    tree = parse_query('tesla AND "data export" -gdpr')
    assert [(x.text, x.column) for x in terms(tree)] == [
        ("tesla", 1),
        ("data export", 11),
        ("gdpr", 26),
    ]


@pytest.mark.parametrize(
    ("query", "reason", "column"),
    [
        ("(tesla OR fsd", "unbalanced parenthesis", 1),
        ("a (b (c)", "unbalanced parenthesis", 3),
        ("((a)", "unbalanced parenthesis", 1),
        ("tesla OR fsd)", "unbalanced parenthesis", 13),
        (") tesla", "unbalanced parenthesis", 1),
        ("a ) b", "unbalanced parenthesis", 3),
        ('tesla "full self', "unterminated quote", 7),
        ('"', "unterminated quote", 1),
        ('tesla ""', "empty phrase", 7),
        ('a "   "', "empty phrase", 3),
        ("()", "empty parentheses", 1),
        ("tesla ( )", "empty parentheses", 7),
        ("AND tesla", "AND needs a term before it", 1),
        ("OR tesla", "OR needs a term before it", 1),
        ("(OR a)", "OR needs a term before it", 2),
        ("tesla AND", "AND needs a term after it", 7),
        ("tesla OR", "OR needs a term after it", 7),
        ("a AND OR b", "AND needs a term after it", 3),
        ("a OR OR b", "OR needs a term after it", 3),
        ("(a OR) b", "OR needs a term after it", 4),
        ("(a AND)", "AND needs a term after it", 4),
        ("tesla NOT", "NOT needs a term after it", 7),
        ("a NOT OR b", "NOT needs a term after it", 3),
        ("(a NOT)", "NOT needs a term after it", 4),
        ("tesla - gdpr", "'-' must be followed by a term", 7),
        ("tesla -", "'-' must be followed by a term", 7),
        ("-", "'-' must be followed by a term", 1),
        ("(a -)", "'-' needs a term after it", 4),
        ("", "empty query", 1),
        ("   \t ", "empty query", 1),
        ("(" * 65 + "a" + ")" * 65, "nesting too deep", 65),
        ("NOT " * 65 + "a", "nesting too deep", 257),
        ("-" * 65 + "a", "nesting too deep", 65),
    ],
)
def test_syntax_error_names_reason_and_column(query: str, reason: str, column: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert (info.value.reason, info.value.column) == (reason, column)
    assert str(info.value) == f"{reason} at column {column}"


def test_nesting_up_to_the_limit_is_accepted() -> None:
    assert parse_query("(" * 64 + "a" + ")" * 64) == Term("a", column=65)
    node = parse_query("NOT " * 64 + "a")
    for _ in range(64):
        assert isinstance(node, Not)
        node = node.child
    assert node == Term("a", column=257)


def test_syntax_error_is_a_value_error() -> None:
    """Config validation catches ValueError; a bad query must be one."""
    with pytest.raises(ValueError, match="at column 1"):
        parse_query("")


# Property tests --------------------------------------------------------------

# Any text, salted with the characters and words that mean something to the parser.
_SYNTAX = st.sampled_from(
    ["(", ")", '"', "-", " ", "AND", "OR", "NOT", " AND ", " OR ", " NOT ", "a", "特斯拉", "\u3000"]
)
_ANY_QUERY = st.lists(st.one_of(st.text(max_size=5), _SYNTAX), max_size=30).map("".join)


@given(_ANY_QUERY)
def test_any_text_parses_or_raises_query_syntax_error(text: str) -> None:
    try:
        tree = parse_query(text)
    except QuerySyntaxError as error:
        assert error.reason
        assert 1 <= error.column <= len(text) + 1
    else:
        assert isinstance(tree, Term | Alias | And | Or | Not | Near | Field)
        assert all(term.text for term in terms(tree))


# Valid queries built from the grammar: words, phrases, NOT/-, AND/juxtaposition, OR, groups.
_WORD = st.text(
    alphabet=st.characters(exclude_categories=("Z", "C"), exclude_characters='()"\u3000*@:'),
    min_size=1,
    max_size=6,
).filter(
    lambda w: (
        w not in ("AND", "OR", "NOT")
        and not w.startswith(("-", "NEAR"))
        and not any(c.isspace() for c in w)
    )
)
_PHRASE = st.text(
    alphabet=st.characters(exclude_categories=("C",), exclude_characters='"'),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() != "")
_SIMPLE = st.one_of(
    _WORD,
    _PHRASE.map(lambda s: f'"{s}"'),
    st.from_regex(r"[a-z]{2,6}\*", fullmatch=True),  # prefix
    st.from_regex(r"@[a-z][a-z0-9_]{0,5}", fullmatch=True),  # alias
)
_ATOM = st.one_of(
    _SIMPLE,
    st.tuples(st.sampled_from(["title:", "summary:"]), _SIMPLE).map("".join),
    st.tuples(_SIMPLE, st.integers(0, 50), _SIMPLE).map(lambda t: f"({t[0]} NEAR/{t[1]} {t[2]})"),
)


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        inner.map(lambda q: f"NOT {q}"),
        _WORD.map(lambda w: f"-{w}"),
        st.lists(inner, min_size=2, max_size=3).map(" ".join),
        st.lists(inner, min_size=2, max_size=3).map(" AND ".join),
        st.lists(inner, min_size=2, max_size=3).map(" OR ".join),
        inner.map(lambda q: f"({q})"),
    )


_VALID_QUERY = st.recursive(_ATOM, _compound, max_leaves=12)


@given(_VALID_QUERY)
def test_generated_queries_are_valid(query: str) -> None:
    parse_query(query)


@given(_VALID_QUERY)
def test_printed_tree_parses_back_to_the_same_tree(query: str) -> None:
    tree = parse_query(query)
    again = parse_query(str(tree))
    assert shape(again) == shape(tree)
    assert str(again) == str(tree)
