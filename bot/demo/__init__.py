"""`newshound demo`: the whole pipeline, offline, on bundled sample feeds.

The sample feeds in ``feeds/`` were written for newshound (invented outlets,
English and Chinese, one GB2312-encoded). Their dates are placeholders such as
``{{rfc822:-2h}}`` and ``{{iso:-3d}}``, filled in relative to now when served,
so the demo always has fresh stories (alerted) and old ones (stored silently,
because they predate the subscription).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib import resources

from bot.demo.server import FeedServer, Route

__all__ = ["DEMO_FEEDS", "DEMO_WATCHES", "demo_server", "render"]

# (file, path served at, content type, display name)
DEMO_FEEDS = (
    ("harbour-wire.rss", "/harbour-wire.rss", "application/rss+xml; charset=utf-8", None),
    ("eastern-auto.gb2312.rss", "/eastern-auto.rss", "application/rss+xml", "东方汽车日报"),
    ("policy-watch.atom", "/policy-watch.atom", "application/atom+xml", None),
    ("regulator-notes.rdf", "/regulator-notes.rdf", "application/rdf+xml", None),
    ("market-brief.json", "/market-brief.json", "application/feed+json", None),
)

DEMO_WATCHES = {
    "Tesla FSD in China": (
        '(tesla OR 特斯拉) AND (FSD OR "full self-driving" OR 完全自动驾驶) '
        "AND (china OR 中国 OR beijing OR 北京)"
    ),
    "China data-export approvals": (
        '("data export" OR "cross-border data" OR 数据出境) '
        "AND (approval OR approved OR approves OR 批准 OR 通过) -GDPR"
    ),
}

_PLACEHOLDER = re.compile(rb"\{\{(rfc822|iso):([+-]\d+)([mhd])\}\}")
_UNITS = {b"m": "minutes", b"h": "hours", b"d": "days"}


def render(template: bytes, now: datetime) -> bytes:
    """Fill the date placeholders of a sample feed relative to ``now`` (bytes in, bytes out,
    so a GB2312 file stays GB2312)."""

    def replace(match: re.Match[bytes]) -> bytes:
        kind, amount, unit = match.groups()
        when = now + timedelta(**{_UNITS[unit]: int(amount)})
        text = format_datetime(when) if kind == b"rfc822" else when.isoformat(timespec="seconds")
        return text.encode("ascii")

    return _PLACEHOLDER.sub(replace, template)


def demo_server(now: datetime | None = None) -> FeedServer:
    """A (not yet started) server carrying the sample feeds, dated relative to ``now``."""
    now = now or datetime.now(UTC)
    folder = resources.files("bot.demo") / "feeds"
    routes = {
        path: Route(body=render((folder / name).read_bytes(), now), content_type=content_type)
        for name, path, content_type, _ in DEMO_FEEDS
    }
    return FeedServer(routes)
