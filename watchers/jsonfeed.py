"""JSON Feed 1.0/1.1 (https://jsonfeed.org), which feedparser does not read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from watchers.errors import FeedParseError
from watchers.parse import MAX_SUMMARY_CHARS, Entry, ParsedFeed
from watchers.text import html_to_text

__all__ = ["parse_json_feed"]


def parse_json_feed(content: bytes, *, url: str = "") -> ParsedFeed:
    """Parse a JSON Feed document; anything else that is JSON is rejected by name."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedParseError(
            f"JSON is not UTF-8 (byte {exc.start}); JSON Feed must be UTF-8"
        ) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FeedParseError(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(document, dict):
        raise FeedParseError("not a feed: JSON that is not a JSON Feed object")
    version = document.get("version")
    if not isinstance(version, str) or "jsonfeed.org/version/" not in version:
        raise FeedParseError("not a feed: JSON without a JSON Feed version")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedParseError("JSON Feed without an items list")
    base = _text(document.get("feed_url")) or _text(document.get("home_page_url")) or url
    entries = tuple(_entry(item, base) for item in items if isinstance(item, dict))
    label = "json" + version.rsplit("/", 1)[-1].replace(".", "")
    return ParsedFeed(
        title=html_to_text(_text(document.get("title")) or "") or None,
        format=label,
        entries=entries,
    )


def _entry(item: dict[str, Any], base: str) -> Entry:
    link = _text(item.get("url")) or _text(item.get("external_url"))
    if link and base:
        link = urljoin(base, link)
    raw_id = item.get("id")
    guid = str(raw_id).strip() if isinstance(raw_id, (str, int)) and str(raw_id).strip() else None
    summary = (
        _text(item.get("summary"))
        or _text(item.get("content_html"))
        or _text(item.get("content_text"))
        or ""
    )
    date_text = _text(item.get("date_published")) or _text(item.get("date_modified"))
    return Entry(
        guid=guid,
        link=link,
        title=html_to_text(_text(item.get("title")) or ""),
        summary=html_to_text(summary)[:MAX_SUMMARY_CHARS],
        published_at=_date(date_text),
        date_text=date_text,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _date(value: str | None) -> datetime | None:
    """RFC 3339 as the spec says; RFC 822 and zone-less times as real feeds send."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
