"""The bot's Telegram commands and the buttons under each alert.

Who may do what, in one place:

- A chat that is not in ``[telegram] chats`` gets a one-line refusal that names its id,
  and nothing changes. ``/start`` is answered everywhere, because people need that id
  to write the config.
- In a configured chat, anyone may read (``/watches``, ``/recent``, ``/search``,
  ``/status``, ``/digest``). ``/start`` there also marks the chat reachable again after
  Telegram refused a message (a blocked bot that was unblocked): reachability is a
  fact the chat just proved, not a setting.
- Changes (``/mute``, ``/unmute``, ``/pause``, ``/resume`` and the mute buttons) are for
  users in ``[telegram] admins``, and in a configured *private* chat for its one user
  too: the config already names that chat, so it is theirs to quiet. In a group, a
  channel or any other chat, everyone else is told so and nothing changes.

Changes are stored in the database (:mod:`storage.controls`), so they survive restarts.
Every storage call runs in a thread: PTB handles one update at a time, and a blocking
call would freeze the bot. Handlers get what they need from a :class:`CommandContext`
bound at :func:`register`, never from module globals.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot import command_replies as replies
from bot.backtest import backtest
from bot.durations import parse_duration
from bot.format import display_title, format_time
from bot.telegram_config import ChatConfig, TelegramConfig
from storage import controls
from storage.db import Database
from storage.feeds import feed_summaries
from watchers.match import Watch, Watchlist, matches_empty_text
from watchers.query import QuerySyntaxError, parse_query

__all__ = ["SEARCH_WINDOW", "CommandContext", "alert_buttons", "publish_commands", "register"]

log = logging.getLogger(__name__)

SEARCH_WINDOW = timedelta(days=7)
DEFAULT_MUTE = timedelta(hours=24)
MAX_MUTE = timedelta(days=365)
DEFAULT_COUNT, MAX_COUNT = 5, 20
MAX_BUTTONS = 3

_MESSAGES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST  # not edits
_BUTTON = re.compile(r"mute:(\d{1,19}):([0-9a-f]{10})")
_SEARCH_COUNT = re.compile(r"\s+n=(\d{1,3})\s*$")

Context = ContextTypes.DEFAULT_TYPE
P = ParamSpec("P")
T = TypeVar("T")


def _no_aliases() -> Mapping[str, Sequence[str]]:
    return {}


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CommandContext:
    """What the commands need. ``watchlist`` and ``aliases`` are called on each use, so a
    hot-reloaded config applies at once; ``send_digest(chat_id)`` sends that chat's
    digest now and returns a short status line (None: /digest says it is unavailable).
    """

    db: Database
    telegram: TelegramConfig
    watchlist: Callable[[], Watchlist]
    aliases: Callable[[], Mapping[str, Sequence[str]]] = field(default=_no_aliases)
    send_digest: Callable[[int], Awaitable[str]] | None = None
    clock: Callable[[], datetime] = field(default=_utc_now)


def register(application: Application[Any, Any, Any, Any, Any, Any], ctx: CommandContext) -> None:
    """Add a handler for every command in :data:`bot.command_replies.COMMANDS` and one for
    the alert buttons. Call :func:`publish_commands` once the bot is initialised."""
    c = _Commands(ctx)
    reads = {"help": c.help, "watches": c.watches, "recent": c.recent, "search": c.search,
             "digest": c.digest, "status": c.status}  # fmt: skip
    changes = {"mute": c.mute, "unmute": c.unmute, "pause": c.pause, "resume": c.resume}
    application.add_handler(CommandHandler("start", c.start, filters=_MESSAGES))
    for name, body in {**reads, **changes}.items():
        handler = c.handler(name, body, changes=name in changes)
        application.add_handler(CommandHandler(name, handler, filters=_MESSAGES))
    application.add_handler(CallbackQueryHandler(c.button, pattern=r"^mute:"))


async def publish_commands(bot: Bot) -> None:
    """Register the command menu with Telegram. A failure only costs the menu, so it is
    logged and start-up carries on."""
    try:
        await bot.set_my_commands([BotCommand(name, text) for name, text in replies.COMMANDS])
    except TelegramError as exc:
        log.warning("telegram: could not register the command list: %s", exc)


def alert_buttons(alert_id: int, watches: Sequence[str]) -> InlineKeyboardMarkup:
    """The buttons under an alert: one "Mute <watch> 24 h" per watch, at most three.

    Telegram allows 64 bytes of callback data and a watch name may be longer, so a
    button carries the alert id and a short hash of the name; a press finds the name
    again among the alert's matches in storage, whatever order ``watches`` came in.
    """
    rows = [
        [
            InlineKeyboardButton(
                f"Mute {display_title(w, '', 40)} 24 h", callback_data=f"mute:{alert_id}:{_tag(w)}"
            )
        ]
        for w in list(dict.fromkeys(watches))[:MAX_BUTTONS]
    ]
    return InlineKeyboardMarkup(rows)


def _button_label(watch: str) -> str:
    return f"Mute {display_title(watch, '', 40)} 24 h"


def _tag(watch: str) -> str:
    return hashlib.blake2s(watch.encode("utf-8"), digest_size=5).hexdigest()


@dataclass(frozen=True, slots=True)
class _Request:
    """A command from a configured chat: ``args`` split on spaces, ``text`` as typed."""

    chat: ChatConfig
    args: tuple[str, ...]
    text: str


class _Commands:
    """The handlers, bound to one :class:`CommandContext`."""

    def __init__(self, ctx: CommandContext) -> None:
        self.ctx = ctx

    # -- plumbing ------------------------------------------------------------------------------

    def handler(
        self, name: str, body: Callable[[_Request], Awaitable[str]], *, changes: bool
    ) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
        """The CommandHandler callback: refuse unknown chats (and non-admins for changes),
        else reply with what ``body`` returns."""

        async def handle(update: Update, context: Context) -> None:
            chat, message = update.effective_chat, update.effective_message
            if chat is None or message is None:
                return
            config = self.ctx.telegram.chat(chat.id)
            if config is None:
                log.info("telegram chat=%s: /%s refused, chat not configured", chat.id, name)
                await _reply(context, chat.id, replies.esc(replies.not_configured(chat.id)))
                return
            user = update.effective_user
            if changes and not self._may_change(config, chat.type, user.id if user else None):
                log.info("telegram chat=%s user=%s: /%s refused", chat.id, user and user.id, name)
                await _reply(context, chat.id, replies.ONLY_ADMINS)
                return
            parts = (message.text or "").split(None, 1)
            request = _Request(config, tuple(context.args or ()), parts[1] if parts[1:] else "")
            try:
                text = await body(request)
            except Exception:
                with contextlib.suppress(TelegramError):
                    await _reply(context, chat.id, f"Sorry, /{name} failed; the log says why.")
                raise  # to the application's error handler, with its traceback
            await _reply(context, chat.id, text)

        return handle

    def _may_change(self, chat: ChatConfig, chat_type: str, user: int | None) -> bool:
        if user is None:
            return False
        return user in self.ctx.telegram.admins or (
            chat_type == ChatType.PRIVATE and user == chat.id
        )

    def _watches_of(self, chat: ChatConfig) -> list[str]:
        return [name for name in self.ctx.watchlist().names if chat.wants(name)]

    async def _db(
        self, call: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``call(db, ...)`` in a thread: storage is synchronous."""
        return await asyncio.to_thread(call, self.ctx.db, *args, **kwargs)

    # -- /start and the buttons: they answer unknown chats themselves -----------------------

    async def start(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        config = self.ctx.telegram.chat(chat.id)
        if config is None:
            await _reply(context, chat.id, replies.start_text(chat.id, None, False))
            return
        reactivated = bool(await self._db(controls.reactivate, config.key, self.ctx.clock()))
        if reactivated:
            log.info("telegram chat=%s: reactivated by /start", chat.id)
        text = replies.start_text(chat.id, self._watches_of(config), reactivated)
        await _reply(context, chat.id, text)

    async def button(self, update: Update, context: Context) -> None:
        query, chat, user = update.callback_query, update.effective_chat, update.effective_user
        if query is None or chat is None:
            return
        found = _BUTTON.fullmatch(query.data or "")
        config = self.ctx.telegram.chat(chat.id)
        if config is None:
            await query.answer(replies.not_configured(chat.id), show_alert=True)
            return
        if not self._may_change(config, chat.type, user.id if user else None):
            log.info("telegram chat=%s user=%s: mute button refused", chat.id, user and user.id)
            await query.answer(replies.ONLY_ADMINS, show_alert=True)
            return
        target = await self._db(controls.alert_target, int(found.group(1))) if found else None
        watch = None
        if found and target is not None and target.chat == config.key:
            watch = next((w for w in target.watches if _tag(w) == found.group(2)), None)
        if watch is None:
            await query.answer("This alert is no longer known; use /mute <watch>.", show_alert=True)
            return
        until = self.ctx.clock() + DEFAULT_MUTE
        await self._db(controls.mute, config.key, watch, until)
        log.info(
            "telegram chat=%s user=%s: muted %r until %s", chat.id, user and user.id, watch, until
        )
        until_text = format_time(until, config.zone)
        await query.answer(f"Muted {display_title(watch, '', 100)} until {until_text}.")

    # -- what anyone in a configured chat may do ------------------------------------------------

    async def help(self, request: _Request) -> str:
        return replies.help_text()

    async def watches(self, request: _Request) -> str:
        chat, now = request.chat, self.ctx.clock()
        midnight = datetime.combine(now.astimezone(chat.zone).date(), time(), tzinfo=chat.zone)

        def read() -> tuple[dict[str, int], dict[str, dict[str, datetime]], set[str]]:
            db = self.ctx.db
            return (
                controls.match_counts_since(db, midnight.astimezone(UTC)),
                controls.active_mutes(db, now),
                controls.paused_chats(db),
            )

        counts, mutes, paused = await asyncio.to_thread(read)
        return replies.watches_text(
            self._watches_of(chat), counts, mutes.get(chat.key, {}), chat.key in paused, chat.zone
        )

    async def recent(self, request: _Request) -> str:
        names = self._watches_of(request.chat)
        words, count = list(request.args), DEFAULT_COUNT
        if words and _resolve(" ".join(words), names) is None and words[-1].isdigit():
            count = max(1, min(int(words.pop()), MAX_COUNT))
        watch = None
        if words:
            watch = _resolve(" ".join(words), names)
            if watch is None:
                return replies.unknown_watch(" ".join(words), names)
        matches = await self._db(controls.recent_matches, watch, count, among=names)
        return replies.recent_text(matches, watch or "this chat's watches", request.chat.zone)

    async def search(self, request: _Request) -> str:
        text, count = request.text.strip(), DEFAULT_COUNT
        if found := _SEARCH_COUNT.search(" " + text):
            count = max(1, min(int(found.group(1)), MAX_COUNT))
            text = (" " + text)[: found.start()].strip()
        if not text:
            return "Usage: /search &lt;query&gt; [n=10], e.g. /search tesla AND (FSD OR 自动驾驶)"
        aliases = self.ctx.aliases()
        try:
            tree = parse_query(text)
            watchlist = Watchlist([Watch("search", tree)], aliases)
            if matches_empty_text(tree, aliases):
                return "This query matches items that contain none of its terms; add a term."
        except QuerySyntaxError as exc:
            return f"Invalid query: {replies.esc(str(exc))}"
        since = self.ctx.clock() - SEARCH_WINDOW
        found_all = await asyncio.to_thread(backtest, self.ctx.db, watchlist, since)
        hits = [m.item for m in found_all.matches[:count]]  # newest first
        return replies.search_text(
            text, hits, len(found_all.matches), SEARCH_WINDOW.days, request.chat.zone
        )

    async def digest(self, request: _Request) -> str:
        if self.ctx.send_digest is None:
            return "Digests are not available in this process."
        return replies.esc(await self.ctx.send_digest(request.chat.id))

    async def status(self, request: _Request) -> str:
        now, key = self.ctx.clock(), request.chat.key
        feeds = await self._db(feed_summaries)
        mutes = await self._db(controls.active_mutes, now)
        paused = key in await self._db(controls.paused_chats)
        return replies.status_text(feeds, request.chat.zone, paused, mutes.get(key, {}))

    # -- changes: admins (and a private chat's own user) only ------------------------------------

    async def mute(self, request: _Request) -> str:
        chat, names, words = request.chat, self._watches_of(request.chat), list(request.args)
        if not words:
            return "Usage: /mute &lt;watch&gt; [duration]. " + replies.listing(names)
        duration, watch = DEFAULT_MUTE, _resolve(" ".join(words), names)
        if watch is None and len(words) > 1:
            watch = _resolve(" ".join(words[:-1]), names)
            if watch is None:
                return replies.unknown_watch(" ".join(words), names)
            try:
                duration = parse_duration(words[-1])
            except (ValueError, OverflowError) as exc:
                return replies.esc(str(exc))
        if watch is None:
            return replies.unknown_watch(" ".join(words), names)
        if duration > MAX_MUTE:
            return f"A mute lasts at most {MAX_MUTE.days} days."
        until = self.ctx.clock() + duration
        await self._db(controls.mute, chat.key, watch, until)
        log.info("telegram chat=%s: muted %r until %s", chat.id, watch, until)
        return replies.muted_text(watch, duration, until, chat.zone)

    async def unmute(self, request: _Request) -> str:
        chat, name = request.chat, " ".join(request.args)
        muted = (await self._db(controls.active_mutes, self.ctx.clock())).get(chat.key, {})
        names = list(dict.fromkeys([*self._watches_of(chat), *muted]))
        if not name:
            return "Usage: /unmute &lt;watch&gt;. " + replies.listing(names)
        watch = _resolve(name, names)
        if watch is None:
            return replies.unknown_watch(name, names)
        if not await self._db(controls.unmute, chat.key, watch):
            return f"<b>{replies.esc(watch)}</b> was not muted."
        log.info("telegram chat=%s: unmuted %r", chat.id, watch)
        return f"🔔 <b>{replies.esc(watch)}</b> is unmuted."

    async def pause(self, request: _Request) -> str:
        if not await self._db(controls.set_paused, request.chat.key, True, self.ctx.clock()):
            return "Alerts in this chat were already paused. /resume starts them again."
        log.info("telegram chat=%s: paused", request.chat.id)
        return "⏸ Alerts in this chat are paused. /resume starts them again."

    async def resume(self, request: _Request) -> str:
        if not await self._db(controls.set_paused, request.chat.key, False, self.ctx.clock()):
            return "Alerts in this chat were not paused."
        log.info("telegram chat=%s: resumed", request.chat.id)
        return "▶️ Alerts in this chat are on again."


async def _reply(context: Context, chat_id: int, text: str) -> None:
    await context.bot.send_message(
        chat_id,
        text,
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


def _resolve(name: str, names: Sequence[str]) -> str | None:
    """The watch called ``name``: exactly, else ignoring case."""
    if name in names:
        return name
    folded = name.casefold()
    return next((n for n in names if n.casefold() == folded), None)
