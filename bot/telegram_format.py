"""Alert text for Telegram: HTML parse mode, escaped, and never over 4,096 characters.

Everything from a feed is escaped, and cut to length BEFORE escaping (cutting
after could split an entity like ``&amp;`` and make Telegram reject the
message). If the escaped result is still too long (a text full of ``&`` and
``<`` grows fivefold), the snippet and then the title get shorter budgets
until it fits.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import tzinfo

from bot.format import display_title, format_time, matched_terms
from storage.records import AlertRecord
from watchers.text import has_cjk

__all__ = ["MAX_MESSAGE", "alert_html", "combined_html", "snippet_html"]

MAX_MESSAGE = 4096


def alert_html(alert: AlertRecord, zone: tzinfo | None = None) -> str:
    """Watches, the title as a link, feed and local time, and a snippet with terms in bold."""
    terms = matched_terms(alert)
    for title_budget, snippet_budget in _BUDGETS:
        text = _compose(alert, zone, terms, title_budget, snippet_budget)
        if len(text) <= MAX_MESSAGE:
            return text
    raise AssertionError("unreachable: the smallest budgets always fit")  # pragma: no cover


# (title, snippet) characters before escaping, tried in turn. The last one fits
# whatever the content: watches <= 200 and feed <= 100 characters (x5 escaped), an
# href <= 2,000 characters escaped, a title <= 20.
_BUDGETS = ((300, 600), (300, 300), (300, 100), (300, 0), (120, 0), (20, 0))
_MAX_HREF = 2000


def snippet_html(summary: str, terms: list[str], budget: int) -> str:
    """Up to ``budget`` characters of the summary around the first matched term, escaped,
    with the matched terms in bold."""
    if budget <= 0 or not summary:
        return ""
    pattern = _terms_pattern(terms)
    first = pattern.search(summary) if pattern else None
    start = max(0, (first.start() if first else 0) - budget // 4)
    piece = summary[start : start + budget]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + budget < len(summary) else ""
    if pattern is None:
        return prefix + html.escape(piece, quote=False) + suffix
    out, last = [], 0
    for match in pattern.finditer(piece):
        out.append(html.escape(piece[last : match.start()], quote=False))
        out.append(f"<b>{html.escape(match.group(0), quote=False)}</b>")
        last = match.end()
    out.append(html.escape(piece[last:], quote=False))
    return prefix + "".join(out) + suffix


def _compose(
    alert: AlertRecord, zone: tzinfo | None, terms: list[str], title_budget: int, budget: int
) -> str:
    watches = html.escape(", ".join(alert.watches)[:200], quote=False)
    title = html.escape(display_title(alert.title, alert.summary, title_budget), quote=False)
    href = html.escape(alert.url or "", quote=True)
    if alert.url and alert.url.startswith(("http://", "https://")) and len(href) <= _MAX_HREF:
        headline = f'<a href="{href}">{title}</a>'
    else:
        headline = f"<b>{title}</b>"  # no link rather than a cut one: a cut URL is a wrong URL
    feed = html.escape(alert.feed[:100], quote=False)
    lines = [
        f"🔔 <b>{watches}</b>",
        headline,
        f"<i>{feed} · {format_time(alert.published_at, zone)}</i>",
    ]
    if alert.also:
        outlets = ", ".join(dict.fromkeys(name for name, _ in alert.also))[:300]
        lines.append(f"<i>also reported by: {html.escape(outlets, quote=False)}</i>")
    snippet = snippet_html(alert.summary, terms, budget)
    if snippet:
        lines.append(snippet)
    return "\n".join(lines)


def _terms_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """Terms as they may appear in the raw text: any case, hyphen or space between words."""
    parts = []
    for term in sorted({t.rstrip("*") for t in terms if t.strip("*")}, key=len, reverse=True):
        body = r"[\s\-‐‑–—']+".join(re.escape(word) for word in term.split())
        if has_cjk(term):
            parts.append(body)
        else:
            tail = r"\w*" if term.endswith("*") or any(t == term + "*" for t in terms) else ""
            parts.append(rf"(?<!\w){body}{tail}(?!\w)" if not tail else rf"(?<!\w){body}{tail}")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def combined_html(alerts: Sequence[AlertRecord], zone: tzinfo | None = None) -> list[str]:
    """Several alerts as few messages: a header, then one short entry per alert.

    Used for a burst (more than five alerts for a chat at once) and for what
    quiet hours held back. Split only between entries, each message within
    the limit.
    """
    header = f"🔔 <b>{len(alerts)} new alerts</b>"
    messages: list[str] = []
    current = header
    for alert in alerts:
        entry = _entry(alert, zone)
        if len(current) + 1 + len(entry) > MAX_MESSAGE:
            messages.append(current)
            current = f"🔔 <b>{len(alerts)} new alerts (cont.)</b>"
        current += "\n" + entry
    messages.append(current)
    return messages


def _entry(alert: AlertRecord, zone: tzinfo | None) -> str:
    watches = html.escape(", ".join(alert.watches)[:120], quote=False)
    title = html.escape(display_title(alert.title, alert.summary, 200), quote=False)
    href = html.escape(alert.url or "", quote=True)
    if alert.url and alert.url.startswith(("http://", "https://")) and len(href) <= _MAX_HREF:
        title = f'<a href="{href}">{title}</a>'
    feed = html.escape(alert.feed[:60], quote=False)
    return f"• {title}\n   <i>{watches} · {feed} · {format_time(alert.published_at, zone)}</i>"
