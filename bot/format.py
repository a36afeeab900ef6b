"""Turning stored alerts into text a person reads. Nothing else happens here."""

from __future__ import annotations

from datetime import datetime, tzinfo

from storage.records import AlertRecord
from watchers.match import WatchHit

__all__ = ["console_block", "display_title", "format_time"]

_RULE = "─" * 72


def display_title(title: str, summary: str, limit: int = 120) -> str:
    """The title, or for title-less posts (microblogs) the start of the summary."""
    text = title.strip() or summary.strip() or "(untitled)"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_time(value: datetime | None, zone: tzinfo | None = None) -> str:
    if value is None:
        return "date unknown"
    local = value.astimezone(zone) if zone else value
    return local.strftime("%Y-%m-%d %H:%M %Z").strip()


def matched_terms(alert: AlertRecord) -> list[str]:
    terms: list[str] = []
    for explanation in alert.explanations:
        terms.extend(t for t in WatchHit.terms_from_json(explanation) if t not in terms)
    return terms


def console_block(alert: AlertRecord) -> str:
    """One readable block per alert: watches, title, feed and time, link, why it matched,
    and the other outlets that carried the story by the time it is shown."""
    watches = ", ".join(alert.watches) or "(no watch)"
    lines = [
        _RULE,
        f"▶ {watches}",
        f"  {display_title(alert.title, alert.summary)}",
        f"  {alert.feed} · {format_time(alert.published_at)}",
    ]
    if alert.url:
        lines.append(f"  {alert.url}")
    terms = matched_terms(alert)
    if terms:
        lines.append(f"  matched: {', '.join(terms)}")
    outlets = [name for name in dict.fromkeys(name for name, _ in alert.also) if name != alert.feed]
    if outlets:
        lines.append(f"  also reported by: {', '.join(outlets)}")
    return "\n".join(lines)
