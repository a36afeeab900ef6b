"""`newshound digest`: today's digest now; printed without a token; once a day."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.demo.server import FeedServer, Route
from tests.conftest import CliResult, config_for
from tests.fakebot import FakeBotApi
from tests.feedgen import Item, rss2

Cli = Callable[..., CliResult]
FSD = "Tesla wins approval for Full Self-Driving in China"


def test_digest_without_a_token_prints_once_a_day(
    cli: Cli, feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="1")], title="Wire")))
    config = str(config_for(tmp_path, feed_server.url("/f")))
    cli("once", "--config", config)

    preview = cli("digest", "--config", config, "--print")
    assert FSD in preview.out and "Tesla FSD in China: 1" in preview.out
    first = cli("digest", "--config", config)
    assert first.code == 0 and FSD in first.out and "printed" in first.err
    again = cli("digest", "--config", config)
    assert again.code == 0 and FSD not in again.out and "already_sent" in again.err


def test_digest_to_a_telegram_chat(
    cli: Cli, feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="1")], title="Wire")))
    with FakeBotApi() as fake:
        path = config_for(tmp_path, feed_server.url("/f"))
        telegram = (
            f'\n[telegram]\ntoken = "{fake.token}"\nbase_url = "{fake.base_url}"\n'
            '[[telegram.chats]]\nid = 111\ndigest = "08:00"\ninstant = false\n'
        )
        path.write_text(path.read_text(encoding="utf-8") + telegram, encoding="utf-8")
        cli("once", "--config", str(path))
        assert fake.sent(111) == []  # digest only
        result = cli("digest", "--config", str(path), "--chat", "111")
        assert result.code == 0, result.err
        [message] = fake.sent(111)
        assert FSD in message.plain_text
        assert cli("digest", "--config", str(path), "--chat", "111").code == 0
        assert len(fake.sent(111)) == 1  # once a day
        missing = cli("digest", "--config", str(path), "--chat", "5")
        assert missing.code == 2 and "no chat 5" in missing.err
