"""The notifier interface: where alerts go once they leave the outbox.

A notifier's :meth:`send` returns only after the message is really out
(its id, if the channel has one); raising means "not sent", and the alert
stays pending for the next delivery round.
"""

from __future__ import annotations

from typing import Protocol

from storage.records import AlertRecord

__all__ = ["CONSOLE", "Notifier"]

CONSOLE = "console"  # the chat name of the console notifier


class Notifier(Protocol):
    async def send(self, alert: AlertRecord) -> str | None:
        """Deliver one alert; return the channel's message id, or None if it has none."""
        ...
