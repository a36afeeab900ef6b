"""`newshound run` with Telegram: alerts, commands and buttons in one event loop, and the
settings chats change from Telegram (pause, mute) acting on delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import App
from bot.demo.server import FeedServer, Route
from bot.runner import Runner
from tests.fakebot import FakeBotApi
from tests.feedgen import Item, rss2
from tests.test_telegram_delivery import ADMIN, EVERYTHING, FSD, GROUP, PRIVATE, _config

DATA = "Beijing grants data export approval to carmakers"


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


async def test_run_alerts_answers_commands_and_stops(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="1")])))
    runner = Runner(App(_config(tmp_path, feed_server.url("/f"), fake)), tick=0.2)
    task = asyncio.create_task(runner.run())
    try:
        await fake.wait_for_async(lambda f: len(f.sent(PRIVATE)) == 1, timeout=20)
        [alert] = fake.sent(PRIVATE)
        assert alert.reply_markup and "Mute" in str(alert.reply_markup)  # the mute button

        fake.message_update(PRIVATE, PRIVATE, "/start")
        await fake.wait_for_async(lambda f: len(f.sent(PRIVATE)) == 2, timeout=10)
        assert str(PRIVATE) in fake.sent(PRIVATE)[1].plain_text
        assert fake.commands()  # the command list was registered at start-up

        fake.message_update(-5, 77, "/watches", chat_type="group")  # not a configured chat
        await fake.wait_for_async(lambda f: len(f.sent(-5)) == 1, timeout=10)
        assert "not configured" in fake.sent(-5)[0].plain_text
    finally:
        runner.stop()
        await asyncio.wait_for(task, timeout=10)
    assert not runner.app.application or not runner.app.application.running


async def test_pause_holds_alerts_and_resume_releases_them(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/f", Route(rss2([])))
    # A tick of an hour: after the first poll at start-up, this test polls by itself.
    runner = Runner(App(_config(tmp_path, feed_server.url("/f"), fake)), tick=3600)
    task = asyncio.create_task(runner.run())
    try:
        await asyncio.sleep(0.5)
        fake.message_update(GROUP, ADMIN, "/pause", chat_type="supergroup")
        await fake.wait_for_async(lambda f: len(f.sent(GROUP)) == 1, timeout=10)
        fake.message_update(EVERYTHING, ADMIN, "/mute Data exports 2h")
        await fake.wait_for_async(lambda f: len(f.sent(EVERYTHING)) == 1, timeout=10)

        feed_server.set("/f", Route(rss2([Item(DATA, "https://a.example/2", guid="2")])))
        app = runner.app
        await app.poll_all(force=True)
        await app.deliverer.deliver()
        assert len(fake.sent(GROUP)) == 1  # paused: held
        assert len(fake.sent(EVERYTHING)) == 1  # muted watch: not sent

        fake.message_update(GROUP, ADMIN, "/resume", chat_type="supergroup")
        await fake.wait_for_async(lambda f: len(f.sent(GROUP)) >= 2, timeout=10)
        await app.deliverer.deliver()
        texts = [m.plain_text for m in fake.sent(GROUP)]
        assert sum(DATA in t for t in texts) == 1  # released after /resume, once
        assert len(fake.sent(EVERYTHING)) == 1  # the muted alert was closed, not held
    finally:
        runner.stop()
        await asyncio.wait_for(task, timeout=10)


async def test_commands_come_back_when_the_bot_api_returns(
    fake: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/f", Route(rss2([])))
    fake.fail_next("getMe", times=2, error_code=502)  # down at start-up, and at the first retry
    runner = Runner(
        App(_config(tmp_path, feed_server.url("/f"), fake)), tick=0.2, telegram_retry=0.3
    )
    task = asyncio.create_task(runner.run())
    try:
        fake.message_update(PRIVATE, PRIVATE, "/start")
        await fake.wait_for_async(lambda f: len(f.sent(PRIVATE)) == 1, timeout=15)
        assert str(PRIVATE) in fake.sent(PRIVATE)[0].plain_text
    finally:
        runner.stop()
        await asyncio.wait_for(task, timeout=10)
