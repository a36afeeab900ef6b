"""A fake Telegram Bot API server on 127.0.0.1 for tests: python-telegram-bot talks real HTTP to it.

Point a real client at it and nothing of the client is mocked::

    with FakeBotApi() as api:
        async with Bot(api.token, base_url=api.base_url) as bot:
            await bot.send_message(42, "<b>hi</b>", parse_mode="HTML")
        assert api.sent(42)[0].plain_text == "hi"

It answers like Telegram where a client's behaviour depends on it: the Bot API envelope
(``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``)
with the HTTP status equal to the error code, ``parameters.retry_after`` on a 429, Telegram's
HTML parse mode (after tdlib's ``parse_html``: the same tags, the same error messages, the
plain text and entities in the returned Message), the 4096-character limit, 64-byte callback
data, editing rules ("message is not modified", an edit without ``reply_markup`` drops the
inline keyboard), and getUpdates long polling (``offset`` confirms and forgets, ``timeout``
waits for a push, a second poller ends the first one with 409 Conflict).

Failures are scripted: ``fail_next`` queues error answers for a method (a 429 flood wait, a
500, a migrated group), ``block_chat`` makes a user block the bot. Every request is recorded
in ``calls`` with its decoded parameters, the time it arrived and the answer it got.

Mirrors ``bot/demo/server.py``: a ThreadingHTTPServer on a free port in a daemon thread, a
context manager, records guarded by one lock. Speaks HTTP/1.1 keep-alive like
api.telegram.org; ``stop`` closes the kept-alive connections so no handler thread outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import enum
import itertools
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "AUTO",
    "BOT_USERNAME",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_TEXT_LENGTH",
    "ApiCall",
    "EditedMessage",
    "FakeBotApi",
    "HtmlParseError",
    "SentMessage",
    "parse_html",
]

JSONDict = dict[str, Any]

BOT_USERNAME = "newshound_test_bot"
BOT_FIRST_NAME = "Newshound Test"
MAX_TEXT_LENGTH = 4096  # characters of the text after entity parsing
MAX_CALLBACK_DATA_BYTES = 64

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class _Auto(enum.Enum):
    AUTO = "auto"


AUTO = _Auto.AUTO  # fail_next(retry_after=AUTO): 1 second on a 429, absent otherwise

# How form fields are typed. PTB posts application/x-www-form-urlencoded (multipart/form-data
# when it uploads a file) where strings go as they are and everything else JSON-encoded
# (RequestParameter.json_value): chat_id=42, disable_notification=true,
# reply_markup={"inline_keyboard": ...}. Telegram types each field by its name, and so do we:
# a text of "[1]" or "42" stays a string.
_JSON_FIELDS = frozenset(
    [
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "message_ids",
        "reply_markup",
        "reply_parameters",
        "results",
        "scope",
    ]
)
_NUMBER_FIELDS = frozenset(
    [
        "cache_time",
        "chat_id",
        "from_chat_id",
        "limit",
        "message_id",
        "message_thread_id",
        "offset",
        "reply_to_message_id",
        "timeout",
        "user_id",
    ]
)
_BOOL_FIELDS = frozenset(
    [
        "allow_paid_broadcast",
        "allow_sending_without_reply",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "protect_content",
        "show_alert",
    ]
)
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d*")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


def _decode_field(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value  # left as sent; the method answers "can't parse"
    if name in _NUMBER_FIELDS:
        if _INT.fullmatch(value):
            return int(value)
        if _FLOAT.fullmatch(value):
            return float(value)
    if name in _BOOL_FIELDS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# ---------------------------------------------------------------------------------------------
# Telegram's HTML parse mode


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's own."""


_HTML_TAGS = frozenset(
    [
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    ]
)
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_SPACE = frozenset(" \t\r\n\v\f")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_start: int
    text_start: int


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """tdlib's decode_html_entity: &lt; &gt; &amp; &quot; and &#NN; / &#xHH; (the ';' optional).

    Anything else (&nbsp;, a bare &) is not an error: Telegram keeps it as literal text.
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        hexadecimal = end < n and text[end] == "x"
        if hexadecimal:
            end += 1
        start = end
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < n and text[end] in digits:
            end += 1
        if end == start or end - pos >= 10:
            return None
        code = int(text[start:end], 16 if hexadecimal else 10)
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        found = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if found is None:
            return None
        char = found
    if end < n and text[end] == ";":
        end += 1
    return char, end


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Telegram's HTML parse mode (a port of tdlib's parse_html): the plain text and its
    entities (offsets and lengths in UTF-16 code units), or HtmlParseError with the message
    Telegram puts after "Bad Request: can't parse entities: ".
    """
    n = len(source)

    def at(k: int) -> str:
        return source[k] if k < n else ""

    def byte_offset(k: int) -> int:
        return len(source[:k].encode("utf-8", "surrogatepass"))

    out: list[str] = []
    size = 0  # len("".join(out))
    utf16 = 0
    entities: list[JSONDict] = []
    stack: list[_OpenTag] = []
    i = 0
    while i < n:
        c = source[i]
        if c == "&":
            decoded = _decode_entity(source, i)
            if decoded is not None:
                char, i = decoded
                out.append(char)
                size += 1
                utf16 += _utf16_len(char)
                continue
        if c != "<":
            out.append(c)
            size += 1
            utf16 += _utf16_len(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while at(i) and at(i) not in _SPACE and at(i) != ">":
                i += 1
            if not at(i):
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = source[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise HtmlParseError(
                    f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            argument = ""
            while at(i) != ">":
                while at(i) and at(i) in _SPACE:
                    i += 1
                if at(i) == ">":
                    break
                attribute_begin = i
                while at(i) and at(i) not in _SPACE and at(i) not in "=>":
                    i += 1
                attribute = source[attribute_begin:i]
                if not attribute:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{byte_offset(begin)}"
                    )
                while at(i) and at(i) in _SPACE:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attribute == "expandable":
                        argument = "expandable"
                        continue
                    raise HtmlParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {byte_offset(begin)}'
                    )
                i += 1
                while at(i) and at(i) in _SPACE:
                    i += 1
                if not at(i):
                    raise HtmlParseError(
                        f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}'
                    )
                if at(i) not in ("'", '"'):
                    token_begin = i
                    while at(i) and ((at(i).isascii() and at(i).isalnum()) or at(i) in ".-"):
                        i += 1
                    value = source[token_begin:i].lower()
                    if at(i) and at(i) not in _SPACE and at(i) != ">":
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset {byte_offset(token_begin)}"
                        )
                else:
                    quote = source[i]
                    i += 1
                    chars: list[str] = []
                    while at(i) and at(i) != quote:
                        if at(i) == "&":
                            decoded = _decode_entity(source, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(source[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if not at(i):
                    raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            stack.append(_OpenTag(tag, argument, utf16, size))
            i += 1  # past the '>'
            continue

        # an end tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while at(i) and at(i) not in _SPACE and at(i) != ">":
            i += 1
        end_tag = source[begin + 2 : i].lower()
        while at(i) and at(i) in _SPACE:
            i += 1
        if at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        i += 1
        opened = stack.pop()
        if end_tag and end_tag != opened.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                f'expected "</{opened.name}>", found "</{end_tag}>"'
            )
        if utf16 > opened.utf16_start:  # an empty entity is dropped
            entity = _entity(opened, utf16, "".join(out)[opened.text_start :], entities)
            if entity:
                entities.append(entity)
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # a language only counts inside <pre>
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity(opened: _OpenTag, utf16_end: int, inner: str, done: list[JSONDict]) -> JSONDict:
    """The MessageEntity for a closed tag ({} when it merges into the previous one)."""
    offset, length = opened.utf16_start, utf16_end - opened.utf16_start
    if opened.name == "a":
        return {
            "type": "text_link",
            "offset": offset,
            "length": length,
            "url": opened.argument or inner,
        }
    if opened.name == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        return {
            "type": "custom_emoji",
            "offset": offset,
            "length": length,
            "custom_emoji_id": opened.argument,
        }
    if opened.name == "blockquote" and opened.argument == "expandable":
        return {"type": "expandable_blockquote", "offset": offset, "length": length}
    last = done[-1] if done else {}
    same_span = last.get("offset") == offset and last.get("length") == length
    if opened.name == "pre" and same_span and last.get("type") == "code" and "language" in last:
        last.update(type="pre")  # <pre><code class="language-x">: one pre with a language
        return {}
    if opened.name == "code" and same_span and last.get("type") == "pre" and opened.argument:
        last["language"] = opened.argument
        return {}
    entity: JSONDict = {"type": _ENTITY_TYPES[opened.name], "offset": offset, "length": length}
    if opened.name == "code" and opened.argument:
        entity["language"] = opened.argument  # dropped below unless a <pre> claims it
    return entity


def _render(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSONDict]]:
    """The plain text and entities Telegram makes of a text and its parse_mode."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return parse_html(text)
        except HtmlParseError as exc:
            raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    if mode in ("", "markdown", "markdownv2"):
        # Markdown is not parsed here: the text is kept as sent.
        return text, list(entities) if isinstance(entities, list) else []
    raise _ApiError(400, "Bad Request: unsupported parse_mode")


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request: the method as routed (Telegram's spelling), its decoded parameters, when it
    arrived (time.monotonic()), the HTTP status and JSON body of the answer."""

    method: str
    params: JSONDict
    at: float
    status: int
    response: JSONDict
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A sendMessage that succeeded. ``text`` is what the client sent (HTML source with
    parse_mode HTML); ``plain_text`` and ``entities`` are what Telegram made of it."""

    chat_id: int
    text: str
    parse_mode: str | None
    reply_markup: JSONDict | None
    message_id: int
    at: float
    plain_text: str
    entities: list[JSONDict]
    params: JSONDict


@dataclass(frozen=True, slots=True)
class EditedMessage:
    """An editMessageText that succeeded (fields as in SentMessage)."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: JSONDict | None
    at: float
    plain_text: str
    entities: list[JSONDict]
    params: JSONDict


@dataclass(slots=True)
class _Failure:
    method: str  # lower case
    chat_id: int | None
    remaining: int
    error_code: int
    description: str
    parameters: JSONDict


@dataclass(slots=True)
class _Stored:
    message: JSONDict
    from_bot: bool


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters or {}

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client went away or stop() closed the connection
        super().handle_error(request, client_address)


Method = Callable[[JSONDict], Any]


# ---------------------------------------------------------------------------------------------
# The server


class FakeBotApi:
    """A Telegram Bot API on 127.0.0.1 for one bot ``token``; see the module docstring."""

    def __init__(self, token: str = "123456:TEST", *, long_poll_cap: float = 1.0) -> None:
        self.token = token
        self.long_poll_cap = long_poll_cap  # getUpdates waits at most this long, whatever timeout
        self.bot_id = int(token.split(":", 1)[0])
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._calls: list[ApiCall] = []
        self._sent: list[SentMessage] = []
        self._edits: list[EditedMessage] = []
        self._failures: list[_Failure] = []
        self._blocked: dict[int, str] = {}
        self._updates: list[JSONDict] = []
        self._next_update_id = 1
        self._poll_generation = 0
        self._waiting_polls = 0
        self._message_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], _Stored] = {}
        self._chats: dict[int, JSONDict] = {}
        self._callbacks: dict[str, bool] = {}  # query id -> answered
        self._callback_ids = itertools.count(4_000_000_000_000_001)
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._webhook_url = ""
        self._connections: set[socket.socket] = set()
        self._started = time.monotonic()
        methods: dict[str, Method] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "close": lambda params: True,
            "logOut": lambda params: True,
        }
        self._methods = {name.lower(): (name, fn) for name, fn in methods.items()}
        self._server = _HttpServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """For Bot(base_url=...): PTB requests f"{base_url}{token}/{method}"."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/bot"

    def start(self) -> FakeBotApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping.set()
            self._cond.notify_all()  # long polls answer now
            connections = list(self._connections)
        for connection in connections:  # kept-alive connections: their handlers end
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()  # joins the handler threads

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what happened ------------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        """Every request so far, in the order they were answered (a snapshot)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [c for c in self._calls if c.method.lower() == method.lower()]

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Successful sendMessage calls, oldest first (to ``chat_id`` only, if given)."""
        with self._lock:
            return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def edits(
        self, chat_id: int | None = None, message_id: int | None = None
    ) -> list[EditedMessage]:
        """Successful editMessageText calls, oldest first."""
        with self._lock:
            return [
                e
                for e in self._edits
                if (chat_id is None or e.chat_id == chat_id)
                and (message_id is None or e.message_id == message_id)
            ]

    def messages(self, chat_id: int) -> list[JSONDict]:
        """The chat as its user sees it now: every message (theirs and the bot's) still there,
        as Bot API Message objects, after edits and deletions."""
        with self._lock:
            found = [(k[1], s.message) for k, s in self._messages.items() if k[0] == chat_id]
            return [copy.deepcopy(m) for _, m in sorted(found, key=lambda p: p[0])]

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The command list last set with setMyCommands for that scope and language."""
        with self._lock:
            return list(self._commands.get(self._commands_key(scope, language_code), []))

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return list(self._updates)

    @property
    def waiting_polls(self) -> int:
        """getUpdates requests being held open right now (a bot idle in its long poll)."""
        with self._lock:
            return self._waiting_polls

    def describe(self, last: int = 40) -> str:
        """The last calls, one a line: for assertion messages."""
        with self._lock:
            calls = self._calls[-last:]
        lines = []
        for c in calls:
            params = json.dumps(c.params, ensure_ascii=False)
            if len(params) > 160:
                params = params[:157] + "..."
            lines.append(f"  +{c.at - self._started:7.3f}s {c.status} {c.method} {params}")
        return "\n".join(lines) or "  (no calls)"

    def wait_for(self, predicate: Callable[[FakeBotApi], object], timeout: float = 10.0) -> None:
        """Poll until predicate(self) is true. Blocks the thread: for a client running in
        another thread or process; in a test whose client runs on the same event loop, await
        ``wait_for_async`` instead."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(self._not_met(timeout))
            time.sleep(0.01)

    async def wait_for_async(
        self,
        predicate: Callable[[FakeBotApi], object],
        timeout: float = 10.0,  # noqa: ASYNC109 -- the same signature as wait_for
    ) -> None:
        """wait_for without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(self._not_met(timeout))
            await asyncio.sleep(0.01)

    def _not_met(self, timeout: float) -> str:
        return f"condition not met within {timeout}s; the Bot API saw:\n{self.describe()}"

    # -- scripting ----------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        times: int = 1,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | _Auto | None = AUTO,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (only those for ``chat_id``, if given) answer
        with this error: HTTP status = error_code, ok=false, and parameters.retry_after /
        parameters.migrate_to_chat_id when set. retry_after=AUTO is 1 on a 429 and absent on
        other codes; description=None is Telegram's usual text for the code."""
        if retry_after is AUTO:
            retry_after = 1 if error_code == 429 else None
        if description is None:
            reason = _REASONS.get(error_code, "Error")
            if retry_after is not None:
                description = f"{reason}: retry after {retry_after}"
            elif migrate_to_chat_id is not None:
                description = f"{reason}: group chat was upgraded to a supergroup chat"
            else:
                description = reason
        parameters: JSONDict = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        with self._lock:
            self._failures.append(
                _Failure(method.lower(), chat_id, times, error_code, description, parameters)
            )

    def block_chat(
        self, chat_id: int, description: str = "Forbidden: bot was blocked by the user"
    ) -> None:
        """From now on sendMessage and editMessageText to the chat answer 403."""
        with self._lock:
            self._blocked[chat_id] = description

    def unblock_chat(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.pop(chat_id, None)

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue an update for getUpdates (update_id assigned if missing); returns it."""
        with self._cond:
            if "update_id" not in update:
                update = {"update_id": self._next_update_id, **update}
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def message_update(
        self, chat_id: int, user_id: int, text: str, *, chat_type: str = "private"
    ) -> JSONDict:
        """A user writes ``text`` in the chat: the Update (a /command gets its bot_command
        entity, as Telegram adds), pushed for getUpdates and returned."""
        user = self._user(user_id)
        message: JSONDict = {"from": user, "text": text}
        command = _COMMAND.match(text)
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command.group())}
            ]
        with self._lock:
            chat = self._chats.setdefault(chat_id, self._new_chat(chat_id, chat_type, user))
            message_id = self._next_message_id(chat_id)
            message = {"message_id": message_id, **message, "chat": chat, "date": _now()}
            self._messages[(chat_id, message_id)] = _Stored(message, from_bot=False)
        return self.push_update({"message": message})

    def callback_update(
        self,
        chat_id: int,
        user_id: int,
        data: str,
        message_id: int,
        *,
        chat_type: str = "private",
    ) -> JSONDict:
        """A user presses an inline button with ``data`` under message ``message_id``: the
        callback_query Update, pushed and returned. Its id is good for one answerCallbackQuery."""
        user = self._user(user_id)
        with self._lock:
            chat = self._chats.setdefault(chat_id, self._new_chat(chat_id, chat_type, user))
            stored = self._messages.get((chat_id, message_id))
            if stored is not None:
                message = copy.deepcopy(stored.message)
            else:
                message = {
                    "message_id": message_id,
                    "from": self._bot_user(),
                    "chat": chat,
                    "date": _now(),
                    "text": "",
                }
            query_id = str(next(self._callback_ids))
            self._callbacks[query_id] = False
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(abs(hash(("chat", chat_id)))),
            "data": data,
        }
        return self.push_update({"callback_query": query})

    # -- HTTP ---------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org
            timeout = 30  # an idle kept-alive connection is dropped

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm and
                # the client's delayed ACK hold the body back ~40 ms on every request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                api._track(self.connection)

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    api._untrack(self.connection)

            def do_POST(self) -> None:
                received = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = api._dispatch(
                    self.path, self.headers.get("Content-Type", ""), body, received
                )
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True  # the client gave up (a cancelled long poll)

            do_GET = do_POST

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def _track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)
            stopping = self._stopping.is_set()
        if stopping:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _dispatch(
        self, path: str, content_type: str, body: bytes, received: float
    ) -> tuple[int, JSONDict]:
        url = urlsplit(path)
        method = url.path
        params: JSONDict = {}
        files: dict[str, bytes] = {}
        try:
            route = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", url.path)
            if route is None:
                raise _ApiError(404, "Not Found")
            method = route.group(2)
            params, files = _decode_params(url.query, content_type, body)
            if route.group(1) != self.token:
                raise _ApiError(401, "Unauthorized")
            known = self._methods.get(method.lower())
            if known is None:
                raise _ApiError(404, "Not Found")
            method, handler = known
            self._scripted_failure(method, params)
            payload: JSONDict = {"ok": True, "result": handler(params)}
            status = 200
        except _ApiError as exc:
            status, payload = exc.code, exc.body()
        except Exception as exc:  # a bug in the fake: say so in the answer
            status = 500
            payload = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: fakebot failed: {exc!r}",
            }
        with self._lock:
            self._calls.append(ApiCall(method, params, received, status, payload, files))
        return status, payload

    def _scripted_failure(self, method: str, params: JSONDict) -> None:
        with self._lock:
            for failure in self._failures:
                if failure.method == method.lower() and (
                    failure.chat_id is None or failure.chat_id == params.get("chat_id")
                ):
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    raise _ApiError(failure.error_code, failure.description, failure.parameters)

    # -- the methods --------------------------------------------------------------------------

    def _bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = _chat_id(params)
        with self._lock:
            blocked = self._blocked.get(chat_id)
        if blocked is not None:
            raise _ApiError(403, blocked)
        text = params.get("text")
        plain, entities = self._text(params)
        markup = _reply_markup(params)
        with self._lock:
            message_id = self._next_message_id(chat_id)
            message: JSONDict = {
                "message_id": message_id,
                "from": self._bot_user(),
                "chat": self._chat(chat_id),
                "date": _now(),
                "text": plain,
            }
            if entities:
                message["entities"] = entities
            if markup is not None and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self._messages[(chat_id, message_id)] = _Stored(message, from_bot=True)
            self._sent.append(
                SentMessage(
                    chat_id=chat_id,
                    text=str(text),
                    parse_mode=params.get("parse_mode") or None,
                    reply_markup=markup,
                    message_id=message_id,
                    at=time.monotonic(),
                    plain_text=plain,
                    entities=entities,
                    params=params,
                )
            )
            return copy.deepcopy(message)

    def _text(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        plain, entities = _render(text, params.get("parse_mode"), params.get("entities"))
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        return plain, entities

    def _editable(self, params: JSONDict) -> tuple[int, int]:
        chat_id = _chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        with self._lock:
            blocked = self._blocked.get(chat_id)
        if blocked is not None:
            raise _ApiError(403, blocked)
        return chat_id, message_id

    def _stored_for_edit(self, chat_id: int, message_id: int) -> _Stored:
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if not stored.from_bot:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return stored

    def _edit_message_text(self, params: JSONDict) -> JSONDict:
        chat_id, message_id = self._editable(params)
        plain, entities = self._text(params)
        markup = _reply_markup(params)
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        with self._lock:
            stored = self._stored_for_edit(chat_id, message_id)
            old = stored.message
            if (
                old.get("text") == plain
                and old.get("entities", []) == entities
                and old.get("reply_markup") == inline
            ):
                raise _ApiError(400, NOT_MODIFIED)
            # Telegram drops the inline keyboard of a message edited without one.
            new = {k: v for k, v in old.items() if k not in ("entities", "reply_markup")}
            new.update(text=plain, edit_date=_now())
            if entities:
                new["entities"] = entities
            if inline is not None:
                new["reply_markup"] = inline
            stored.message = new
            self._edits.append(
                EditedMessage(
                    chat_id=chat_id,
                    message_id=message_id,
                    text=str(params["text"]),
                    parse_mode=params.get("parse_mode") or None,
                    reply_markup=markup,
                    at=time.monotonic(),
                    plain_text=plain,
                    entities=entities,
                    params=params,
                )
            )
            return copy.deepcopy(new)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        chat_id, message_id = self._editable(params)
        markup = _reply_markup(params)
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        with self._lock:
            stored = self._stored_for_edit(chat_id, message_id)
            if stored.message.get("reply_markup") == inline:
                raise _ApiError(400, NOT_MODIFIED)
            new = {k: v for k, v in stored.message.items() if k != "reply_markup"}
            new["edit_date"] = _now()
            if inline is not None:
                new["reply_markup"] = inline
            stored.message = new
            return copy.deepcopy(new)

    def _delete_message(self, params: JSONDict) -> bool:
        chat_id = _chat_id(params)
        message_id = params.get("message_id")
        with self._lock:
            if not isinstance(message_id, int) or (chat_id, message_id) not in self._messages:
                raise _ApiError(400, "Bad Request: message to delete not found")
            del self._messages[(chat_id, message_id)]
        return True

    def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        with self._lock:
            if self._callbacks.get(query_id, True):  # unknown or answered already
                raise _ApiError(400, QUERY_INVALID)
            self._callbacks[query_id] = True
        return True

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND_NAME.fullmatch(
                str(command.get("command", ""))
            ):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _ApiError(400, "Bad Request: command description is empty or too long")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        with self._lock:
            self._commands[key] = commands
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        with self._lock:
            return list(self._commands.get(key, []))

    def _delete_my_commands(self, params: JSONDict) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        with self._lock:
            self._commands.pop(key, None)
        return True

    def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = params.get("offset", 0)
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        allowed = params.get("allowed_updates") or None
        offset = offset if isinstance(offset, int) else 0
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        wait = min(max(float(timeout), 0.0), self.long_poll_cap)
        deadline = time.monotonic() + wait
        with self._cond:
            if self._webhook_url:
                raise _ApiError(409, CONFLICT_WEBHOOK)
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an older long poll ends with 409
            if offset > 0:  # confirmed: forgotten for good
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            self._waiting_polls += 1
            try:
                while True:
                    if self._poll_generation != generation:
                        raise _ApiError(409, CONFLICT_POLL)
                    wanted = [
                        u for u in self._updates if allowed is None or _update_type(u) in allowed
                    ]
                    remaining = deadline - time.monotonic()
                    if wanted or remaining <= 0 or self._stopping.is_set():
                        return copy.deepcopy(wanted[:limit])
                    self._cond.wait(remaining)
            finally:
                self._waiting_polls -= 1

    def _set_webhook(self, params: JSONDict) -> bool:
        with self._lock:
            self._webhook_url = str(params.get("url", ""))
            if params.get("drop_pending_updates") is True:
                self._updates.clear()
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        with self._lock:
            self._webhook_url = ""
            if params.get("drop_pending_updates") is True:
                self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        with self._lock:
            return {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }

    # -- chats and users (call with the lock held where noted) --------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        """Lock held. One sequence per chat, shared by the user's and the bot's messages."""
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _chat(self, chat_id: int) -> JSONDict:
        """Lock held. The chat as seen before, or guessed from the id's shape."""
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                chat = self._new_chat(chat_id, "private", self._user(chat_id))
            elif str(chat_id).startswith("-100"):
                chat = self._new_chat(chat_id, "supergroup", None)
            else:
                chat = self._new_chat(chat_id, "group", None)
            self._chats[chat_id] = chat
        return chat

    @staticmethod
    def _new_chat(chat_id: int, chat_type: str, user: JSONDict | None) -> JSONDict:
        if chat_type == "private" and user is not None:
            return {
                "id": chat_id,
                "type": "private",
                "first_name": user["first_name"],
                "last_name": user["last_name"],
                "username": user["username"],
            }
        title = "Test channel" if chat_type == "channel" else f"Test {chat_type}"
        return {"id": chat_id, "type": chat_type, "title": title}

    @staticmethod
    def _user(user_id: int) -> JSONDict:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": "Test",
            "last_name": f"User {user_id}",
            "username": f"user{user_id}",
            "language_code": "en",
        }


# ---------------------------------------------------------------------------------------------
# Helpers


def _now() -> int:
    return int(time.time())


def _chat_id(params: JSONDict) -> int:
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise _ApiError(400, "Bad Request: chat_id is empty")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        raise _ApiError(400, "Bad Request: chat not found")
    return chat_id


def _reply_markup(params: JSONDict) -> JSONDict | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is not None:
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _ApiError(400, "Bad Request: can't parse inline keyboard button")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _ApiError(400, "Bad Request: can't parse inline keyboard button")
                data = button.get("callback_data")
                if data is not None and not (
                    1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _update_type(update: JSONDict) -> str:
    return next((k for k in update if k != "update_id"), "")


def _decode_params(query: str, content_type: str, body: bytes) -> tuple[JSONDict, dict[str, bytes]]:
    """Parameters from the query string and the body (form, multipart or JSON), typed."""
    raw: JSONDict = dict(parse_qsl(query, keep_blank_values=True))
    files: dict[str, bytes] = {}
    kind = content_type.split(";", 1)[0].strip().lower()
    try:
        if kind == "application/json" and body:
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("not an object")
            raw.update(decoded)
        elif kind == "multipart/form-data":
            head = f"Content-Type: {content_type}\r\n\r\n".encode()
            message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not isinstance(name, str):
                    continue
                payload = part.get_payload(decode=True)
                content = payload if isinstance(payload, bytes) else b""
                if part.get_filename() is not None:
                    files[name] = content
                else:
                    raw[name] = content.decode("utf-8")
        elif body:
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _ApiError(400, f"Bad Request: can't parse request: {exc}") from None
    return {name: _decode_field(name, value) for name, value in raw.items()}, files
