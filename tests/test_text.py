"""html_to_text turns feed markup into readable text; normalise makes it matchable."""

from __future__ import annotations

import pytest

from watchers.text import html_to_text, is_cjk, is_word_char, normalise


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>Tesla <em>FSD</em> in <a href='/cn'>China</a></p>", "Tesla FSD in China"),
        ("<B>Loud</B> <DIV>tags</DIV>", "Loud tags"),
        ('<img src="x.jpg" alt="photo"/>caption', "caption"),
        ("<!-- tracking pixel --> visible", "visible"),
    ],
)
def test_tags_are_stripped(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


@pytest.mark.parametrize(
    "markup",
    ["<b>Tes</b>la", "T<span>es</span>la", "<strong>T</strong><em>e</em>sla", "Tes<wbr>la"],
)
def test_inline_tags_do_not_split_words(markup: str) -> None:
    assert html_to_text(markup) == "Tesla"


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>a</p><p>b</p>", "a b"),
        ("a<br>b", "a b"),
        ("a<br/>b", "a b"),
        ("<li>a</li><li>b</li>", "a b"),
        ("<td>a</td><td>b</td>", "a b"),
        ("<div>a</div>b", "a b"),
    ],
)
def test_block_tags_separate_words(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("It&#39;s here", "It's here"),
        ("AT&amp;T", "AT&T"),
        ("data&nbsp;export", "data export"),
        ("&#x7279;&#26031;&#x62C9;", "特斯拉"),
        ("&lt;not a tag&gt;", "<not a tag>"),
        ("&quot;quoted&quot; &mdash; dash", '"quoted" — dash'),
    ],
)
def test_entities_are_unescaped(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


@pytest.mark.parametrize(
    "markup",
    [
        "<script>var s = '<p>Tesla</p>';</script>Headline",
        "<SCRIPT type='text/javascript'>track()</SCRIPT>Headline",
        "<style>p { color: red }</style>Headline",
        "<style media='all'>\n.a{}\n</style >Headline",
    ],
)
def test_script_and_style_bodies_are_dropped(markup: str) -> None:
    assert html_to_text(markup) == "Headline"


def test_control_characters_are_removed() -> None:
    assert html_to_text("Te\x00s\x07l\x1ba\x7f") == "Tesla"
    assert html_to_text("a&#1;b") == "ab"


def test_whitespace_becomes_single_spaces_on_one_line() -> None:
    assert html_to_text("  one\ntwo\r\n\tthree \u2028 four  ") == "one two three four"


def test_plain_text_passes_through() -> None:
    assert html_to_text("x < y and AT&T <3") == "x < y and AT&T <3"
    assert html_to_text("特斯拉FSD有望在中国获批") == "特斯拉FSD有望在中国获批"


def test_quoted_gt_inside_an_attribute_does_not_leak() -> None:
    assert html_to_text('<a title="1 > 0">Tesla</a>') == "Tesla"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＴＥＳＬＡ", "tesla"),
        ("ＦＳＤ　ｉｎ　Ｃｈｉｎａ", "fsd in china"),
        ("ｆｕｌｌ ｓｅｌｆ－ｄｒｉｖｉｎｇ", "full self driving"),  # hyphens read as spaces
        ("完全自動駕駛 在中國", "完全自动驾驶 在中国"),  # Traditional reads as Simplified
        ("Tesla’s  O'Neil", "tesla s o neil"),
        ("Tesla FSD", "tesla fsd"),
        ("STRASSE Straße", "strasse strasse"),
        ("ﬁnal", "final"),
        ("  Data \n\t Export\u3000批准  ", "data export 批准"),
        ("特斯拉", "特斯拉"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_is_idempotent() -> None:
    text = "  ＴＥＳＬＡ\tFull  Self-Driving 中国 Straße "
    assert normalise(normalise(text)) == normalise(text)


@pytest.mark.parametrize("char", ["特", "国", "の", "カ", "한", "、"])
def test_cjk_characters(char: str) -> None:
    assert is_cjk(char)
    assert not is_word_char(char)


@pytest.mark.parametrize("char", ["a", "Z", "7", "é", "ж"])
def test_latin_and_other_letters_are_word_characters(char: str) -> None:
    assert not is_cjk(char)
    assert is_word_char(char)


@pytest.mark.parametrize("char", [" ", "-", "'", ".", "_", "\u200b"])
def test_punctuation_is_not_a_word_character(char: str) -> None:
    assert not is_word_char(char)
