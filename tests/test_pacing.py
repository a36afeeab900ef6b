"""Telegram's pace, in simulated time: waiting replaces dropping."""

from __future__ import annotations

import asyncio
import itertools

from bot.pacing import Pacer


class _Clock:
    """Simulated time: sleeping advances it instantly."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def _times(pacer: Pacer, clock: _Clock, chats: list[int]) -> list[float]:
    sent = []
    for chat in chats:
        await pacer.wait(chat)
        sent.append(clock.now)
    return sent


async def test_one_message_a_second_to_a_chat() -> None:
    clock = _Clock()
    times = await _times(Pacer(clock=clock, sleep=clock.sleep), clock, [42] * 10)
    assert times[-1] - times[0] >= 9.0
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))


async def test_twenty_a_minute_to_a_group() -> None:
    clock = _Clock()
    times = await _times(Pacer(clock=clock, sleep=clock.sleep), clock, [-100] * 25)
    assert times[19] < 60.0 <= times[20]  # the 21st waits for the minute to pass


async def test_chats_do_not_wait_for_each_other_and_the_total_is_capped() -> None:
    clock = _Clock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    times = await _times(pacer, clock, list(range(1, 31)))  # 30 different private chats
    assert times[24] == 0.0  # 25 at once
    assert times[25] >= 1.0  # then the overall limit


async def test_concurrent_senders_to_one_chat_are_spaced() -> None:
    clock = _Clock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    stamps: list[float] = []

    async def one() -> None:
        await pacer.wait(7)
        stamps.append(clock.now)

    await asyncio.gather(*(one() for _ in range(5)))
    assert sorted(stamps)[-1] >= 4.0
