"""Small builders for test feeds in every format newshound reads.

Tests build their feeds here (dates relative to now) instead of keeping
static files, so every test states the items it depends on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    summary: str = ""
    guid: str | None = None
    age: timedelta = timedelta(hours=1)  # published this long before now; None-like via no_date
    no_date: bool = False

    def published(self, now: datetime) -> datetime:
        return now - self.age


def rss2(items: list[Item], *, title: str = "Test RSS", encoding: str = "utf-8") -> bytes:
    now = datetime.now(UTC)
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://rss.example/</link>",
        "<description>test</description>",
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title><link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        parts.append(f"<description>{escape(item.summary)}</description>")
        if not item.no_date:
            parts.append(f"<pubDate>{format_datetime(item.published(now))}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode(encoding)


def atom(items: list[Item], *, title: str = "Test Atom") -> bytes:
    now = datetime.now(UTC)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title><id>urn:test:atom</id>",
        f"<updated>{now.isoformat()}</updated>",
    ]
    for item in items:
        stamp = item.published(now).isoformat()
        parts += [
            "<entry>",
            f"<title>{escape(item.title)}</title>",
            f'<link rel="alternate" href="{escape(item.link)}"/>',
            f"<id>{escape(item.guid or item.link)}</id>",
            f"<updated>{stamp}</updated><published>{stamp}</published>",
            f'<summary type="html">{escape(item.summary)}</summary>',
            "</entry>",
        ]
    parts.append("</feed>")
    return "\n".join(parts).encode("utf-8")


def rdf(items: list[Item], *, title: str = "Test RDF") -> bytes:
    now = datetime.now(UTC)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        '<channel rdf:about="https://rdf.example/">',
        f"<title>{escape(title)}</title><link>https://rdf.example/</link>",
        "<description>test</description>",
        "<items><rdf:Seq>",
        *(f'<rdf:li rdf:resource="{escape(i.link)}"/>' for i in items),
        "</rdf:Seq></items></channel>",
    ]
    for item in items:
        parts += [
            f'<item rdf:about="{escape(item.link)}">',
            f"<title>{escape(item.title)}</title><link>{escape(item.link)}</link>",
            f"<description>{escape(item.summary)}</description>",
            f"<dc:date>{item.published(now).isoformat()}</dc:date>",
            "</item>",
        ]
    parts.append("</rdf:RDF>")
    return "\n".join(parts).encode("utf-8")


def jsonfeed(items: list[Item], *, title: str = "Test JSON") -> bytes:
    now = datetime.now(UTC)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "items": [
            {
                "id": item.guid or item.link,
                "url": item.link,
                "title": item.title,
                "content_html": item.summary,
                "date_published": item.published(now).isoformat(),
            }
            for item in items
        ],
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
