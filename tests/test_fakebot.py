"""The fake Bot API against the real python-telegram-bot client over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from telegram import Bot as PtbBot
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.fakebot import BOT_USERNAME, FakeBotApi, HtmlParseError, parse_html

CHAT = 4242
OTHER = 777


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi(long_poll_cap=0.3) as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[PtbBot]:
    async with PtbBot(api.token, base_url=api.base_url) as client:
        yield client


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.title(), callback_data=d) for d in data]])


async def test_get_me(api: FakeBotApi, bot: PtbBot) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.username == BOT_USERNAME
    assert me.id == int(api.token.split(":")[0])
    assert bot.username == BOT_USERNAME  # `async with bot` called getMe too
    assert [c.method for c in api.calls] == ["getMe", "getMe"]
    assert all(c.ok for c in api.calls)


async def test_send_message_html(api: FakeBotApi, bot: PtbBot) -> None:
    html = '<b>Tesla</b> wins <a href="https://a.example/1?x=1&amp;y=2">approval</a> &lt;FSD&gt;'

    message = await bot.send_message(CHAT, html, parse_mode="HTML", reply_markup=keyboard("mute"))
    second = await bot.send_message(CHAT, "plain")
    elsewhere = await bot.send_message(OTHER, "hello")

    # PTB got a real Message: Telegram's plain text and entities, not the HTML source.
    assert message.text == "Tesla wins approval <FSD>"
    assert message.chat.id == CHAT
    assert message.from_user is not None and message.from_user.username == BOT_USERNAME
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        (MessageEntity.BOLD, 0, 5),
        (MessageEntity.TEXT_LINK, 11, 8),
    ]
    assert message.entities[1].url == "https://a.example/1?x=1&y=2"
    assert message.reply_markup == keyboard("mute")
    assert (message.message_id, second.message_id, elsewhere.message_id) == (1, 2, 1)

    sent = api.sent(CHAT)
    assert [s.message_id for s in sent] == [1, 2]
    assert sent[0].text == html
    assert sent[0].plain_text == "Tesla wins approval <FSD>"
    assert sent[0].parse_mode == "HTML"
    # PTB posts a form; reply_markup is a JSON string field, decoded here.
    assert sent[0].reply_markup == {
        "inline_keyboard": [[{"text": "Mute", "callback_data": "mute"}]]
    }
    assert sent[1].parse_mode is None and sent[1].reply_markup is None
    assert api.calls_to("sendMessage")[0].params["chat_id"] == CHAT  # an int, not "4242"
    assert [s.chat_id for s in api.sent()] == [CHAT, CHAT, OTHER]


async def test_queued_429_raises_retry_after(
    api: FakeBotApi, bot: PtbBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, reading RetryAfter.retry_after warns (PTBDeprecationWarning,
    # v22.2), and filterwarnings=error turns that into a failure.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api.fail_next("sendMessage", retry_after=3)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(CHAT, "first try")
    assert raised.value.retry_after == timedelta(seconds=3)
    await bot.send_message(CHAT, "second try")  # only the next call failed

    first, second = api.calls_to("sendMessage")
    assert first.status == 429
    assert first.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert second.ok
    assert [s.text for s in api.sent()] == ["second try"]


async def test_fail_next_only_for_one_chat_and_several_times(
    api: FakeBotApi, bot: PtbBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api.fail_next("sendMessage", chat_id=CHAT, times=2)
    api.fail_next("getMe", error_code=500)

    await bot.send_message(OTHER, "not this chat")
    for _ in range(2):
        with pytest.raises(RetryAfter):
            await bot.send_message(CHAT, "flooded")
    await bot.send_message(CHAT, "through")
    with pytest.raises(Exception, match="Internal Server Error") as raised:
        await bot.get_me()
    assert not isinstance(raised.value, RetryAfter)  # no retry_after on a 500

    assert [(s.chat_id, s.text) for s in api.sent()] == [
        (OTHER, "not this chat"),
        (CHAT, "through"),
    ]


async def test_blocked_chat_is_forbidden(api: FakeBotApi, bot: PtbBot) -> None:
    await bot.send_message(CHAT, "before")
    api.block_chat(CHAT)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "after")
    await bot.send_message(OTHER, "others still get theirs")

    assert api.calls_to("sendMessage")[1].status == 403
    assert [s.text for s in api.sent(CHAT)] == ["before"]


async def test_too_long_message_is_a_bad_request(api: FakeBotApi, bot: PtbBot) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    # The limit is on the text after entity parsing: tags and escapes do not count.
    await bot.send_message(CHAT, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")

    assert api.calls_to("sendMessage")[0].status == 400
    assert len(api.sent(CHAT)[0].plain_text) == 4096


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>unclosed", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b>crossed</i>", 'unmatched end tag at byte offset 10, expected "</b>", found "</i>"'),
        ("line<br>break", 'unsupported start tag "br" at byte offset 4'),
        ("<div>block</div>", 'unsupported start tag "div" at byte offset 0'),
        ("1 < 2", 'unsupported start tag "" at byte offset 2'),
        ("stray</b>", "unexpected end tag at byte offset 5"),
        ('<span class="red">x</span>', 'tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "unclosed start tag at byte offset 0"),
        ("é<br>", 'unsupported start tag "br" at byte offset 2'),  # offsets are UTF-8 bytes
    ],
)
async def test_malformed_html_is_a_bad_request(
    api: FakeBotApi, bot: PtbBot, html: str, error: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(CHAT, html, parse_mode="HTML")

    # PTB strips "Bad Request: " and capitalize()s the rest of Telegram's description.
    assert raised.value.message == f"Can't parse entities: {error}"
    assert api.calls_to("sendMessage")[0].response["description"].lower() == (
        f"bad request: can't parse entities: {error}"
    )
    assert api.sent() == []


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins>", "bsieun"),
        ("<s>s</s><strike>k</strike><del>d</del><code>c</code><pre>p</pre>", "skdcp"),
        ('<tg-spoiler>t</tg-spoiler><span class="tg-spoiler">s</span>', "ts"),
        ('<blockquote>q</blockquote><a href="https://x.example">a</a>', "qa"),
        ("&lt;&gt;&amp;&quot; &#233;&#x1F600;", '<>&" é😀'),
        ("AT&T &nbsp; &copy;", "AT&T &nbsp; &copy;"),  # unknown entities stay literal text
        ("<B>upper</B> <b >space</b >", "upper space"),
    ],
)
async def test_valid_html_is_accepted(bot: PtbBot, html: str, text: str) -> None:
    message = await bot.send_message(CHAT, html, parse_mode="HTML")

    assert message.text == text


def test_parse_html_entities_in_utf16_code_units() -> None:
    text, entities = parse_html(
        '😀 <b>bold <i>both</i></b> <pre><code class="language-python">x = 1</code></pre>'
    )

    assert text == "😀 bold both x = 1"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},  # the emoji is two UTF-16 units
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "pre", "offset": 13, "length": 5, "language": "python"},
    ]
    with pytest.raises(HtmlParseError):
        parse_html("<b><i>x</b></i>")


async def test_get_updates_returns_a_pushed_command(api: FakeBotApi, bot: PtbBot) -> None:
    pushed = api.message_update(CHAT, CHAT, "/watch tesla")

    updates = await bot.get_updates(timeout=0)

    assert len(updates) == 1
    update = updates[0]
    assert isinstance(update, Update)
    assert update.update_id == pushed["update_id"]
    assert update.message is not None
    assert update.message.text == "/watch tesla"
    assert update.message.parse_entities([MessageEntity.BOT_COMMAND]) == {
        MessageEntity(MessageEntity.BOT_COMMAND, 0, 6): "/watch"
    }
    assert update.effective_chat is not None and update.effective_chat.type == "private"
    assert update.effective_user is not None and update.effective_user.id == CHAT

    # Not confirmed yet: the same update again. An offset past it confirms and forgets it.
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [update.update_id]
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert api.pending_updates() == []


async def test_get_updates_long_polls(api: FakeBotApi, bot: PtbBot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=30) == ()  # capped by long_poll_cap=0.3
    assert 0.25 < time.monotonic() - started < 2

    api.long_poll_cap = 10  # from here the push, not the cap, must end the poll
    timer = threading.Timer(0.1, api.message_update, (CHAT, CHAT, "late"))
    timer.start()
    started = time.monotonic()
    updates = await bot.get_updates(timeout=30)
    timer.join()

    assert [u.message.text for u in updates if u.message] == ["late"]
    assert time.monotonic() - started < 5  # answered on the push, long before the cap


async def test_a_second_poller_ends_the_first_with_conflict(api: FakeBotApi, bot: PtbBot) -> None:
    async with PtbBot(api.token, base_url=api.base_url) as second:
        api.long_poll_cap = 10
        first_poll = asyncio.create_task(bot.get_updates(timeout=30))
        await api.wait_for_async(lambda a: a.waiting_polls == 1)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first_poll


async def test_edit_message_text(api: FakeBotApi, bot: PtbBot) -> None:
    sent = await bot.send_message(
        CHAT, "<b>1 new</b> story", parse_mode="HTML", reply_markup=keyboard("mute")
    )

    edited = await bot.edit_message_text(
        "<b>2 new</b> stories", chat_id=CHAT, message_id=sent.message_id, parse_mode="HTML"
    )

    assert not isinstance(edited, bool)
    assert edited.message_id == sent.message_id
    assert edited.text == "2 new stories"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    (edit,) = api.edits(CHAT)
    assert (edit.message_id, edit.text, edit.plain_text) == (
        1,
        "<b>2 new</b> stories",
        "2 new stories",
    )
    assert api.messages(CHAT)[0]["text"] == "2 new stories"

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>2 new</b> stories", chat_id=CHAT, message_id=1, parse_mode="HTML"
        )
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("gone", chat_id=CHAT, message_id=99)


async def test_set_my_commands_is_recorded(api: FakeBotApi, bot: PtbBot) -> None:
    commands = [BotCommand("watch", "Add a watch"), BotCommand("list", "Your watches")]

    assert await bot.set_my_commands(commands)

    assert api.commands() == [
        {"command": "watch", "description": "Add a watch"},
        {"command": "list", "description": "Your watches"},
    ]
    assert await bot.get_my_commands() == tuple(commands)
    with pytest.raises(BadRequest, match="Bot_command_invalid"):  # Telegram wants lower case
        await bot.set_my_commands([BotCommand("Watch", "Add a watch")])


async def test_callback_query_and_answer(api: FakeBotApi, bot: PtbBot) -> None:
    sent = await bot.send_message(CHAT, "alert", reply_markup=keyboard("mute"))
    api.callback_update(CHAT, CHAT, "mute", sent.message_id)

    (update,) = await bot.get_updates(timeout=0)

    query = update.callback_query
    assert query is not None
    assert query.data == "mute"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await query.answer("Muted")
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("twice")
    assert api.calls_to("answerCallbackQuery")[0].params == {
        "callback_query_id": query.id,
        "text": "Muted",
    }


async def test_callback_data_over_64_bytes_is_rejected(bot: PtbBot) -> None:
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(CHAT, "alert", reply_markup=keyboard("m" * 65))


async def test_application_answers_a_command_by_polling(api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id, "<b>Welcome</b>", parse_mode="HTML"
        )

    app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=timedelta(seconds=1))
        api.message_update(CHAT, CHAT, "/start")
        api.message_update(-100123, CHAT, f"/start@{BOT_USERNAME}", chat_type="supergroup")

        await api.wait_for_async(lambda a: len(a.sent()) == 2, timeout=5)
        await app.updater.stop()
        await app.stop()

    assert {(s.chat_id, s.plain_text) for s in api.sent()} == {
        (CHAT, "Welcome"),
        (-100123, "Welcome"),
    }
    assert api.calls_to("deleteWebhook")  # what start_polling does first
    assert api.pending_updates() == []  # stopping confirmed what it had fetched


async def test_raw_requests_json_multipart_unknown_method_and_bad_token(
    api: FakeBotApi, bot: PtbBot
) -> None:
    url = f"{api.base_url}{api.token}"
    async with httpx.AsyncClient() as client:
        as_json = await client.post(f"{url}/sendMessage", json={"chat_id": CHAT, "text": "json"})
        multipart = await client.post(
            f"{url}/sendMessage",
            data={"chat_id": str(CHAT), "text": "form", "reply_markup": keyboard("a").to_json()},
            files={"thumbnail": ("t.jpg", b"\xff\xd8", "image/jpeg")},
        )
        unknown = await client.post(f"{url}/sendTelepathy", json={})

    assert as_json.status_code == 200 and as_json.json()["result"]["text"] == "json"
    assert multipart.status_code == 200
    assert api.calls_to("sendMessage")[1].files == {"thumbnail": b"\xff\xd8"}
    assert api.sent()[1].reply_markup == {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}]]
    }
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}

    with pytest.raises(InvalidToken):  # 401 Unauthorized, on the getMe of `async with`
        async with PtbBot("999:WRONG", base_url=api.base_url):
            pass
    assert api.calls[-1].status == 401


def test_wait_for_says_what_it_saw(api: FakeBotApi) -> None:
    with pytest.raises(AssertionError, match=r"condition not met within 0.05s") as raised:
        api.wait_for(lambda a: a.sent(), timeout=0.05)

    assert "(no calls)" in str(raised.value)
