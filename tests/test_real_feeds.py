"""Parse and identify every feed of the real-world corpus in ../shared/feeds/real.

MANIFEST.tsv describes each file (format, encoding, what is odd about it); the
tests below hold the parser to those notes. The corpus sits next to the
repository, not in it: if it is missing these tests fail, they never skip.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from watchers.errors import FeedParseError
from watchers.identity import canonical_url, identify
from watchers.parse import ParsedFeed, parse_feed

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "feeds" / "real"
MANIFEST = CORPUS / "MANIFEST.tsv"
BASE_URL = "https://feeds.example/"


@dataclass(frozen=True, slots=True)
class Sample:
    file: str
    source_repo: str
    source_path: str
    commit: str
    format: str
    language: str
    encoding: str
    notes: str


def _read_manifest() -> dict[str, Sample]:
    if not MANIFEST.is_file():
        return {}
    with MANIFEST.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row["file"]: Sample(**row) for row in rows}


SAMPLES = _read_manifest()
# Without a corpus, one placeholder parameter makes each test fail instead of skipping.
_MISSING = "<corpus missing>"


def _names(where: Callable[[Sample], bool] = lambda sample: True) -> list[str]:
    return sorted(name for name, sample in SAMPLES.items() if where(sample)) or [_MISSING]


def _must_be_rejected(sample: Sample) -> bool:
    notes = sample.notes.lower()
    return (
        notes.startswith(("not a feed", "not a json feed", "malformed json"))
        or "must be rejected" in notes
        or "truncated" in notes
    )


# Well-formed by their notes, yet not expected to yield entries; why, for each.
ZERO_ENTRIES = {
    "anyant__rssant__big5.xml": "a chardet test sample: an Atom <feed> with a title and no entry",
}
REJECTED_BY_DESIGN = {
    "anyant__rssant__gbk_gb18030.json": "JSON in GBK; JSON Feed (and JSON) must be UTF-8",
}


def _should_have_entries(sample: Sample) -> bool:
    notes = sample.notes.lower()
    return (
        sample.format in ("rss2", "atom", "rdf", "json")
        and not any(word in notes for word in ("malformed", "not a feed", "must be rejected"))
        and not _must_be_rejected(sample)
        and sample.file not in ZERO_ENTRIES
        and sample.file not in REJECTED_BY_DESIGN
    )


def read(name: str) -> bytes:
    if not MANIFEST.is_file():
        pytest.fail(f"feed corpus not found: expected {MANIFEST} (../shared next to the repo)")
    return (CORPUS / name).read_bytes()


def parse(name: str) -> ParsedFeed:
    return parse_feed(read(name), url=BASE_URL + name)


def all_text(feed: ParsedFeed) -> str:
    return "\n".join([feed.title or ""] + [f"{e.title}\n{e.summary}" for e in feed.entries])


# The corpus itself --------------------------------------------------------------


def test_corpus_is_present() -> None:
    assert MANIFEST.is_file(), f"feed corpus not found: expected {MANIFEST}"
    assert len(SAMPLES) > 100


def test_manifest_and_folder_agree() -> None:
    read("MANIFEST.tsv")
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file()} - {"MANIFEST.tsv"}
    assert set(SAMPLES) == on_disk


def test_the_manifest_selects_files_of_each_kind() -> None:
    """Guards the selections below: a misread manifest would leave them empty."""
    assert _MISSING not in _names(_must_be_rejected)
    assert len(_names(_must_be_rejected)) >= 8
    assert len(_names(_should_have_entries)) >= 60


# Every file -------------------------------------------------------------------


@pytest.mark.parametrize("name", _names())
def test_every_file_parses_or_is_rejected_cleanly(name: str) -> None:
    content = read(name)
    try:
        feed = parse_feed(content, url=BASE_URL + name)
    except FeedParseError as error:
        assert error.reason.strip()
        return
    assert isinstance(feed, ParsedFeed)
    assert feed.format
    keys = [item.key for item in identify(feed.entries)]
    assert all(keys), "every accepted entry has a key"
    assert len(set(keys)) == len(keys)
    assert all(k.startswith(("guid:", "url:", "hash:")) for k in keys)
    again = parse_feed(content, url=BASE_URL + name)
    assert [item.key for item in identify(again.entries)] == keys


@pytest.mark.parametrize("name", _names(_must_be_rejected))
def test_non_feeds_and_broken_documents_are_rejected(name: str) -> None:
    with pytest.raises(FeedParseError) as info:
        parse(name)
    assert info.value.reason.strip()
    if SAMPLES[name].notes.lower().startswith("not a feed"):
        assert info.value.reason.startswith("not a feed"), info.value.reason


@pytest.mark.parametrize("name", sorted(REJECTED_BY_DESIGN))
def test_rejected_by_design(name: str) -> None:
    with pytest.raises(FeedParseError, match="UTF-8"):
        parse(name)


@pytest.mark.parametrize("name", _names(_should_have_entries))
def test_well_formed_feeds_have_entries(name: str) -> None:
    feed = parse(name)
    assert feed.entries
    assert any(e.title or e.summary for e in feed.entries)


@pytest.mark.parametrize("name", sorted(ZERO_ENTRIES))
def test_feeds_without_entries(name: str) -> None:
    feed = parse(name)
    assert feed.entries == ()
    assert feed.title


# Counts given in the manifest's notes.
EXPECTED_ENTRIES = {
    "anyant__rssant__utf-8.not-utf-16.xml": 877,  # declared utf-16, really UTF-8
    "anyant__rssant__https-mlog-club-topic-atom-xml.xml": 185,  # junk after the root
    "anyant__rssant__http-blog-xiayf-cn-feeds-rss-xml.xml": 136,  # control character
    "anyant__rssant__https-www-oschina-net-news-rss-show-industry.xml": 50,  # bare "&"
    "Richasy__Rodel.Reader__v2ex.xml": 50,
    "spacecowboy__Feeder__rss_nixos.xml": 99,
    "Ranchero-Software__RSParser__scriptingNews.rss": 50,
}


@pytest.mark.parametrize(("name", "count"), sorted(EXPECTED_ENTRIES.items()))
def test_entry_counts_from_the_manifest(name: str, count: int) -> None:
    assert len(parse(name).entries) == count


# Encodings --------------------------------------------------------------------


_FIRST_ITEM_TITLE = re.compile(r"<item>.*?<title>([^<]+)</title>", re.DOTALL)


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("Ranchero-Software__RSParser__kc0011.rss", "建国35周年纪念"),
        ("rbren__rss-parser__encoding-gb2312.xml", "世纪华通"),
    ],
)
def test_gb2312_feeds_give_correct_chinese(name: str, known: str) -> None:
    decoded = read(name).decode("gb2312")
    match = _FIRST_ITEM_TITLE.search(decoded)
    assert match is not None
    first_title = match.group(1).strip()
    assert known in first_title
    feed = parse(name)
    assert feed.entries[0].title == first_title
    assert any(known in e.title for e in feed.entries)


@pytest.mark.parametrize(
    ("name", "codec", "known"),
    [
        ("miniflux__v2__encoding_WINDOWS-1251.xml", "cp1251", "Цитата"),
        ("danmactough__node-feedparser__iconv.xml", "cp1251", "Новости Оренбурга"),
        ("miniflux__v2__encoding_ISO-8859-1.xml", "latin-1", "wünschen"),
        ("miniflux__v2__no_encoding_ISO-8859-1.xml", "latin-1", "très complexe"),
        ("feed-rs__feed-rs__rss_2.0_encoding_1.xml", "latin-1", "Inovação Tecnológica"),
        ("rbren__rss-parser__encoding.rss", "latin-1", "Jornal de Notícias"),
        ("rbren__rss-parser__uolNoticias.rss", "latin-1", "Líder"),
        ("spacecowboy__Feeder__golem-de.xml", "latin-1", "übernimmt"),
    ],
)
def test_legacy_single_byte_encodings_decode(name: str, codec: str, known: str) -> None:
    assert known in read(name).decode(codec)
    text = all_text(parse(name))
    assert known in text
    assert "Ã" not in text and "Ð" not in text  # UTF-8 read as Latin-1, or the reverse


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("anyant__rssant__big5.xml", "周杰倫"),
        ("anyant__rssant__gb2312_gb18030.xml", "汉字编码"),
    ],
)
def test_undeclared_chinese_encodings_decode_without_a_content_type(name: str, known: str) -> None:
    assert known in all_text(parse(name))


# Links and identity -----------------------------------------------------------


def test_relative_atom_links_resolve_to_absolute_urls() -> None:
    name = "danmactough__node-feedparser__tpm.atom"
    feed = parse(name)
    assert len(feed.entries) == 20
    for e in feed.entries:
        assert e.link is not None
        parts = urlsplit(e.link)
        assert parts.scheme in ("http", "https") and parts.netloc, e.link
        assert canonical_url(e.link) is not None
    assert b'href="/livewire/' in read(name)  # the links really are relative in the file


def test_google_alerts_links_are_unwrapped() -> None:
    feed = parse("feedjira__feedjira__google_alerts_atom.xml")
    items = identify(feed.entries)
    assert len(items) == 20
    for item in items:
        assert item.url is not None and urlsplit(item.url).hostname == "www.google.com"
        assert item.canonical_url is not None
        host = urlsplit(item.canonical_url).hostname or ""
        assert host and not host.endswith("google.com"), item.canonical_url


def test_a_news_page_feed_keeps_every_post() -> None:
    """NixOS News: 99 guid-less posts that all link to news.html."""
    feed = parse("spacecowboy__Feeder__rss_nixos.xml")
    items = identify(feed.entries)
    assert len(feed.entries) == len(items) == 99
    assert len({i.key for i in items}) == 99
    assert {i.url for i in items} == {"https://nixos.org/news.html"}
    assert {i.canonical_url for i in items} == {None}  # a shared link makes no story


def test_duplicate_guids_collapse() -> None:
    feed = parse("Ranchero-Software__RSParser__scriptingNews.rss")
    items = identify(feed.entries)
    assert len(feed.entries) == 50
    assert len(items) == 48
    assert {i.key for i in items} == {"guid:" + (e.guid or "").strip() for e in feed.entries}


def test_gzip_bytes_parse() -> None:
    name = "danmactough__node-feedparser__invalid-characters-gzipped.xml"
    assert read(name).startswith(b"\x1f\x8b")
    feed = parse(name)
    assert len(feed.entries) == 25
    assert all(e.title for e in feed.entries)


# Regressions found with the corpus --------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "feed-rs__feed-rs__rss_2.0_ilmessaggero.xml",
        "spacecowboy__Feeder__muhasebetr.html",
        "rbren__rss-parser__uolNoticias.rss",
        "anyant__rssant__dapenti_blog_iframe.xml",
    ],
)
def test_parse_does_not_trip_feedparser_deprecation(name: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parse(name)
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)]
