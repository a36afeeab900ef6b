"""The console notifier: alerts printed to standard output (the default with no Telegram token)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from bot.format import console_block
from storage.records import AlertRecord

__all__ = ["ConsoleNotifier"]


class ConsoleNotifier:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, alert: AlertRecord) -> str | None:
        stream = self._stream or sys.stdout
        print(console_block(alert), file=stream, flush=True)
        return None

    async def update(self, alert: AlertRecord) -> None:
        # A terminal cannot edit what it printed: one line that points back to it.
        outlets = ", ".join(dict.fromkeys(name for name, _ in alert.also))
        stream = self._stream or sys.stdout
        print(f"  ↳ {alert.title[:80]}: also reported by {outlets}", file=stream, flush=True)

    async def send_combined(self, alerts: Sequence[AlertRecord]) -> str | None:
        for alert in alerts:  # a terminal has no flood limit: one readable block each
            await self.send(alert)
        return None
