"""The full query language: aliases, prefixes, NEAR/n, field scopes, punctuation-tolerant
phrases, Traditional/Simplified Chinese; and the explanation of every hit."""

from __future__ import annotations

import opencc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchers.match import Watchlist
from watchers.query import QuerySyntaxError, parse_query
from watchers.text import normalise

ALIASES = {"tesla": ["Tesla", "特斯拉", "TSLA", "Elon Musk"], "cac": ["CAC", "网信办"]}


def matches(query: str, title: str, summary: str = "") -> bool:
    return bool(Watchlist.from_queries({"w": query}, ALIASES).match(title, summary))


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Elon Musk visits Beijing", True),  # an alias that is a phrase
        ("特斯拉上海工厂", True),
        ("TSLA falls 3%", True),
        ("Musk visits Beijing", False),  # "Elon Musk" is one name, not two
        ("Teslas everywhere", False),  # aliases are words, not prefixes
    ],
)
def test_alias_means_any_of_its_names(title: str, expected: bool) -> None:
    assert matches("@tesla", title) is expected


def test_unknown_alias_is_an_error_naming_it() -> None:
    with pytest.raises(QuerySyntaxError, match=r"unknown alias @tesl \(aliases: cac, tesla\)"):
        Watchlist.from_queries({"w": "@tesl AND fsd"}, ALIASES)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Regulator approves the deal", True),
        ("Deal approved", True),
        ("Approval granted", True),
        ("APPROVING officer", True),
        ("Board disapproves", False),  # the stem must start a word
        ("approv", True),
        ("appro", False),
    ],
)
def test_prefix_matches_words_that_start_with_the_stem(title: str, expected: bool) -> None:
    assert matches("approv*", title) is expected


def test_prefix_span_covers_the_whole_word() -> None:
    [hit] = Watchlist.from_queries({"w": "approv*"}).match("CAC approvals out", "")
    [m] = hit.matched
    assert (m.term, m.start, m.end) == ("approv*", 4, 13)
    assert normalise("CAC approvals out")[m.start : m.end] == "approvals"


@pytest.mark.parametrize(
    ("query", "column", "reason"),
    [
        ("特斯*", 1, "a prefix* works on Latin-script words only"),
        ("a*", 1, "a prefix* needs at least 2 letters before '*'"),
        ("ap*prove", 3, "'*' is only allowed at the end of a word"),
        ("tesla NEAR approval", 7, "NEAR needs a distance, like NEAR/5"),
        ("tesla NEAR/ approval", 7, "NEAR needs a distance, like NEAR/5"),
        ("tesla NEAR/5000 x", 7, "NEAR distance must be at most 1000"),
        ("(a AND b) NEAR/3 c", 11, "NEAR/3 takes terms, phrases, aliases or OR groups"),
        ("a NEAR/3 -b", 3, "NEAR/3 takes terms, phrases, aliases or OR groups"),
        ("NEAR/3 b", 1, "NEAR/3 needs a term before it"),
        ("a NEAR/3", 3, "NEAR/3 needs a term after it"),
        ("title: AND x", 1, "title: needs a term or a group after it"),
        ("@ten$", 1, "invalid alias name '@ten$'"),
    ],
)
def test_new_syntax_errors_name_reason_and_column(query: str, column: int, reason: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert (caught.value.reason, caught.value.column) == (reason, column)


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("tesla one two three four five approval", True),  # 5 tokens between: inside
        ("tesla one two three four five six approval", False),  # 6: outside
        ("approval one two three four five tesla", True),  # either order
        ("tesla approval", True),
        ("特斯拉一二三四五approval", True),  # each CJK character is one token
        ("特斯拉一二三四五六approval", False),
    ],
)
def test_near_counts_tokens_between(summary: str, expected: bool) -> None:
    assert matches("(tesla OR 特斯拉) NEAR/5 approval", "", summary) is expected


def test_near_needs_both_sides_in_the_same_field() -> None:
    assert not matches("tesla NEAR/5 approval", "Tesla news", "approval given")
    assert matches("tesla NEAR/5 approval", "Tesla news", "Tesla approval given")


def test_near_with_groups_and_aliases() -> None:
    query = "(musk OR 马斯克) NEAR/6 (premier OR 总理)"
    assert matches(query, "马斯克与中国国务院总理会面")  # 5 characters between
    assert not matches(query, "马斯克今日抵达北京并将于明日与总理会面")
    assert matches("@tesla NEAR/2 recall", "Elon Musk announces recall")


@pytest.mark.parametrize(
    ("query", "title", "summary", "expected"),
    [
        ("title:tesla", "Tesla news", "", True),
        ("title:tesla", "News", "about Tesla", False),
        ("summary:tesla", "Tesla news", "", False),
        ('title:"data export" approval', "Data export rules", "approval given", True),
        ('title:"data export" approval', "New rules", "data export approval", False),
        ("title:(tesla OR byd) AND summary:china", "BYD sales", "in China", True),
        ("title:(tesla OR byd) AND summary:china", "China sales", "BYD", False),
        ("-title:rumour tesla", "Rumour: Tesla", "", False),
        ("-title:rumour tesla", "Tesla", "a rumour", True),
    ],
)
def test_field_scopes(query: str, title: str, summary: str, expected: bool) -> None:
    assert matches(query, title, summary) is expected


def test_explanation_leaves_out_occurrences_outside_the_scope() -> None:
    [hit] = Watchlist.from_queries({"w": "title:tesla"}).match("Tesla", "Tesla again")
    assert [(m.field, m.start) for m in hit.matched] == [("title", 0)]


@pytest.mark.parametrize(
    "title",
    [
        "Tesla full self-driving",
        "Tesla full self driving",
        "Tesla Full-Self-Driving",
        "Tesla full self\u2011driving",  # non-breaking hyphen
        "Tesla full   self – driving",  # en dash and a run of spaces
        "TESLA FULL SELF DRIVING",
    ],
)
def test_phrases_tolerate_hyphens_and_spaces(title: str) -> None:
    assert matches('"full self-driving"', title)


def test_apostrophes_are_alike() -> None:
    assert matches('"tesla\'s plan"', "Tesla’s plan")
    assert matches("tesla", "Tesla's plan")


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("完全自动驾驶", "特斯拉完全自動駕駛獲批"),
        ("中国", "中國監管機構"),
        ("中國", "中国监管机构"),  # a Traditional term matches Simplified text too
        ("数据出境", "數據出境安全評估"),
    ],
)
def test_traditional_and_simplified_match_each_other(term: str, text: str) -> None:
    assert matches(term, text)


_S2T = opencc.OpenCC("s2t.json")
_SIMPLIFIED = ["特斯拉", "完全自动驾驶", "中国", "数据出境", "批准", "监管", "北京", "汽车", "获批"]
_FILLER = ["的", "在", "，", " ", "今日", "新闻", "FSD", "tesla", "上海"]


@given(
    st.lists(st.sampled_from(_SIMPLIFIED + _FILLER), max_size=10).map("".join),
    st.lists(st.sampled_from(_SIMPLIFIED), min_size=1, max_size=3),
)
def test_traditional_and_simplified_texts_give_the_same_matches(
    text: str, terms: list[str]
) -> None:
    watchlist = Watchlist.from_queries(
        {"any": " OR ".join(terms), "all": " AND ".join(terms), "near": f"{terms[0]} NEAR/3 的"}
    )

    def names(title: str) -> list[str]:
        return [hit.watch for hit in watchlist.match(title, "")]

    assert names(_S2T.convert(text)) == names(text)


_WORDS = ["tesla", "china", "fsd", "approval", "byd", "特斯拉", "中国", "批准", '"data export"']
_LEAF = st.one_of(
    st.sampled_from(_WORDS),
    st.sampled_from(["title:", "summary:"]).flatmap(
        lambda f: st.sampled_from(_WORDS).map(f.__add__)
    ),
    st.sampled_from(["approv*", "tesl*"]),
)


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(inner, inner)
    return st.one_of(
        pair.map(lambda p: f"({p[0]} AND {p[1]})"),
        pair.map(lambda p: f"({p[0]} OR {p[1]})"),
        pair.map(lambda p: f"({p[0]} AND NOT {p[1]})"),
        st.tuples(st.sampled_from(_WORDS), st.integers(0, 4), st.sampled_from(_WORDS)).map(
            lambda t: f"({t[0]} NEAR/{t[1]} {t[2]})"
        ),
    )


_QUERIES = st.recursive(_LEAF, _combine, max_leaves=6)
_ITEM_TEXT = st.lists(
    st.sampled_from(["Tesla", "China", "FSD", "approved", "BYD", "特斯拉", "中國", "批准", "data export",
                     "the", "x", "Teslas", "disapproval"]),
    max_size=10,
).map(" ".join)  # fmt: skip


@given(st.lists(_QUERIES, min_size=1, max_size=6), _ITEM_TEXT, _ITEM_TEXT)
def test_trigger_index_never_loses_a_match(queries: list[str], title: str, summary: str) -> None:
    """Evaluating only the watches whose trigger terms occur gives what evaluating all gives."""
    from watchers.evaluate import holds

    watchlist = Watchlist.from_queries({f"w{i}": q for i, q in enumerate(queries)})
    found = watchlist._scan((normalise(title), normalise(summary)))
    every = [c.name for c in watchlist._compiled if holds(c.tree, found)]
    assert [hit.watch for hit in watchlist.match(title, summary)] == every
