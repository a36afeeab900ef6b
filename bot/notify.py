"""The notifier interface: where alerts go once they leave the outbox.

A notifier's :meth:`send` returns only after the message is really out
(its id, if the channel has one); raising means "not sent", and the alert
stays pending for the next delivery round::

    DeliveryError          not sent this time; tried again next round
    └── ChatUnreachable    the chat refuses the bot (blocked, kicked): the chat is
                           deactivated, its alerts kept, and admins are told
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from storage.records import AlertRecord

__all__ = ["CONSOLE", "ChatUnreachable", "DeliveryError", "Notifier"]

CONSOLE = "console"  # the chat name of the console notifier


class DeliveryError(Exception):
    """The alert was not delivered; it stays pending."""


class ChatUnreachable(DeliveryError):
    """The chat will not take messages from the bot until someone acts (e.g. /start)."""


class Notifier(Protocol):
    async def send(self, alert: AlertRecord) -> str | None:
        """Deliver one alert; return the channel's message id, or None if it has none."""
        ...

    async def send_combined(self, alerts: Sequence[AlertRecord]) -> str | None:
        """Deliver several alerts as one message (or as few as the channel allows)."""
        ...

    async def update(self, alert: AlertRecord) -> None:
        """The alert's story grew (more outlets, maybe more watches): show it."""
        ...
