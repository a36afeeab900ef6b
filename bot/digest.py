"""The daily digest: at each chat's local time, the stories matched since its previous digest.

One digest per chat and local day is decided by the database
(:func:`storage.digests.claim_digest`), never by a flag in memory: the
scheduler, a restart and ``newshound digest`` may all try, and one wins. The
claim comes first and is released when sending fails, so a digest is either
sent (and recorded with its message ids) or can be tried again; a crash
between the two leaves a pending claim that a later try takes over after
:data:`STALE_CLAIM`.

An empty digest is still sent ("nothing matched"): it tells the user the bot
is alive and their watches are in place. A digest that failed part-way is
sent again in full by the next try (at least once, like alerts).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.format import display_title
from bot.notify import ChatUnreachable, DeliveryError
from bot.telegram_config import ChatConfig
from bot.telegram_format import MAX_MESSAGE
from storage import digests as queries
from storage.db import Database
from storage.digests import DigestEntry

__all__ = [
    "STALE_CLAIM",
    "DigestOutcome",
    "digest_messages",
    "digest_text",
    "is_due",
    "local_date",
    "send_digest",
]

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=30)  # a pending claim older than this was left by a crash

Send = Callable[[int, str], Awaitable[str]]
Status = Literal["sent", "printed", "already_sent", "failed"]

# Characters before escaping. Escaping grows text at most fivefold (& -> &amp;), so a
# heading (<= 520) plus one item (<= 3,130: href 1,500, title 1,000, feeds 600) always
# fits in one message: a long digest splits only between items.
_TITLE, _FEED, _ALSO, _WATCH, _MAX_HREF = 200, 60, 60, 100, 1500


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    """What one attempt at a chat's digest did."""

    status: Status
    messages: int = 0
    entries: int = 0
    error: str | None = None
    unreachable: bool = False  # the chat refuses the bot (blocked, kicked)


@dataclass(frozen=True, slots=True)
class _Story:
    """One line of a digest: a story's newest entry, the other feeds that carried the
    story, and the other watches it matched (it is listed under one watch only)."""

    entry: DigestEntry
    also: tuple[str, ...]
    watches: tuple[str, ...] = ()


def local_date(chat: ChatConfig, now: datetime) -> str:
    """The chat's calendar day at ``now`` ("YYYY-MM-DD"): the unit of "one digest a day"."""
    return now.astimezone(chat.zone).date().isoformat()


def is_due(chat: ChatConfig, now: datetime, last_sent_local_date: str | None) -> bool:
    """True when the chat wants a digest, its local digest time has passed today, and its
    latest sent digest is from an earlier local day."""
    if chat.digest is None:
        return False
    local = now.astimezone(chat.zone)
    if local.time() < chat.digest:
        return False
    return last_sent_local_date is None or last_sent_local_date < local.date().isoformat()


def digest_messages(entries: Sequence[DigestEntry], chat: ChatConfig, now: datetime) -> list[str]:
    """Telegram HTML messages (each <= 4,096 characters): a header with counts per watch,
    then each watch's stories newest first, split between items when long."""
    title = f"📰 <b>Daily digest · {_day(chat, now)}</b>"
    grouped = _group(entries)
    if not grouped:
        return [f"{title}\nNothing matched your watches since the last digest."]
    intro = [title] + [f"{_esc(watch[:_WATCH])}: {len(s)}" for watch, s in grouped]
    sections = [
        (_esc(watch[:_WATCH]), [_item_html(s) for s in stories]) for watch, stories in grouped
    ]
    return _pack(intro, sections)


def digest_text(entries: Sequence[DigestEntry], chat: ChatConfig, now: datetime) -> str:
    """The same digest as plain text, for the console and ``newshound digest --print``."""
    grouped = _group(entries)
    lines = [f"Daily digest · {_day(chat, now)}"]
    if not grouped:
        return lines[0] + "\nNothing matched your watches since the last digest."
    lines += [f"{watch}: {len(stories)}" for watch, stories in grouped]
    for watch, stories in grouped:
        lines += ["", watch]
        for story in stories:
            also = f" (also {', '.join(story.also)})" if story.also else ""
            also += f" [also {', '.join(story.watches)}]" if story.watches else ""
            entry = story.entry
            lines.append(
                f"  • {display_title(entry.title, entry.summary, _TITLE)} — {entry.feed}{also}"
            )
            if entry.url:
                lines.append(f"    {entry.url}")
    return "\n".join(lines)


async def send_digest(
    db: Database,
    chat: ChatConfig,
    send: Send | None,
    now: datetime,
    *,
    printer: Callable[[str], None] | None = None,
) -> DigestOutcome:
    """Claim the chat's digest for today, gather and send it, and record it sent.

    Args:
        send: sends one HTML message to a chat id and returns its message id
            (``TelegramNotifier.send_text``); None prints the plain text instead.
        now: the digest's moment: it fixes the local day and ends the window.
        printer: where the text goes when ``send`` is None.

    Returns:
        ``already_sent`` if another try has this day; ``failed`` (claim released,
        so a later try can send) if delivery raised; else ``sent`` or ``printed``.
    """
    if send is None and printer is None:
        raise ValueError("send_digest needs send or printer")
    day = local_date(chat, now)
    claimed = await asyncio.to_thread(
        queries.claim_digest, db, chat.key, day, now, stale_after=STALE_CLAIM
    )
    if not claimed:
        log.info("digest chat=%s date=%s status=already_sent", chat.id, day)
        return DigestOutcome("already_sent")
    try:
        outcome, ids = await _deliver(db, chat, send, now, printer)
    except BaseException:  # unexpected (or cancelled): give the day back, then let it rise
        await asyncio.to_thread(queries.release_digest, db, chat.key, day, now)
        raise
    if outcome.status == "failed":
        await asyncio.to_thread(queries.release_digest, db, chat.key, day, now)
        log.warning("digest chat=%s date=%s status=failed: %s", chat.id, day, outcome.error)
        return outcome
    await asyncio.to_thread(queries.mark_digest_sent, db, chat.key, day, now, ids)
    log.info(
        "digest chat=%s date=%s status=%s messages=%d entries=%d",
        chat.id, day, outcome.status, outcome.messages, outcome.entries,
    )  # fmt: skip
    return outcome


async def pending_entries(db: Database, chat: ChatConfig, now: datetime) -> list[DigestEntry]:
    """What the chat's next digest holds: its watches' matches since its last digest."""
    since = await asyncio.to_thread(queries.previous_digest_at, db, chat.key)
    watches = None if "*" in chat.watches else set(chat.watches)
    return await asyncio.to_thread(queries.matches_between, db, since, now, watches)


async def _deliver(
    db: Database,
    chat: ChatConfig,
    send: Send | None,
    now: datetime,
    printer: Callable[[str], None] | None,
) -> tuple[DigestOutcome, list[str]]:
    """Gather the window's entries and send (or print) them; DeliveryError becomes 'failed'."""
    entries = await pending_entries(db, chat, now)
    if send is None:
        assert printer is not None
        printer(digest_text(entries, chat, now))
        return DigestOutcome("printed", 1, len(entries)), []
    messages = digest_messages(entries, chat, now)
    ids: list[str] = []
    try:
        for message in messages:
            ids.append(await send(chat.id, message))
    except DeliveryError as exc:
        unreachable = isinstance(exc, ChatUnreachable)
        return DigestOutcome("failed", len(ids), len(entries), str(exc), unreachable), ids
    return DigestOutcome("sent", len(ids), len(entries)), ids


def _group(entries: Sequence[DigestEntry]) -> list[tuple[str, list[_Story]]]:
    """Each story once: under the watch with the most stories among those it matched
    (ties by name), newest first; watches by count (desc), then name.

    A story is the entries sharing a story id: several outlets' items, or one item
    that matched several watches.
    """
    stories: dict[int | str, list[DigestEntry]] = {}
    ordered = sorted(entries, key=lambda e: e.when, reverse=True)  # stable: keeps storage order
    for index, entry in enumerate(ordered):
        key = entry.story_id if entry.story_id is not None else f"#{index}"
        stories.setdefault(key, []).append(entry)
    matched = {key: tuple(dict.fromkeys(e.watch for e in same)) for key, same in stories.items()}
    count = Counter(watch for watches in matched.values() for watch in watches)
    by_watch: dict[str, list[_Story]] = {}
    for story, same in stories.items():
        home = min(matched[story], key=lambda w: (-count[w], w))
        others = tuple(w for w in matched[story] if w != home)
        by_watch.setdefault(home, []).append(_Story(same[0], _other_feeds(same), others))
    return sorted(by_watch.items(), key=lambda pair: (-len(pair[1]), pair[0]))


def _other_feeds(same: list[DigestEntry]) -> tuple[str, ...]:
    first = same[0].feed
    feeds = [f for e in same for f in (e.outlets or (e.feed,))]
    return tuple(dict.fromkeys(f for f in feeds if f != first))


def _item_html(story: _Story) -> str:
    """``• <a href="url">title</a> — feed``: cut before escaping (a cut after could split an
    entity); no link rather than a cut or non-web one."""
    entry = story.entry
    title = _esc(display_title(entry.title, entry.summary, _TITLE))
    href = html.escape(entry.url or "", quote=True)
    is_web = (entry.url or "").startswith(("http://", "https://"))
    headline = f'<a href="{href}">{title}</a>' if is_web and len(href) <= _MAX_HREF else title
    also = f" (also {_esc(', '.join(story.also)[:_ALSO])})" if story.also else ""
    watches = f" [also {_esc(', '.join(story.watches)[:_ALSO])}]" if story.watches else ""
    return f"• {headline} — {_esc(entry.feed[:_FEED])}{also}{watches}"


def _pack(intro: list[str], sections: list[tuple[str, list[str]]]) -> list[str]:
    """Lines into messages of at most MAX_MESSAGE characters, breaking only between lines;
    a watch continued in a new message gets its heading again, marked (cont.)."""
    messages: list[str] = []
    current: list[str] = []
    size = -1  # len("\n".join(current))

    def add(*lines: str) -> None:
        nonlocal size
        current.extend(lines)
        size += sum(len(line) + 1 for line in lines)

    def room(*lines: str) -> bool:
        return size + sum(len(line) + 1 for line in lines) <= MAX_MESSAGE

    def flush() -> None:
        nonlocal size
        messages.append("\n".join(current))
        current.clear()
        size = -1

    for line in intro:
        if current and not room(line):
            flush()
        add(line)
    for watch, items in sections:
        heading = f"<b>{watch}</b>"
        if not room("", heading, items[0]):
            flush()
            add(heading)
        else:
            add("", heading)
        for item in items:
            if not room(item):
                flush()
                add(f"{heading} (cont.)")
            add(item)
    flush()
    return messages


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _day(chat: ChatConfig, now: datetime) -> str:
    local = now.astimezone(chat.zone)
    return f"{local.day} {local:%b}"
