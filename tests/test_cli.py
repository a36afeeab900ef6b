"""The command line: config errors, check, feeds, alerts, demo, and `run` under signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.demo.server import FeedServer, Route
from tests.conftest import CliResult, config_for
from tests.feedgen import Item, rss2

Cli = Callable[..., CliResult]
ROOT = Path(__file__).resolve().parents[1]
FSD = "Tesla wins approval for Full Self-Driving in China"

GOOD_FEED = '[[feeds]]\nurl = "https://a.example/rss"\n'
GOOD_WATCH = '[[watches]]\nname = "w"\nquery = "tesla"\n'


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[feedz]\nurl = "x"\n', "feedz: unknown key"),
        (GOOD_FEED + 'colour = "red"\n', "feeds[0].colour: unknown key"),
        ('[[feeds]]\nurl = 42\n', "feeds[0].url: must be a string (got integer)"),
        ('[[feeds]]\nname = "x"\n', "feeds[0].url: required key is missing"),
        ('[[feeds]]\nurl = "ftp://x.example/f"\n', "feeds[0].url: 'ftp://x.example/f' is not an http(s) URL"),
        (GOOD_FEED + GOOD_FEED, "feeds[1].url: duplicate of feeds[0].url"),
        (GOOD_FEED + 'interval = "15x"\n', "feeds[0].interval: invalid duration '15x'"),
        (GOOD_FEED + 'interval = "0s"\n', "feeds[0].interval: duration '0s' must be longer than zero"),
        (GOOD_FEED + "interval = 15\n", "feeds[0].interval: expected a duration string"),
        (GOOD_WATCH + GOOD_WATCH, "watches[1].name: duplicate of watches[0].name"),
        (GOOD_WATCH + '[[watches]]\nname = "x"\nquery = "(tesla OR fsd"\n',
         "watches[1].query: unbalanced parenthesis at column 1"),
        ('[[watches]]\nname = "x"\nquery = "tesla AND"\n',
         "watches[0].query: AND needs a term after it at column 7"),
        ('[[watches]]\nname = "x"\nquery = "-GDPR"\n', "watches[0].query: this query matches items"),
        ('[[watches]]\nname = ""\nquery = "x"\n', "watches[0].name: must not be empty"),
        ('[polling]\nper_host = 0\n', "polling.per_host: must be greater than or equal to 1"),
        ('[database]\nurl = "${NEWSHOUND_TEST_UNSET}"\n',
         "database.url: environment variable NEWSHOUND_TEST_UNSET is not set"),
        ('[[feeds]\nurl = "x"\n', "invalid TOML"),
        ('[[telegram.chats]]\nid = 1\ntimezone = "Mars/Base"\n', "telegram.chats[0].timezone: unknown timezone 'Mars/Base'"),
        ('[[telegram.chats]]\nid = 1\ndigest = "25:00"\n', "telegram.chats[0].digest: invalid time '25:00'"),
        ('[[telegram.chats]]\nid = 1\nquiet_hours = "23:00"\n', "telegram.chats[0].quiet_hours: invalid quiet hours '23:00'"),
        (GOOD_WATCH + '[[telegram.chats]]\nid = 1\nwatches = ["nope"]\n', "telegram.chats[0].watches[0]: unknown watch 'nope'"),
        ('[telegram]\ntoken = "not a token"\n', "telegram.token: does not look like a bot token"),
    ],
)  # fmt: skip
def test_each_config_mistake_is_one_line_naming_the_key(
    cli: Cli, tmp_path: Path, toml: str, expected: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    for command in ("check", "once", "run"):
        result = cli(command, "--config", str(path))
        assert result.code == 2
        assert result.out == ""
        [line] = result.err.splitlines()
        assert line.startswith("config error: ") and expected in line
    assert not (tmp_path / "newshound.db").exists()  # nothing ran


def test_missing_config_names_the_example(cli: Cli, tmp_path: Path) -> None:
    result = cli("once", "--config", str(tmp_path / "nope.toml"))
    assert result.code == 2
    assert "not found" in result.err and "config.example.toml" in result.err


def test_environment_variables_fill_config_values(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSHOUND_DB", str(tmp_path / "from-env.db"))
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "sqlite:///${NEWSHOUND_DB}"\n' + GOOD_WATCH)
    result = cli("check", "--config", str(path))
    assert result.code == 0
    assert f"sqlite:///{tmp_path / 'from-env.db'}" in result.out


def test_the_example_config_is_valid(cli: Cli) -> None:
    result = cli("check", "--config", str(ROOT / "config.example.toml"))
    assert result.code == 0, result.err
    assert "config OK: 2 feeds, 4 watches" in result.out


def test_feeds_and_alerts_commands(cli: Cli, feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")], title="Wire")))
    config = config_for(tmp_path, feed_server.url("/f"))
    assert "no feeds polled yet" in cli("feeds", "--config", str(config)).out
    assert "no alerts delivered yet" in cli("alerts", "--config", str(config)).out
    cli("once", "--config", str(config))

    feeds = cli("feeds", "--config", str(config)).out.splitlines()
    assert feeds[0].split() == [
        "feed",
        "status",
        "last",
        "poll",
        "items",
        "failures",
        "last",
        "error",
    ]
    assert feeds[2].split()[:2] == ["Wire", "ok"] and " 1 " in feeds[2]
    alerts = cli("alerts", "--config", str(config), "--limit", "5").out
    assert FSD in alerts and "Tesla FSD in China" in alerts


def test_demo_runs_offline_and_alerts(cli: Cli) -> None:
    result = cli("demo")
    assert result.code == 0, result.err
    assert "Tesla FSD in China" in result.out and "China data-export approvals" in result.out
    assert "特斯拉FSD功能入华" in result.out  # from the GB2312 sample feed
    assert "5 feeds polled" in result.out
    # Two outlets' reports of the carmakers' data-export approvals: one alert, both named.
    assert result.out.count("for three foreign carmakers") == 1
    assert "also reported by: Regulator Notes" in result.out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_polls_delivers_and_stops_cleanly_on_signal(
    feed_server: FeedServer, tmp_path: Path, sig: signal.Signals
) -> None:
    feed_server.set("/f", Route(rss2([Item(FSD, "https://a.example/1", guid="g-1")])))
    config = config_for(tmp_path, feed_server.url("/f"))
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            assert process.stdout is not None
            seen = ""
            deadline = time.monotonic() + 20
            while FSD not in seen and time.monotonic() < deadline:
                seen += process.stdout.readline()
            assert FSD in seen
            process.send_signal(sig)
            started = time.monotonic()
            _, err = process.communicate(timeout=10)
            assert time.monotonic() - started < 5
            assert process.returncode == 0, err
            assert "stopped" in err
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
