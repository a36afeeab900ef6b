"""The compiled watchlist: which watches an item matches, and why."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchers.match import MatchedTerm, WatchHit, Watchlist, matches_empty_text
from watchers.query import parse_query
from watchers.text import html_to_text, normalise

TESLA_FSD = '(tesla OR 特斯拉) AND (FSD OR "full self-driving") AND (china OR 中国)'
DATA_EXPORT = '"data export" AND (approval OR 批准) -GDPR'
WATCHES = Watchlist.from_queries({"Tesla FSD": TESLA_FSD, "Data exports": DATA_EXPORT})


def matched_watches(title: str, summary: str = "") -> list[str]:
    return [hit.watch for hit in WATCHES.match(title, summary)]


def assert_spans_point_at_terms(hit: WatchHit, title: str, summary: str) -> None:
    fields = {"title": normalise(title), "summary": normalise(summary)}
    assert hit.matched, "a hit always says which terms made it"
    for m in hit.matched:
        assert fields[m.field][m.start : m.end] == m.term


@pytest.mark.parametrize(
    "title",
    [
        "特斯拉FSD有望在中国获批",
        "Tesla brings Full Self-Driving to China",
        "ＴＥＳＬＡ FSD China",
        "TESLA: FSD approved in china",
        "Tesla's FSD (beta) reaches China.",
        "Regulators: Tesla-FSD, China-wide",
        "Tesla full self driving in China",  # phrases ignore hyphens
        "Tesla Full-Self-Driving in China",
        "Tesla full self\u2011driving in China",  # non-breaking hyphen
    ],
)
def test_tesla_fsd_china_matches(title: str) -> None:
    assert matched_watches(title) == ["Tesla FSD"]


@pytest.mark.parametrize(
    "title",
    [
        "Tesla FSDB in China",  # FSD is not a word of its own here
        "Teslas FSD china",  # nor is tesla
        "Tesla FSD in Chinatown",
        "Tesla FSD approved",  # no China
        "特斯拉FSD有望获批",
    ],
)
def test_tesla_fsd_china_does_not_match(title: str) -> None:
    assert matched_watches(title) == []


def test_cjk_character_is_a_word_boundary_for_latin_terms() -> None:
    wl = Watchlist.from_queries({"w": "FSD"})
    assert wl.match("特斯拉FSD有望", "")
    assert not wl.match("特斯拉FSDB有望", "")
    assert not wl.match("特斯拉XFSD有望", "")


def test_cjk_terms_match_as_substrings() -> None:
    wl = Watchlist.from_queries({"w": "中国"})
    assert wl.match("特斯拉FSD有望在中国获批", "")
    assert wl.match("中国获批", "")
    assert not wl.match("特斯拉FSD有望获批", "")


def test_data_export_watch() -> None:
    title = "Beijing eases data export approval for carmakers"
    assert matched_watches(title, "Tesla and others welcome the move.") == ["Data exports"]
    assert matched_watches(title, "Unlike the EU's GDPR, the rules...") == []
    assert matched_watches(title, "unlike the eu's gdpr") == []
    assert matched_watches("网信办批准 data export 申请", "") == ["Data exports"]
    assert matched_watches("Data exporters seek approval", "") == []


def test_terms_in_title_and_summary_together_satisfy_and() -> None:
    title, summary = "Tesla FSD launch", "The rollout starts in China next month."
    assert matched_watches(title, "") == []
    assert matched_watches("", summary) == []
    [hit] = WATCHES.match(title, summary)
    assert hit.watch == "Tesla FSD"
    assert {(m.term, m.field) for m in hit.matched} == {
        ("tesla", "title"),
        ("fsd", "title"),
        ("china", "summary"),
    }
    assert_spans_point_at_terms(hit, title, summary)


def test_negated_term_in_either_field_vetoes() -> None:
    title = "data export approval"
    assert matched_watches(title, "") == ["Data exports"]
    assert matched_watches(title + " under GDPR", "") == []
    assert matched_watches(title, "GDPR") == []


def test_html_derived_text_matches() -> None:
    title = html_to_text("<b>Tes</b>la <i>Full&nbsp;Self-Driving</i> &amp; China")
    summary = html_to_text("<p>特斯拉</p><p>FSD</p><script>var china = 1;</script>")
    [hit] = WATCHES.match(title, summary)
    assert hit.watch == "Tesla FSD"
    assert_spans_point_at_terms(hit, title, summary)
    # script bodies are not text: "china" there must not count
    assert matched_watches("", summary) == []


def test_explanation_spans_point_at_the_matched_text() -> None:
    title = "ＴＥＳＬＡ  Full Self-Driving: approval in 中国"
    summary = "特斯拉FSD有望在中国获批; Tesla FSD, China."
    [hit] = WATCHES.match(title, summary)
    assert_spans_point_at_terms(hit, title, summary)
    assert hit.matched == tuple(
        sorted(hit.matched, key=lambda m: (m.field != "title", m.start, m.end))
    )
    assert hit.terms == ("tesla", "full self driving", "中国", "特斯拉", "fsd", "china")


def test_explanation_lists_every_occurrence_but_not_negated_terms() -> None:
    wl = Watchlist.from_queries({"w": "tesla -recall"})
    [hit] = wl.match("Tesla, tesla, TESLA", "")
    assert hit.matched == (
        MatchedTerm("tesla", "title", 0, 5),
        MatchedTerm("tesla", "title", 7, 12),
        MatchedTerm("tesla", "title", 14, 19),
    )


def test_explanation_json_round_trip() -> None:
    [hit] = WATCHES.match("特斯拉FSD有望在中国获批", "Tesla FSD")
    text = hit.explanation_json()
    assert "特斯拉" in text  # stored readable, not \u-escaped
    assert [MatchedTerm(**row) for row in json.loads(text)] == list(hit.matched)
    assert WatchHit.terms_from_json(text) == hit.terms == ("特斯拉", "fsd", "中国", "tesla")


@pytest.mark.parametrize("broken", ["", "not json", "{}", "[1, 2]", '[{"field": "title"}]'])
def test_terms_from_broken_json_is_empty(broken: str) -> None:
    assert WatchHit.terms_from_json(broken) == ()


def test_several_watches_share_terms_and_report_separately() -> None:
    wl = Watchlist.from_queries({"a": "tesla", "b": "tesla china", "c": "byd"})
    assert wl.names == ("a", "b", "c")
    assert [h.watch for h in wl.match("Tesla in China", "")] == ["a", "b"]
    assert [h.watch for h in wl.match("Tesla", "")] == ["a"]
    assert wl.match("", "") == []


def test_lower_case_or_is_a_term_not_an_operator() -> None:
    wl = Watchlist.from_queries({"w": "tesla or byd"})
    assert not wl.match("tesla byd", "")
    assert wl.match("tesla or byd", "")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("-GDPR", True),
        ("NOT tesla", True),
        ("tesla OR -gdpr", True),
        ("NOT (tesla AND fsd)", True),
        ("tesla", False),
        ("tesla -gdpr", False),
        (DATA_EXPORT, False),
        ("NOT NOT tesla", False),
    ],
)
def test_matches_empty_text(query: str, expected: bool) -> None:
    tree = parse_query(query)
    assert matches_empty_text(tree) is expected
    assert bool(Watchlist.from_queries({"w": query}).match("", "")) is expected


def test_soft_hyphen_inside_a_word_does_not_hide_it() -> None:
    title = html_to_text("Tes&shy;la baut eine Fabrik in Shang&shy;hai")
    assert Watchlist.from_queries({"w": "tesla"}).match(title, "")


def test_simplified_term_matches_traditional_text() -> None:
    assert WATCHES.match("特斯拉FSD有望在中國獲批", "")


def test_trailing_star_is_a_prefix() -> None:
    wl = Watchlist.from_queries({"w": '"data export" AND approve*'})
    assert wl.match("Regulator approves data export", "")


# Property tests --------------------------------------------------------------

_LATIN = ["tesla", "fsd", "china", "data", "export", "approval", "gdpr"]
_CJK = ["特斯拉", "中国", "批准", "自动驾驶"]
_VOCAB = _LATIN + _CJK
_SEPARATORS = [" ", " ", ", ", "", "-", "s ", "\n"]

_TEXT = st.lists(
    st.tuples(st.sampled_from([*_VOCAB, "the", "x"]), st.sampled_from(_SEPARATORS)),
    max_size=8,
).map(lambda parts: "".join(word + sep for word, sep in parts))
_CASED_TEXT = st.tuples(_TEXT, st.booleans()).map(lambda x: x[0].upper() if x[1] else x[0])

_TERM = st.one_of(st.sampled_from(_VOCAB), st.just('"data export"'))
_QUERY = st.tuples(
    st.lists(_TERM, min_size=1, max_size=3), st.sampled_from([" OR ", " AND ", " "])
).map(lambda x: x[1].join(x[0]))


@given(a=_QUERY, b=_QUERY, title=_CASED_TEXT, summary=_TEXT)
def test_boolean_operators_combine_results(a: str, b: str, title: str, summary: str) -> None:
    wl = Watchlist.from_queries(
        {
            "A": a,
            "B": b,
            "A OR B": f"({a}) OR ({b})",
            "A AND B": f"({a}) AND ({b})",
            "NOT A": f"NOT ({a})",
            "-A": f"-({a})",
        }
    )
    hit = {h.watch for h in wl.match(title, summary)}
    assert ("A OR B" in hit) == ("A" in hit or "B" in hit)
    assert ("A AND B" in hit) == ("A" in hit and "B" in hit)
    assert ("NOT A" in hit) == ("A" not in hit)
    assert ("-A" in hit) == ("A" not in hit)


@given(query=_QUERY, title=_CASED_TEXT, summary=_TEXT)
def test_every_hit_is_explained_by_spans_in_the_text(query: str, title: str, summary: str) -> None:
    for hit in Watchlist.from_queries({"w": query}).match(title, summary):
        assert_spans_point_at_terms(hit, title, summary)


_CJK_CHARS = frozenset("".join(_CJK))


def _glues(char: str) -> bool:
    return char.isalnum() and char not in _CJK_CHARS


@given(word=st.sampled_from(_VOCAB), title=_CASED_TEXT)
def test_a_single_term_matches_exactly_when_it_occurs_as_a_word(word: str, title: str) -> None:
    """The reference: a Latin term needs a non-word character (or a CJK one) on each side."""
    text = f" {normalise(title)} "
    starts = [i for i in range(len(text)) if text.startswith(word, i)]
    if word in _CJK:
        expected = bool(starts)
    else:
        expected = any(not _glues(text[i - 1]) and not _glues(text[i + len(word)]) for i in starts)
    assert bool(Watchlist.from_queries({"w": word}).match(title, "")) == expected
