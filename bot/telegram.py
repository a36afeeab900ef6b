"""The Telegram notifier: alerts as HTML messages, at Telegram's pace, never dropped.

python-telegram-bot does the HTTP; this module adds what it leaves to us:
pacing (:mod:`bot.pacing`), obeying a 429's retry_after and trying again,
retrying network errors and 5xx with backoff, and telling a chat that is
gone (403: blocked, kicked) apart from one that is merely slow.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.commands import alert_buttons
from bot.notify import ChatUnreachable, DeliveryError
from bot.pacing import Pacer
from bot.telegram_config import ChatConfig
from bot.telegram_format import alert_html, combined_html
from storage.records import AlertRecord

__all__ = ["TelegramNotifier"]

log = logging.getLogger(__name__)

_MAX_FLOOD_WAITS = 20  # 429s in a row for one message before it is left for the next round
_MAX_NETWORK_TRIES = 4
_GONE = ("chat not found", "bot was kicked", "bot is not a member", "have no rights")


class TelegramNotifier:
    def __init__(
        self,
        bot: Bot,
        chats: Sequence[ChatConfig],
        *,
        admins: Sequence[int] = (),
        pacer: Pacer | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.chats: Mapping[str, ChatConfig] = {chat.key: chat for chat in chats}
        self.admins = tuple(admins)
        self.pacer = pacer or Pacer()
        self._sleep = sleep

    async def send(self, alert: AlertRecord) -> str | None:
        chat = self.chats.get(alert.chat)
        if chat is None:
            raise DeliveryError(f"chat {alert.chat} is not in the config any more")
        buttons = alert_buttons(alert.id, alert.watches) if alert.watches else None
        return await self.send_text(chat.id, alert_html(alert, chat.zone), buttons)

    async def update(self, alert: AlertRecord) -> None:
        """Edit the sent alert in place: the story's outlets, and any watch it now matches
        for this chat. A message Telegram can no longer edit is left as it is."""
        chat = self.chats.get(alert.chat)
        if chat is None or alert.message_id is None:
            return
        watches = tuple(w for w in alert.story_watches if chat.wants(w)) or alert.watches
        shown = replace(alert, watches=watches)
        await self.pacer.wait(chat.id)
        try:
            await self.bot.edit_message_text(
                alert_html(shown, chat.zone),
                chat_id=chat.id,
                message_id=int(alert.message_id),
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=alert_buttons(alert.id, watches),
            )
        except RetryAfter as exc:
            raise DeliveryError(f"flood control: retry in {_seconds(exc):.0f} s") from exc
        except Forbidden as exc:
            raise ChatUnreachable(f"Telegram refused: {exc.message}") from exc
        except BadRequest as exc:  # not modified, or deleted: nothing to redo
            log.info("telegram chat=%s: alert %d not edited: %s", chat.id, alert.id, exc.message)
        except NetworkError as exc:
            raise DeliveryError(f"network error: {exc.message}") from exc

    async def send_combined(self, alerts: Sequence[AlertRecord]) -> str | None:
        """A burst, or what quiet hours held, as few messages; returns the first one's id."""
        chat = self.chats.get(alerts[0].chat)
        if chat is None:
            raise DeliveryError(f"chat {alerts[0].chat} is not in the config any more")
        ids = [await self.send_text(chat.id, text) for text in combined_html(alerts, chat.zone)]
        return ids[0]

    async def send_text(
        self, chat_id: int, text: str, buttons: InlineKeyboardMarkup | None = None
    ) -> str:
        """Send one HTML message; returns Telegram's message id.

        Raises:
            ChatUnreachable: 403, or the chat does not exist for the bot.
            DeliveryError: anything else that did not get through after retries.
        """
        floods = network = 0
        while True:
            await self.pacer.wait(chat_id)
            try:
                message = await self.bot.send_message(
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_markup=buttons,
                )
                return str(message.message_id)
            except RetryAfter as exc:
                floods += 1
                wait = _seconds(exc)
                log.warning("telegram chat=%s: flood control, retrying in %.0f s", chat_id, wait)
                if floods > _MAX_FLOOD_WAITS:
                    raise DeliveryError(f"flood control {floods} times in a row") from exc
                await self._sleep(wait)
            except Forbidden as exc:
                raise ChatUnreachable(f"Telegram refused: {exc.message}") from exc
            except BadRequest as exc:
                if any(reason in exc.message.lower() for reason in _GONE):
                    raise ChatUnreachable(f"Telegram refused: {exc.message}") from exc
                raise DeliveryError(f"Telegram rejected the message: {exc.message}") from exc
            except NetworkError as exc:  # timeouts, connection errors, 5xx
                network += 1
                if network >= _MAX_NETWORK_TRIES:
                    raise DeliveryError(f"network error: {exc.message}") from exc
                log.warning("telegram chat=%s: %s; retry %d", chat_id, exc.message, network)
                await self._sleep(2.0**network)
            except TelegramError as exc:
                raise DeliveryError(f"Telegram error: {exc.message}") from exc

    async def tell_admins(self, text: str) -> None:
        """A notice to every admin's private chat; failures are logged, never raised."""
        for admin in self.admins:
            try:
                await self.send_text(admin, text)
            except DeliveryError as exc:
                log.warning("telegram admin=%s: could not send a notice: %s", admin, exc)


def _seconds(exc: RetryAfter) -> float:
    # PTB 22 warns that retry_after becomes a timedelta; accept both forms.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
