"""The bot's commands and alert buttons: a real python-telegram-bot Application polls the fake
Bot API on 127.0.0.1 and answers from a real SQLite database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application, ApplicationBuilder, CommandHandler

from bot.command_replies import COMMANDS, ONLY_ADMINS
from bot.commands import CommandContext, alert_buttons, publish_commands, register
from bot.config import Config, parse_config
from storage import alerts as alert_queries
from storage import controls
from storage.chats import inactive_chats, set_chat_active
from storage.db import Database, open_database
from storage.feeds import record_failure, sync_feeds
from storage.items import save_poll
from storage.models import Chat
from storage.records import FeedSpec, FeedUpdate, NewItem, NewMatch, PollRecord
from tests.conftest import WATCHES
from tests.fakebot import BOT_USERNAME, MAX_CALLBACK_DATA_BYTES, FakeBotApi, SentMessage

PRIVATE, GROUP, ADMIN, MEMBER = 111, -100333, 999, 555
STRANGER_GROUP, STRANGER = -100777, 4444  # chats that are not in the config
FSD, DATA = "Tesla FSD in China", "Data exports"
NOW = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, PRIVATE's zone
HOSTILE = "Tesla FSD China: 1 < 2 & <b>unclosed"
NOT_CONFIGURED = (
    "This chat is not configured for newshound. Its id is {}; add it to [telegram] chats."
)


def _config(fake: FakeBotApi, db_url: str) -> Config:
    return parse_config(
        {
            "database": {"url": db_url},
            "aliases": {"tesla": ["Tesla", "特斯拉", "TSLA"]},
            "watches": [{"name": n, "query": q} for n, q in WATCHES.items()],
            "telegram": {
                "token": fake.token,
                "base_url": fake.base_url,
                "admins": [ADMIN],
                "chats": [
                    {"id": PRIVATE, "watches": [FSD], "timezone": "Asia/Shanghai"},
                    {"id": GROUP},
                ],
            },
        },
        environ={},
    )


def _item(key: str, title: str, watches: tuple[str, ...], chats: tuple[str, ...]) -> NewItem:
    return NewItem(
        key=key,
        url=f"https://wire.example/{key}?a=1&b=2",
        canonical_url=None,
        title=title,
        summary=f"{title}. More text.",
        published_at=None,
        matches=tuple(NewMatch(w, "[]") for w in watches),
        chats=chats,
    )


def _seed(db: Database) -> None:
    """Two feeds: Wire (an item yesterday, four today) and Broken (failing)."""
    wire, broken = sync_feeds(
        db,
        [FeedSpec("https://wire.example/rss", "Wire"), FeedSpec("https://b.example/rss", "Broken")],
    )
    both = (str(PRIVATE), str(GROUP))
    polls = [
        (
            NOW - timedelta(hours=30),
            [_item("old", "Tesla FSD approved in China, draft", (FSD,), both)],
        ),
        (
            NOW - timedelta(hours=1),
            [
                _item("fsd", "Tesla wins approval for full self-driving in China", (FSD,), both),
                _item("data", "Beijing grants data export approval", (DATA,), (str(GROUP),)),
                _item("hostile", HOSTILE, (FSD,), both),
                _item("su7", "Xiaomi SU7 deliveries begin", (), ()),
            ],
        ),
    ]
    for now, items in polls:
        update = FeedUpdate(None, None, None, None, now + timedelta(minutes=15))
        save_poll(db, PollRecord(wire.id, now, update, tuple(items)))
    record_failure(db, broken.id, NOW - timedelta(minutes=10), "HTTP 500 from b.example", NOW)


@dataclass
class Bot:
    fake: FakeBotApi
    db: Database
    db_url: str
    app: Application[Any, Any, Any, Any, Any, Any]
    digests: list[int]

    async def say(
        self, chat: int, user: int, text: str, chat_type: str | None = None
    ) -> SentMessage:
        """``user`` writes ``text`` in ``chat``; returns the bot's one reply."""
        kind = chat_type or ("private" if chat > 0 else "supergroup")
        before = len(self.fake.sent(chat))
        self.fake.message_update(chat, user, text, chat_type=kind)
        await self.fake.wait_for_async(lambda a: len(a.sent(chat)) > before, timeout=5)
        replies = self.fake.sent(chat)[before:]
        assert len(replies) == 1, replies
        assert replies[0].parse_mode == "HTML" and len(replies[0].plain_text) <= 4096
        return replies[0]

    async def press(self, chat: int, user: int, data: str, message_id: int) -> dict[str, Any]:
        """``user`` presses the button with ``data``; returns the bot's answerCallbackQuery."""
        kind = "private" if chat > 0 else "supergroup"
        before = len(self.fake.calls_to("answerCallbackQuery"))
        self.fake.callback_update(chat, user, data, message_id, chat_type=kind)
        await self.fake.wait_for_async(
            lambda a: len(a.calls_to("answerCallbackQuery")) > before, timeout=5
        )
        return self.fake.calls_to("answerCallbackQuery")[-1].params

    def unchanged(self) -> bool:
        """No mute, no pause, no chat row: what a refused command must leave."""
        with self.db.session() as session:
            chats = session.get(Chat, str(GROUP)) or session.get(Chat, str(STRANGER_GROUP))
        return (
            controls.active_mutes(self.db, NOW) == {}
            and controls.paused_chats(self.db) == set()
            and chats is None
        )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotApi]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with FakeBotApi(long_poll_cap=0.3) as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi, tmp_path: Path) -> AsyncIterator[Bot]:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    config = _config(fake, url)
    db = open_database(url)
    _seed(db)
    digests: list[int] = []

    async def send_digest(chat_id: int) -> str:
        digests.append(chat_id)
        return "Digest sent: 3 stories <new>"

    watchlist = config.watchlist()
    ctx = CommandContext(
        db=db,
        telegram=config.telegram,
        watchlist=lambda: watchlist,
        aliases=lambda: config.aliases,
        send_digest=send_digest,
        clock=lambda: NOW,
    )
    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    register(app, ctx)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0)
    try:
        yield Bot(fake, db, url, app, digests)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        db.close()


def _group_alerts(db: Database) -> dict[str, int]:
    """The group's alert ids by the first watch of their item."""
    return {a.title: a.id for a in alert_queries.pending_alerts(db) if a.chat == str(GROUP)}


# -- who may do what --------------------------------------------------------------------------


def test_every_listed_command_has_a_handler(bot: Bot) -> None:
    handled = {
        command
        for handler in bot.app.handlers[0]
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert handled == {name for name, _ in COMMANDS}


async def test_start_answers_everywhere_and_shows_the_id(bot: Bot) -> None:
    stranger = await bot.say(STRANGER, STRANGER, "/start")
    group = await bot.say(STRANGER_GROUP, MEMBER, f"/start@{BOT_USERNAME}")
    private = await bot.say(PRIVATE, PRIVATE, "/start")

    assert "not configured" in stranger.plain_text and str(STRANGER) in stranger.plain_text
    assert f"<code>{STRANGER_GROUP}</code>" in group.text
    assert str(PRIVATE) in private.plain_text and FSD in private.plain_text
    assert "not configured" not in private.plain_text
    assert bot.unchanged()


async def test_start_reactivates_a_chat_telegram_had_refused(bot: Bot) -> None:
    set_chat_active(bot.db, str(GROUP), False, NOW, "Forbidden: bot was kicked")
    assert inactive_chats(bot.db) == {str(GROUP): "Forbidden: bot was kicked"}

    reply = await bot.say(GROUP, MEMBER, "/start")

    assert "they resume now" in reply.plain_text
    assert inactive_chats(bot.db) == {}
    again = await bot.say(GROUP, MEMBER, "/start")
    assert "resume" not in again.plain_text


@pytest.mark.parametrize("command", ["/mute Data exports", "/pause", "/watches", "/status"])
async def test_a_chat_not_in_the_config_is_refused_and_nothing_changes(
    bot: Bot, command: str
) -> None:
    in_group = await bot.say(STRANGER_GROUP, ADMIN, command)  # even from an admin
    in_private = await bot.say(STRANGER, STRANGER, command)

    assert in_group.plain_text == NOT_CONFIGURED.format(STRANGER_GROUP)
    assert in_private.plain_text == NOT_CONFIGURED.format(STRANGER)
    assert bot.unchanged()


@pytest.mark.parametrize(
    "command", ["/mute Data exports", "/unmute Data exports", "/pause", "/resume"]
)
async def test_changes_in_a_group_are_for_admins_only(bot: Bot, command: str) -> None:
    reply = await bot.say(GROUP, MEMBER, command)

    assert reply.plain_text == ONLY_ADMINS
    assert bot.unchanged()


async def test_changes_by_an_admin_are_stored_and_survive_reopening(bot: Bot) -> None:
    muted = await bot.say(GROUP, ADMIN, "/mute data EXPORTS 2h")  # names ignore case
    paused = await bot.say(GROUP, ADMIN, "/pause")

    assert "Muted Data exports for 2h, until 2026-11-24 06:00 UTC" in muted.plain_text
    assert "paused" in paused.plain_text
    bot.db.close()
    reopened = open_database(bot.db_url)
    try:
        assert controls.active_mutes(reopened, NOW) == {
            str(GROUP): {DATA: NOW + timedelta(hours=2)}
        }
        assert controls.paused_chats(reopened) == {str(GROUP)}
        assert controls.active_mutes(reopened, NOW + timedelta(hours=3)) == {}  # it expires
    finally:
        reopened.close()

    watches = await bot.say(GROUP, MEMBER, "/watches")
    assert "paused" in watches.plain_text and "muted until" in watches.plain_text
    assert "already paused" in (await bot.say(GROUP, ADMIN, "/pause")).plain_text
    assert "unmuted" in (await bot.say(GROUP, ADMIN, "/unmute Data exports")).plain_text
    assert "was not muted" in (await bot.say(GROUP, ADMIN, "/unmute Data exports")).plain_text
    assert "on again" in (await bot.say(GROUP, ADMIN, "/resume")).plain_text
    assert controls.active_mutes(bot.db, NOW) == {}
    assert controls.paused_chats(bot.db) == set()


async def test_the_user_of_a_configured_private_chat_may_change_it(bot: Bot) -> None:
    reply = await bot.say(PRIVATE, PRIVATE, "/mute Tesla FSD in China")

    assert "until 2026-11-25 12:00 CST" in reply.plain_text  # 24 h, in the chat's zone
    assert controls.active_mutes(bot.db, NOW) == {str(PRIVATE): {FSD: NOW + timedelta(hours=24)}}


async def test_mute_explains_what_it_cannot_do(bot: Bot) -> None:
    unknown = await bot.say(PRIVATE, PRIVATE, "/mute Data exports")  # not this chat's watch
    bad = await bot.say(GROUP, ADMIN, "/mute Data exports 2x")
    long = await bot.say(GROUP, ADMIN, "/mute Data exports 400d")
    usage = await bot.say(GROUP, ADMIN, "/mute")

    assert unknown.plain_text == (
        "No watch named Data exports in this chat. This chat's watches: Tesla FSD in China."
    )
    assert bad.plain_text == "invalid duration '2x' (use e.g. 90s, 15m, 2h, 1d)"
    assert long.plain_text == "A mute lasts at most 365 days."
    assert usage.plain_text.startswith("Usage: /mute <watch> [duration].")
    assert controls.active_mutes(bot.db, NOW) == {}


# -- what anyone in a configured chat may read --------------------------------------------------


async def test_help_lists_every_command(bot: Bot) -> None:
    reply = await bot.say(GROUP, MEMBER, "/help")

    for name, _ in COMMANDS:
        assert f"/{name} " in reply.plain_text


async def test_watches_with_todays_match_counts(bot: Bot) -> None:
    group = await bot.say(GROUP, MEMBER, "/watches")
    private = await bot.say(PRIVATE, PRIVATE, "/watches")

    # Yesterday's FSD item does not count; "today" is the chat's own day.
    assert f"{FSD}: 2" in group.plain_text and f"{DATA}: 1" in group.plain_text
    assert f"{FSD}: 2" in private.plain_text and DATA not in private.plain_text


async def test_recent_newest_first_escaped_and_only_the_chats_watches(bot: Bot) -> None:
    group = await bot.say(GROUP, MEMBER, "/recent")
    one = await bot.say(GROUP, MEMBER, "/recent tesla fsd in china 1")
    private = await bot.say(PRIVATE, PRIVATE, "/recent 20")
    unknown = await bot.say(GROUP, MEMBER, "/recent Nope")

    assert group.plain_text.index(HOSTILE) < group.plain_text.index("Beijing grants")
    assert "1 &lt; 2 &amp; &lt;b&gt;unclosed" in group.text  # escaped, and Telegram took it
    assert 'href="https://wire.example/fsd?a=1&amp;b=2"' in group.text
    assert "Xiaomi" not in group.plain_text  # matched nothing
    assert one.plain_text.count("•") == 1 and HOSTILE in one.plain_text
    assert private.plain_text.count("•") == 3 and "Beijing" not in private.plain_text
    assert "No watch named Nope" in unknown.plain_text and DATA in unknown.plain_text


async def test_search_runs_the_query_language_over_stored_items(bot: Bot) -> None:
    xiaomi = await bot.say(GROUP, MEMBER, "/search xiaomi OR 小米")
    alias = await bot.say(GROUP, MEMBER, '/search @tesla AND "self-driving" n=1')
    many = await bot.say(GROUP, MEMBER, "/search approv* n=1")
    error = await bot.say(GROUP, MEMBER, "/search tesla AND (fsd")
    no_alias = await bot.say(GROUP, MEMBER, "/search @nope")
    only_not = await bot.say(GROUP, MEMBER, "/search -gdpr")
    nothing = await bot.say(GROUP, MEMBER, "/search gdpr")

    assert "1 items in the last 7 days" in xiaomi.plain_text and "Xiaomi SU7" in xiaomi.plain_text
    assert "Tesla wins approval" in alias.plain_text
    # three match (the old one too: it is within 7 days); the newest one is shown
    assert "3 items in the last 7 days" in many.plain_text and "the newest 1" in many.plain_text
    assert many.plain_text.count("•") == 1
    assert error.plain_text == "Invalid query: unbalanced parenthesis at column 11"
    assert no_alias.plain_text.startswith("Invalid query:") and "nope" in no_alias.plain_text
    assert "none of its terms" in only_not.plain_text
    assert nothing.plain_text == "No items in the last 7 days match gdpr."


async def test_status_lists_healthy_and_failing_feeds(bot: Bot) -> None:
    reply = await bot.say(GROUP, MEMBER, "/status")

    text = reply.plain_text
    assert "2 — 1 healthy, 1 failing" in text
    assert "❌ Broken: HTTP 500 from b.example (1 in a row; last poll 2026-11-24 03:50 UTC)" in text
    assert "✅ Wire: last poll 2026-11-24 03:00 UTC, 5 items" in text
    assert text.index("Broken") < text.index("Wire")


async def test_digest_now_for_this_chat(bot: Bot) -> None:
    reply = await bot.say(GROUP, MEMBER, "/digest")

    assert bot.digests == [GROUP]
    assert reply.plain_text == "Digest sent: 3 stories <new>"


# -- the buttons under an alert ---------------------------------------------------------------


async def _alert_message(bot: Bot, alert_id: int, watches: list[str]) -> int:
    sent = await bot.app.bot.send_message(
        GROUP, "alert", reply_markup=alert_buttons(alert_id, watches)
    )
    return int(sent.message_id)


async def test_the_mute_button_works_for_an_admin(bot: Bot) -> None:
    alert_id = _group_alerts(bot.db)["Beijing grants data export approval"]
    message_id = await _alert_message(bot, alert_id, [DATA])
    (button,) = bot.fake.sent(GROUP)[-1].reply_markup["inline_keyboard"][0]  # type: ignore[index]

    answer = await bot.press(GROUP, ADMIN, button["callback_data"], message_id)

    assert button["text"] == "Mute Data exports 24 h"
    assert answer["text"] == "Muted Data exports until 2026-11-25 04:00 UTC."
    assert controls.active_mutes(bot.db, NOW) == {str(GROUP): {DATA: NOW + timedelta(hours=24)}}


async def test_the_mute_button_is_refused_for_a_group_member(bot: Bot) -> None:
    alert_id = _group_alerts(bot.db)["Beijing grants data export approval"]
    data = alert_buttons(alert_id, [DATA]).inline_keyboard[0][0].callback_data
    assert isinstance(data, str)
    message_id = await _alert_message(bot, alert_id, [DATA])

    member = await bot.press(GROUP, MEMBER, data, message_id)
    stranger = await bot.press(STRANGER_GROUP, ADMIN, data, 1)

    assert member == {
        "callback_query_id": member["callback_query_id"],
        "text": ONLY_ADMINS,
        "show_alert": True,
    }
    assert stranger["text"] == NOT_CONFIGURED.format(STRANGER_GROUP)
    assert bot.unchanged()


async def test_a_button_for_another_chats_alert_or_a_gone_one_changes_nothing(bot: Bot) -> None:
    private_alert = next(a for a in alert_queries.pending_alerts(bot.db) if a.chat == str(PRIVATE))
    data = alert_buttons(private_alert.id, [FSD]).inline_keyboard[0][0].callback_data
    gone = alert_buttons(10**9, [FSD]).inline_keyboard[0][0].callback_data
    assert isinstance(data, str) and isinstance(gone, str)

    for pressed in (data, gone):
        answer = await bot.press(GROUP, ADMIN, pressed, 1)
        assert "no longer known" in answer["text"]
    assert bot.unchanged()


def test_alert_buttons_fit_telegrams_limits() -> None:
    long = "特斯拉 " * 40
    markup = alert_buttons(2**62, [long, "b", "c", "d", "b"])

    rows = markup.inline_keyboard
    assert len(rows) == 3  # at most three, duplicates dropped
    for (button,) in rows:
        assert isinstance(button.callback_data, str)
        assert len(button.callback_data.encode()) <= MAX_CALLBACK_DATA_BYTES
    assert rows[0][0].text.startswith("Mute 特斯拉") and rows[0][0].text.endswith("… 24 h")


# -- the command menu ------------------------------------------------------------------------


async def test_publish_commands_registers_the_menu(bot: Bot) -> None:
    await publish_commands(bot.app.bot)

    assert bot.fake.commands() == [{"command": n, "description": d} for n, d in COMMANDS]


async def test_a_failing_set_my_commands_is_logged_not_raised(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.fail_next("setMyCommands", error_code=400, description="Bad Request: nope")

    with caplog.at_level(logging.WARNING, logger="bot.commands"):
        await publish_commands(bot.app.bot)

    assert bot.fake.commands() == []
    assert any("could not register the command list" in r.getMessage() for r in caplog.records)
