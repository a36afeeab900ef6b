"""Alert text for Telegram: escaped, bold terms, links, and never over 4,096 characters."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.telegram_format import MAX_MESSAGE, alert_html
from storage.records import AlertRecord
from watchers.match import MatchedTerm, WatchHit

WHEN = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
ALLOWED = {"b", "i", "a"}


def _alert(title: str, summary: str = "", url: str | None = "https://a.example/1",
           watches: tuple[str, ...] = ("Tesla FSD",), terms: tuple[str, ...] = ()) -> AlertRecord:  # fmt: skip
    explanation = WatchHit("w", tuple(MatchedTerm(t, "summary", 0, 1) for t in terms))
    return AlertRecord(
        id=1, chat="1", item_id=1, title=title, url=url, summary=summary, feed="Wire <&>",
        published_at=WHEN, created_at=WHEN, sent_at=None, watches=watches,
        explanations=(explanation.explanation_json(),),
    )  # fmt: skip


class _Checker(HTMLParser):
    """Fails on what Telegram's HTML parser rejects: unknown or unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _visible(html_text: str) -> str:
    checker = _Checker()
    checker.feed(html_text)
    checker.close()
    assert not checker.stack
    return "".join(checker.text)


def test_hostile_titles_are_escaped_and_shown_as_written() -> None:
    title = '<script>alert("x")</script> & <b>unbalanced <i>tags & co'
    text = alert_html(_alert(title, "Tesla & <b>friends</b>", terms=("tesla",)))
    visible = _visible(text)
    assert title in visible
    assert "Wire <&>" in visible
    assert "<b>Tesla</b>" in text  # the matched term, in bold
    assert '<a href="https://a.example/1">' in text


def test_time_is_shown_in_the_chats_timezone() -> None:
    assert "2026-11-24 09:30 CST" in alert_html(_alert("x"), ZoneInfo("Asia/Shanghai"))


def test_an_unusable_url_gives_no_link() -> None:
    for url in ("javascript:alert(1)", "https://a.example/?" + "&" * 3000, None):
        text = alert_html(_alert("Title", url=url))
        assert "<a " not in text and "<b>Title</b>" in text


def test_bold_terms_ignore_case_and_hyphens() -> None:
    text = alert_html(
        _alert("t", "Tesla's Full-Self-Driving rolls out", terms=("full self driving",))
    )
    assert "<b>Full-Self-Driving</b>" in text


@given(
    st.text(alphabet="&<>\"'ab 特", max_size=3000),
    st.text(alphabet="&<>ab 中", max_size=20000),
    st.lists(st.text(alphabet="&<w", min_size=1, max_size=300), min_size=1, max_size=3),
)
def test_never_over_the_limit_and_always_valid_html(
    title: str, summary: str, watches: list[str]
) -> None:
    text = alert_html(_alert(title, summary, watches=tuple(watches), terms=("a", "中")))
    assert len(text) <= MAX_MESSAGE
    _visible(text)
