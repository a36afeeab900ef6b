"""Item identity: the same story gets the same key on every poll, different stories do not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchers.identity import canonical_url, identify, item_key
from watchers.parse import Entry


def entry(
    title: str = "Tesla FSD approved in China",
    *,
    guid: str | None = None,
    link: str | None = None,
    summary: str = "",
    date_text: str | None = None,
) -> Entry:
    published = datetime(2024, 5, 1, 8, 0, tzinfo=UTC) if date_text else None
    return Entry(
        guid=guid,
        link=link,
        title=title,
        summary=summary,
        published_at=published,
        date_text=date_text,
    )


# item_key ---------------------------------------------------------------------


def test_guid_wins_over_link() -> None:
    assert item_key(entry(guid="abc-123", link="https://example.com/a")) == "guid:abc-123"
    # a changed link or title does not change a guid'd item's key
    assert item_key(entry("Other title", guid="abc-123", link="https://example.com/b")) == (
        "guid:abc-123"
    )


def test_guid_whitespace_is_stripped() -> None:
    assert item_key(entry(guid="  abc-123\n\t")) == "guid:abc-123"
    assert item_key(entry(guid="  abc-123\n\t")) == item_key(entry(guid="abc-123"))


def test_blank_guid_falls_back_to_the_link() -> None:
    assert item_key(entry(guid="  ", link="https://example.com/a")) == "url:https://example.com/a"


def test_link_key_ignores_tracking_parameters() -> None:
    clean = item_key(entry(link="https://example.com/news/1?id=7"))
    assert clean == "url:https://example.com/news/1?id=7"
    for tracked in [
        "https://example.com/news/1?id=7&utm_source=twitter&utm_medium=social",
        "https://example.com/news/1?utm_campaign=x&id=7",
        "https://example.com/news/1?id=7&fbclid=IwAR0abc",
        "https://example.com/news/1?gclid=EAIaIQ&id=7&UTM_CONTENT=y",
    ]:
        assert item_key(entry(link=tracked)) == clean, tracked


def test_link_key_keeps_meaningful_parameters() -> None:
    assert item_key(entry(link="https://example.com/?p=1")) != item_key(
        entry(link="https://example.com/?p=2")
    )


def test_link_key_keeps_the_fragment() -> None:
    """news.html#2018-10-06 and news.html#2018-11-02 are different posts."""
    a = item_key(entry(link="https://example.com/news.html#2018-10-06"))
    b = item_key(entry(link="https://example.com/news.html#2018-11-02"))
    assert a == "url:https://example.com/news.html#2018-10-06"
    assert a != b


def test_title_change_does_not_change_a_link_key() -> None:
    link = "https://example.com/a"
    assert item_key(entry("Draft title", link=link)) == item_key(entry("Final title", link=link))


def test_hash_key_without_guid_or_link() -> None:
    first = item_key(entry("Tesla FSD approved", date_text="Wed, 01 May 2024 08:00:00 GMT"))
    again = item_key(entry("Tesla FSD approved", date_text="Wed, 01 May 2024 08:00:00 GMT"))
    other = item_key(entry("BYD expands", date_text="Wed, 01 May 2024 08:00:00 GMT"))
    later = item_key(entry("Tesla FSD approved", date_text="Thu, 02 May 2024 08:00:00 GMT"))
    assert first.startswith("hash:")
    assert first == again
    assert len({first, other, later}) == 3


def test_hash_key_of_an_untitled_item_uses_its_summary() -> None:
    assert item_key(entry("", summary="one post")) != item_key(entry("", summary="another post"))


def test_non_http_link_falls_back_to_hash() -> None:
    assert item_key(entry(link="mailto:news@example.com")).startswith("hash:")


def test_hash_keys_are_pinned() -> None:
    """Keys are stored data: a changed recipe would re-alert every guid-less, link-less item.

    The values are sha256-based, not hash(), so they survive a restart.
    """
    assert item_key(entry()) == "hash:1eaffe1f93da2cfb839331bd294ac2b4"
    shared = entry("NixCon 2018", link="https://nixos.org/news.html", date_text="Fri Nov 02 2018")
    assert item_key(shared, shared_link=True) == "hash:774787e7a1ddd7ac9232796aa661dc40"


def test_rungs_never_collide() -> None:
    url = "https://example.com/a"
    assert item_key(entry(guid=url)) != item_key(entry(link=url))


# canonical_url ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a/B?x=1",
        "HTTPS://EXAMPLE.COM/a/B?x=1",
        "https://www.example.com/a/B?x=1",
        "https://WWW.Example.Com:443/a/B?x=1",
        "https://example.com./a/B?x=1",
        "  https://example.com/a/B?x=1\n",
        "https://example.com/a/B?x=1#comments",
        "https://example.com/a/B?x=1&utm_source=rss&utm_medium=feed",
    ],
)
def test_canonical_url_removes_noise(url: str) -> None:
    assert canonical_url(url) == "https://example.com/a/B?x=1"


def test_canonical_url_default_and_other_ports() -> None:
    assert canonical_url("http://example.com:80/a") == "http://example.com/a"
    assert canonical_url("http://example.com:8080/a") == "http://example.com:8080/a"
    assert canonical_url("https://example.com:80/a") == "https://example.com:80/a"


def test_canonical_url_keeps_path_case_and_scheme() -> None:
    assert canonical_url("http://example.com/News/A") == "http://example.com/News/A"
    assert canonical_url("http://example.com") == "http://example.com/"
    assert canonical_url("http://example.com/a") != canonical_url("https://example.com/a")


def test_fragment_dropped_by_default_and_kept_on_request() -> None:
    url = "https://example.com/news.html#2018-10-06"
    assert canonical_url(url) == "https://example.com/news.html"
    assert canonical_url(url, keep_fragment=True) == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://example.com/a?utm_source=x&ct=ga",
            "https://example.com/a",
        ),
        ("https://www.google.com/url?q=https://example.com/b&sa=D", "https://example.com/b"),
        (
            "https://www.google.com/url?url=https%3A%2F%2Fwww.example.com%2Fc%3Fid%3D1",
            "https://example.com/c?id=1",
        ),
    ],
)
def test_google_redirect_wrapper_is_unwrapped(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_google_wrapper_with_a_non_http_target_is_not_unwrapped() -> None:
    url = canonical_url("https://www.google.com/url?url=javascript:alert(1)")
    assert url is not None
    assert url.startswith("https://google.com/url?")


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "ftp://example.com/a",
        "mailto:news@example.com",
        "javascript:alert(1)",
        "/news/relative",
        "example.com/a",
        "http:///no-host",
        "http://example.com:99999/",
        "tag:example.com,2005:post/1",
    ],
)
def test_non_http_urls_have_no_canonical_form(url: str | None) -> None:
    assert canonical_url(url) is None
    assert canonical_url(url, keep_fragment=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://WWW.Example.COM:443/A?utm_source=x&b=a+b&c=%2F#f",
        "https://www.google.com/url?rct=j&sa=t&url=https://example.com/a?utm_source=x&ct=ga",
        "http://example.com:8080/?q",
    ],
)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url, keep_fragment=True)
    assert canonical_url(once, keep_fragment=True) == once


def test_canonical_url_keeps_ipv6_brackets() -> None:
    assert canonical_url("http://[::1]:8080/a") == "http://[::1]:8080/a"


# identify ---------------------------------------------------------------------


def test_identify_carries_the_entry_fields() -> None:
    e = entry(
        "Tesla FSD",
        link="https://www.example.com/a?utm_source=rss#top",
        summary="In China",
        date_text="x",
    )
    [item] = identify([e])
    assert item.key == "url:https://example.com/a#top"
    assert item.url == e.link
    assert item.canonical_url == "https://example.com/a"
    assert (item.title, item.summary, item.published_at) == (e.title, e.summary, e.published_at)


def test_duplicate_keys_within_a_feed_keep_the_first() -> None:
    entries = [
        entry("first", guid="g1"),
        entry("second", guid="g2"),
        entry("first again", guid=" g1 "),
        entry("by link", link="https://example.com/a?utm_source=x"),
        entry("by link", link="https://www.example.com/a"),
    ]
    items = identify(entries)
    assert [i.title for i in items] == ["first", "second", "by link"]
    assert [i.key for i in items] == ["guid:g1", "guid:g2", "url:https://example.com/a"]


def test_entries_sharing_one_link_keep_distinct_keys() -> None:
    """A 'news.html' page feed: every post links to the same page, without guids."""
    link = "https://nixos.org/news.html"
    entries = [
        entry("NixOS 18.09 released", link=link, date_text="Sat Oct 06 2018"),
        entry("NixCon 2018", link=link, date_text="Fri Nov 02 2018"),
        entry("NixOS 18.03 released", link=link, date_text="Wed Apr 04 2018"),
    ]
    items = identify(entries)
    assert len(items) == 3
    assert len({i.key for i in items}) == 3
    assert all(i.key.startswith("hash:") for i in items)
    assert {i.url for i in items} == {link}
    # a link every post shares names none of them: no canonical URL, so no story merges them
    assert {i.canonical_url for i in items} == {None}
    # and the keys are the same on the next poll
    assert [i.key for i in identify(entries)] == [i.key for i in items]


def test_shared_link_with_one_title_is_a_plain_duplicate() -> None:
    link = "https://example.com/a"
    items = identify([entry("Same", link=link), entry("Same", link=link)])
    assert [i.key for i in items] == ["url:https://example.com/a"]


def test_guid_items_are_not_affected_by_shared_links() -> None:
    link = "https://example.com/live"
    items = identify(
        [entry("Update 1", guid="u1", link=link), entry("Update 2", guid="u2", link=link)]
    )
    assert [i.key for i in items] == ["guid:u1", "guid:u2"]


def test_identify_is_deterministic() -> None:
    entries = [
        entry("a", link="https://example.com/1"),
        entry("b"),
        entry("c", guid="g"),
        entry("d", link="https://example.com/p"),
        entry("e", link="https://example.com/p"),
    ]
    assert [i.key for i in identify(entries)] == [i.key for i in identify(list(entries))]
    assert all(i.key for i in identify(entries))
