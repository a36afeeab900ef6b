"""Telegram's sending limits, kept by waiting, never by dropping.

At most one message a second to a chat, twenty a minute to a group or
channel (negative chat ids), twenty-five a second overall (the Bot API
allows about thirty). python-telegram-bot's AIORateLimiter does not pace
private chats per second, so this is ours. Each send reserves its slot under
a lock and then sleeps outside it, so chats wait for their own slots only.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

__all__ = ["Pacer"]


class Pacer:
    def __init__(
        self,
        *,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        overall_per_second: int = 25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = per_chat_interval
        self._group_limit = group_per_minute
        self._overall_limit = overall_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._last: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self._overall: deque[float] = deque(maxlen=overall_per_second)

    async def wait(self, chat_id: int) -> None:
        """Return when a message to ``chat_id`` may go out (the slot is then taken)."""
        async with self._lock:
            now = self._clock()
            at = now
            if chat_id in self._last:
                at = max(at, self._last[chat_id] + self._interval)
            recent = self._groups.setdefault(chat_id, deque(maxlen=self._group_limit))
            if chat_id < 0 and len(recent) == self._group_limit:
                at = max(at, recent[0] + 60.0)
            if len(self._overall) == self._overall_limit:
                at = max(at, self._overall[0] + 1.0)
            self._last[chat_id] = at
            if chat_id < 0:
                recent.append(at)
            self._overall.append(at)
        if at > now:
            await self._sleep(at - now)
