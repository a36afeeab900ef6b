"""Polite fetching against a real server: redirects, size cap, Retry-After, backoff."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.demo.server import FeedServer, Route
from tests.conftest import CliResult, config_for
from tests.feedgen import Item, rss2
from watchers.errors import FetchError
from watchers.fetch import Fetcher, FetchSettings
from watchers.schedule import MAX_BACKOFF, next_poll_at

Cli = Callable[..., CliResult]
FSD = "Tesla wins approval for Full Self-Driving in China"


def test_permanent_redirect_is_remembered(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/new", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    moved = (("Location", feed_server.url("/new")),)
    feed_server.set("/old", Route(status=301, headers=moved, conditional=False))
    config = config_for(tmp_path, feed_server.url("/old"))

    assert FSD in cli("once", "--config", str(config)).out
    cli("once", "--config", str(config))

    assert len(feed_server.requests_for("/old")) == 1  # the second poll went straight to /new
    assert [r.status for r in feed_server.requests_for("/new")] == [200, 304]


def test_temporary_redirect_is_followed_but_not_remembered(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set("/new", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    moved = (("Location", feed_server.url("/new")),)
    feed_server.set("/tmp", Route(status=302, headers=moved, conditional=False))
    config = config_for(tmp_path, feed_server.url("/tmp"))
    cli("once", "--config", str(config))
    cli("once", "--config", str(config))
    assert len(feed_server.requests_for("/tmp")) == 2


async def test_oversized_response_is_refused(feed_server: FeedServer) -> None:
    feed_server.set("/big", Route(b"<rss>" + b" " * (2 * 1024 * 1024) + b"</rss>"))
    fetcher = Fetcher(FetchSettings(max_bytes=1024 * 1024))
    try:
        with pytest.raises(FetchError, match="response larger than 1 MB"):
            await fetcher.fetch(feed_server.url("/big"))
    finally:
        await fetcher.aclose()


async def test_retry_after_is_read_from_429(feed_server: FeedServer) -> None:
    feed_server.set(
        "/busy", Route(status=429, headers=(("Retry-After", "120"),), conditional=False)
    )
    fetcher = Fetcher()
    try:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(feed_server.url("/busy"))
    finally:
        await fetcher.aclose()
    assert caught.value.status == 429
    assert caught.value.retry_after == 120


def test_failing_feed_is_polled_later_honouring_retry_after(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.set(
        "/busy", Route(status=503, headers=(("Retry-After", "7200"),), conditional=False)
    )
    config = config_for(tmp_path, feed_server.url("/busy"))
    before = datetime.now(UTC)
    cli("once", "--config", str(config))
    [(next_poll,)] = sqlite3.connect(tmp_path / "n.db").execute("select next_poll_at from feeds")
    assert datetime.fromisoformat(next_poll).replace(tzinfo=UTC) >= before + timedelta(hours=2)


def test_backoff_grows_then_caps_and_jitter_stays_small() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    interval = timedelta(minutes=15)
    rng = random.Random(7)
    delays = [next_poll_at(now, interval, failures=f, rng=rng) - now for f in range(0, 8)]
    assert interval <= delays[0] <= interval * 1.1  # healthy: interval plus <=10% jitter
    assert interval <= delays[1] <= interval * 1.1
    assert interval * 2 <= delays[2] <= interval * 2.2
    assert interval * 4 <= delays[3] <= interval * 4.4
    assert all(d <= MAX_BACKOFF * 1.1 for d in delays)
    assert delays[-1] >= MAX_BACKOFF
    long_interval = timedelta(hours=12)  # never polled more often than asked because it failed
    assert next_poll_at(now, long_interval, failures=3, rng=rng) - now >= long_interval
    honoured = next_poll_at(now, interval, retry_after=3600, rng=rng) - now
    assert honoured >= timedelta(hours=1)
