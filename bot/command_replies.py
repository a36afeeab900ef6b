"""The text of the bot's command replies: HTML parse mode, escaped, never over 4,096 characters.

Pure functions of values, apart from :mod:`bot.commands` which decides who may do
what and talks to storage. Everything from a feed, a config or a user is escaped
here; a reply that would be too long lists what fits and says how many it left out.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

from bot.durations import format_duration
from bot.format import display_title, format_time
from storage.controls import RecentMatch
from storage.records import FeedSummary, StoredItem

__all__ = [
    "COMMANDS",
    "MAX_MESSAGE",
    "ONLY_ADMINS",
    "esc",
    "fit",
    "help_text",
    "listing",
    "muted_text",
    "not_configured",
    "recent_text",
    "search_text",
    "start_text",
    "status_text",
    "unknown_watch",
    "watches_text",
]

MAX_MESSAGE = 4096
_MAX_HREF = 1000  # a longer link is shown without one rather than eating the message
_MAX_REASON = 200

# (command, description): the menu registered with Telegram and the /help text, one list.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Is this chat set up? Shows its id"),
    ("help", "What the bot can do"),
    ("watches", "This chat's watches, with today's matches"),
    ("recent", "Latest matches: /recent [watch] [n]"),
    ("search", "Search stored items: /search <query> [n=10]"),
    ("mute", "Mute a watch: /mute <watch> [duration, e.g. 8h]"),
    ("unmute", "Unmute a watch: /unmute <watch>"),
    ("pause", "Pause alerts in this chat"),
    ("resume", "Resume alerts in this chat"),
    ("digest", "This chat's digest, now"),
    ("status", "Feeds: healthy or failing, last poll"),
)

ONLY_ADMINS = "Only admins can change settings; nothing was changed."


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def fit(lines: Sequence[str], limit: int = MAX_MESSAGE) -> str:
    """Join ``lines`` (already HTML) with newlines, keeping whole lines up to ``limit``
    characters and ending with how many were left out."""
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        rest = len(lines) - index
        tail = len(f"\n… and {rest} more")
        if size + len(line) + 1 + (tail if rest > 1 else 0) > limit:
            kept.append(f"… and {rest} more")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def not_configured(chat_id: int) -> str:
    return (
        f"This chat is not configured for newshound. Its id is {chat_id}; "
        "add it to [telegram] chats."
    )


def start_text(chat_id: int, watches: Sequence[str] | None, reactivated: bool) -> str:
    """``watches`` None means the chat is not in the config."""
    if watches is None:
        return (
            f"👋 This is newshound. This chat is <b>not configured</b>: its id is "
            f"<code>{chat_id}</code>. Add it to <code>[telegram] chats</code> in the config "
            "and restart newshound to get alerts here."
        )
    lines = [
        f"👋 newshound alerts this chat (id <code>{chat_id}</code>).",
        f"Watches: {esc(', '.join(watches)) or 'none'}.",
    ]
    if reactivated:
        lines.append("Alerts to this chat had stopped (Telegram refused them); they resume now.")
    lines.append("/help lists the commands.")
    return "\n".join(lines)


def help_text() -> str:
    lines = ["<b>newshound</b>: news alerts for the watches in the config."]
    lines += [f"/{name} — {esc(description)}" for name, description in COMMANDS]
    lines.append(
        "Mute, unmute, pause and resume are for admins (and for you in your own private chat). "
        "Durations: 90m, 8h, 2d (default 24h). /search uses the watch query language: "
        'terms, "phrases", AND / OR / NOT, prefix*, NEAR/n, @aliases.'
    )
    return "\n".join(lines)


def watches_text(
    watches: Sequence[str],
    counts: Mapping[str, int],
    mutes: Mapping[str, datetime],
    paused: bool,
    zone: tzinfo,
) -> str:
    if not watches:
        return "This chat has no watches."
    lines = ["<b>Watches</b> (matches today):"]
    if paused:
        lines.insert(0, "⏸ Alerts in this chat are paused (/resume).")
    for name in watches:
        line = f"• <b>{esc(name)}</b>: {counts.get(name, 0)}"
        if name in mutes:
            line += f" — 🔕 muted until {esc(format_time(mutes[name], zone))}"
        lines.append(line)
    return fit(lines)


def listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:50]) + (f" and {len(names) - 50} more" if len(names) > 50 else "")
    return "This chat's watches: " + (esc(shown) if names else "none") + "."


def unknown_watch(name: str, names: Sequence[str]) -> str:
    return f"No watch named <b>{esc(name[:200])}</b> in this chat. {listing(names)}"


def muted_text(watch: str, duration: timedelta, until: datetime, zone: tzinfo) -> str:
    return (
        f"🔕 Muted <b>{esc(watch)}</b> for {format_duration(duration)}, until "
        f"{esc(format_time(until, zone))}. /unmute {esc(watch)} to undo."
    )


def _headline(title: str, summary: str, url: str | None) -> str:
    text = esc(display_title(title, summary))
    href = html.escape(url or "", quote=True)
    if url and url.startswith(("http://", "https://")) and len(href) <= _MAX_HREF:
        return f'<a href="{href}">{text}</a>'
    return f"<b>{text}</b>"


def recent_text(matches: Sequence[RecentMatch], what: str, zone: tzinfo) -> str:
    """``what`` names the watch (or watches) asked about, for the header."""
    if not matches:
        return f"No matches yet for {esc(what)}."
    lines = [f"<b>Latest matches</b> for {esc(what)}:"]
    for m in matches:
        lines.append(
            f"• {_headline(m.title, m.summary, m.url)}\n  <i>{esc(m.watch)} · {esc(m.feed[:100])}"
            f" · {esc(format_time(m.published_at or m.matched_at, zone))}</i>"
        )
    return fit(lines)


def search_text(query: str, hits: Sequence[StoredItem], total: int, days: int, zone: tzinfo) -> str:
    """``hits`` newest first; ``total`` counts every match in the window."""
    quoted = f"<code>{esc(query[:300])}</code>"
    if not hits:
        return f"No items in the last {days} days match {quoted}."
    shown = f", the newest {len(hits)}" if total > len(hits) else ""
    lines = [f"<b>{total}</b> items in the last {days} days match {quoted}{shown}:"]
    for item in hits:
        lines.append(
            f"• {_headline(item.title, item.summary, item.url)}\n  <i>{esc(item.feed[:100])}"
            f" · {esc(format_time(item.published_at or item.fetched_at, zone))}</i>"
        )
    return fit(lines)


def status_text(
    feeds: Sequence[FeedSummary],
    zone: tzinfo,
    paused: bool,
    mutes: Mapping[str, datetime],
) -> str:
    """Active feeds, failing ones first with their reason; then this chat's own state."""
    active = [f for f in feeds if f.active]
    failing = [f for f in active if f.last_status == "error"]
    waiting = [f for f in active if f.last_status is None]
    healthy = [f for f in active if f not in failing and f not in waiting]
    chat = "⏸ paused" if paused else "▶️ alerts on"
    if mutes:
        chat += "; muted: " + ", ".join(
            f"{esc(w)} until {esc(format_time(u, zone))}" for w, u in sorted(mutes.items())
        )
    lines = [
        f"This chat: {chat}.",
        f"<b>Feeds</b>: {len(active)} — {len(healthy)} healthy, {len(failing)} failing"
        + (f", {len(waiting)} not polled yet" if waiting else ""),
    ]
    for f in failing:
        reason = esc((f.last_error or "unknown error")[:_MAX_REASON])
        lines.append(
            f"❌ <b>{esc(f.name[:100])}</b>: {reason} "
            f"({f.consecutive_failures} in a row; last poll {_when(f.last_polled_at, zone)})"
        )
    for f in healthy:
        lines.append(
            f"✅ {esc(f.name[:100])}: last poll {_when(f.last_polled_at, zone)}, {f.items} items"
        )
    lines += [f"⏳ {esc(f.name[:100])}: not polled yet" for f in waiting]
    return fit(lines)


def _when(value: datetime | None, zone: tzinfo) -> str:
    return esc(format_time(value, zone)) if value else "never"
