"""What the read-only commands print: alerts, feeds, explain, backtest. Text in, text out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.backtest import BacktestReport
from bot.format import display_title, format_time
from bot.tables import table
from storage.records import AlertRecord, FeedSummary
from watchers.match import WatchHit
from watchers.text import normalise

__all__ = [
    "alerts_json",
    "alerts_table",
    "backtest_json",
    "backtest_text",
    "explain_json",
    "explain_text",
    "feeds_table",
]


def alerts_json(alerts: Iterable[AlertRecord]) -> str:
    """One JSON object a line."""
    return "\n".join(
        json.dumps(
            {
                "watches": list(a.watches),
                "title": a.title,
                "url": a.url,
                "feed": a.feed,
                "published_at": _iso(a.published_at),
                "sent_at": _iso(a.sent_at),
                "chat": a.chat,
                "story": a.story,
                "also": [{"feed": feed, "url": url} for feed, url in a.also],
            },
            ensure_ascii=False,
        )
        for a in alerts
    )


def alerts_table(alerts: Sequence[AlertRecord]) -> str:
    if not alerts:
        return "no alerts delivered yet"
    rows = [
        [format_time(a.sent_at), ", ".join(a.watches), display_title(a.title, a.summary, 60),
         a.feed]
        for a in alerts
    ]  # fmt: skip
    return table(["sent", "watches", "title", "feed"], rows)


def feeds_table(summaries: Sequence[FeedSummary], configured: set[str]) -> str:
    if not summaries:
        return "no feeds polled yet: run `newshound once`"
    rows = [
        [
            s.name + ("" if s.url in configured else " (not in config)"),
            s.last_status or "never polled",
            format_time(s.last_polled_at) if s.last_polled_at else "-",
            str(s.items),
            str(s.consecutive_failures),
            (s.last_error or "")[:80],
        ]
        for s in summaries
    ]
    return table(["feed", "status", "last poll", "items", "failures", "last error"], rows)


def explain_json(hits: Sequence[WatchHit]) -> str:
    return json.dumps({"watches": [_hit(hit) for hit in hits]}, ensure_ascii=False)


def explain_text(hits: Sequence[WatchHit], title: str, summary: str) -> str:
    """The normalised text (what watches see) and, per matching watch, each term and where."""
    texts = {"title": normalise(title), "summary": normalise(summary)}
    lines = [f"{name}: {text}" for name, text in texts.items() if text]
    if not hits:
        return "\n".join([*lines, "no watch matches"])
    for hit in hits:
        lines.append(f"✔ {hit.watch}")
        for m in hit.matched:
            found = texts[m.field][m.start : m.end]
            lines.append(f"    {m.term!r} in {m.field} [{m.start}:{m.end}] {found!r}")
    return "\n".join(lines)


def backtest_json(result: BacktestReport) -> str:
    return json.dumps(
        {
            "since": result.since.isoformat(),
            "scanned": result.scanned,
            "counts": result.counts,
            "matches": [
                {
                    "watch": m.hit.watch,
                    "title": m.item.title,
                    "url": m.item.url,
                    "feed": m.item.feed,
                    "published_at": m.item.published_at.isoformat()
                    if m.item.published_at
                    else None,
                    "fetched_at": m.item.fetched_at.isoformat(),
                    "matched": _hit(m.hit)["matched"],
                }
                for m in result.matches
            ],
        },
        ensure_ascii=False,
    )


def backtest_text(result: BacktestReport, days: int) -> str:
    lines = [f"{result.scanned} items from the last {days} days scanned; would have matched:"]
    lines += [f"  {count:5d}  {name}" for name, count in result.counts.items()]
    if result.matches:
        lines.append("")
        rows = [
            [format_time(m.item.fetched_at), m.hit.watch,
             display_title(m.item.title, m.item.summary, 60), m.item.feed]
            for m in result.matches
        ]  # fmt: skip
        lines.append(table(["fetched", "watch", "title", "feed"], rows))
    return "\n".join(lines)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _hit(hit: WatchHit) -> dict[str, object]:
    return {
        "name": hit.watch,
        "matched": [
            {"term": m.term, "field": m.field, "start": m.start, "end": m.end} for m in hit.matched
        ],
    }
