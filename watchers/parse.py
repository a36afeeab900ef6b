"""Parse stage: feed bytes -> entries with plain-text title and summary.

Always bytes, never a URL or a path: feedparser would otherwise happily go
to the network itself. RSS 0.9x/1.0/2.0 and Atom go through feedparser (which
sniffs the content, not the file name, and copes with wrong or missing
encoding declarations); JSON Feed goes through :mod:`watchers.jsonfeed`.

Anything that is not a feed raises :class:`FeedParseError` with a reason a
person can act on; the poll stage records it against the feed.
"""

from __future__ import annotations

import calendar
import io
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from watchers.errors import FeedParseError
from watchers.text import html_to_text

__all__ = ["MAX_SUMMARY_CHARS", "Entry", "FeedParseError", "ParsedFeed", "parse_feed"]

MAX_SUMMARY_CHARS = 20_000  # enough for any lead; a 400 KB essay is not matched to its end
_MAX_GUNZIP = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry as the feed gave it, text already freed of markup."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    published_at: datetime | None
    date_text: str | None  # the raw date, for identity when there is no guid or link


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    format: str  # e.g. rss20, atom10, rss10, json11
    entries: tuple[Entry, ...]


def parse_feed(content: bytes, *, content_type: str | None = None, url: str = "") -> ParsedFeed:
    """Parse a feed document.

    Args:
        content: the response body, already free of Content-Encoding.
        content_type: the Content-Type header, used as an encoding hint.
        url: where the document came from; relative links resolve against it.

    Raises:
        FeedParseError: the bytes are not a feed, or too broken to recover.
    """
    content = _gunzip_if_needed(content)
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        from watchers.jsonfeed import parse_json_feed

        return parse_json_feed(content, url=url)
    if not head:
        raise FeedParseError("empty response")
    parsed = _feedparser(content, content_type, url)
    if parsed.get("bozo") and not parsed.get("entries"):
        # A declaration that lies about the encoding (e.g. "utf-16" over UTF-8
        # bytes) breaks the XML parser; one retry with the real encoding declared.
        fixed = _redeclared(content)
        if fixed is not None:
            retry = _feedparser(fixed, None, url)
            if retry.get("entries"):
                parsed = retry
    entries = parsed.get("entries") or []
    version = parsed.get("version") or ""
    if not version and not entries:
        raise FeedParseError(_not_a_feed_reason(head, parsed))
    if parsed.get("bozo") and not entries and not _benign(parsed.get("bozo_exception")):
        raise FeedParseError(f"malformed feed with no items: {_bozo_reason(parsed)}")
    feed_title = html_to_text(parsed.feed.get("title", "")) or None
    return ParsedFeed(
        title=feed_title,
        format=version or "unknown",
        entries=tuple(_entry(raw, url) for raw in entries),
    )


def _feedparser(content: bytes, content_type: str | None, url: str) -> Any:
    # Without a Content-Type, give feedparser no HTTP headers at all: with some
    # but no type it assumes ISO-8859-1 instead of sniffing (GB2312, Big5 go wrong).
    # Relative links are resolved against ``url`` in _entry either way.
    headers = {"content-type": content_type, "content-location": url} if content_type else {}
    return feedparser.parse(
        io.BytesIO(content),
        response_headers=headers,
        sanitize_html=False,  # we keep text only, never render feed HTML
        resolve_relative_uris=False,
    )


_DECLARATION = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2", re.IGNORECASE)


def _redeclared(content: bytes) -> bytes | None:
    """The document re-encoded as UTF-8 and declared so, if its bytes are really UTF-8."""
    body = content.removeprefix(b"\xef\xbb\xbf")
    if not _DECLARATION.match(body):
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return _DECLARATION.sub(rb'\1"utf-8"', body, count=1)


def _benign(exc: Any) -> bool:
    """Encoding notices: feedparser decoded the document after all."""
    return isinstance(exc, (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType))


def _entry(raw: Any, base: str) -> Entry:
    link = raw.get("link") or None
    if link and base and not link.startswith(("https://", "http://")):
        link = urljoin(base, link)  # relative links (tpm.atom), resolved against the feed
    summary = raw.get("summary") or ""
    if not summary and raw.get("content"):
        summary = raw["content"][0].get("value", "")
    # dict.get: feedparser's own get() maps a missing "updated" to "published" with a warning.
    parsed_date = dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed")
    guid = raw.get("id") or None
    return Entry(
        guid=str(guid) if guid is not None else None,
        link=link,
        title=html_to_text(raw.get("title") or ""),
        summary=html_to_text(summary)[:MAX_SUMMARY_CHARS],
        published_at=_to_datetime(parsed_date),
        date_text=dict.get(raw, "published") or dict.get(raw, "updated") or None,
    )


def _to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _not_a_feed_reason(head: bytes, parsed: Any) -> str:
    lowered = head.lower()
    if b"<html" in lowered or b"<!doctype html" in lowered or b"<body" in lowered:
        return "not a feed: the server returned an HTML page"
    if parsed.get("bozo"):
        return f"not a feed: {_bozo_reason(parsed)}"
    return "not a feed: no RSS, Atom or JSON Feed document found"


def _bozo_reason(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    message = str(getattr(exc, "getMessage", lambda: exc)()) if exc is not None else "unknown"
    return message.strip() or type(exc).__name__


def _gunzip_if_needed(content: bytes) -> bytes:
    """Some servers send gzip without saying so in Content-Encoding; unpack it here."""
    if not content.startswith(b"\x1f\x8b"):
        return content
    try:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = decompressor.decompress(content, _MAX_GUNZIP)
    except zlib.error as exc:
        raise FeedParseError(f"corrupt gzip body: {exc}") from exc
    if decompressor.unconsumed_tail:
        raise FeedParseError("gzip body unpacks to more than 50 MB")
    return out
