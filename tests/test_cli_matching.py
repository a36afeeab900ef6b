"""`explain`, `backtest`, alias errors in the config, and hot reload under `run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.demo.server import FeedServer, Route
from tests.conftest import CliResult, write_config
from tests.feedgen import Item, rss2
from watchers.text import normalise

Cli = Callable[..., CliResult]
ROOT = Path(__file__).resolve().parents[1]

ALIASES = '[aliases]\ntesla = ["Tesla", "特斯拉", "TSLA"]\n'
WATCHES = {
    "Tesla FSD in China": '@tesla AND (FSD OR "full self-driving") AND (china OR 中国)',
    "Approvals": 'title:"data export" AND approv*',
}


def _config(tmp_path: Path, *urls: str, watches: dict[str, str] | None = None) -> Path:
    return write_config(
        tmp_path / "c.toml",
        db=tmp_path / "n.db",
        feeds=[(u, None) for u in urls],
        watches=WATCHES if watches is None else watches,
        extra=ALIASES,
    )


def test_explain_json_names_each_term_field_and_span(cli: Cli, tmp_path: Path) -> None:
    title = "特斯拉FSD在中國獲批"
    summary = "<p>Regulators <b>approved</b> the data export plan</p>"
    result = cli("explain", "--config", str(_config(tmp_path)), "--title", title,
                 "--summary", summary, "--json")  # fmt: skip
    assert result.code == 0, result.err
    document = json.loads(result.out)
    [watch] = document["watches"]
    assert watch["name"] == "Tesla FSD in China"
    found = [(m["term"], m["field"]) for m in watch["matched"]]
    assert found == [("特斯拉", "title"), ("fsd", "title"), ("中国", "title")]
    normalised = normalise(title)
    for m in watch["matched"]:
        assert normalised[m["start"] : m["end"]] == m["term"]


def test_explain_with_no_match_is_an_empty_list(cli: Cli, tmp_path: Path) -> None:
    result = cli("explain", "--config", str(_config(tmp_path)), "--title", "Teslas in Europe",
                 "--json")  # fmt: skip
    assert json.loads(result.out) == {"watches": []}
    text = cli("explain", "--config", str(_config(tmp_path)), "--title", "Teslas in Europe")
    assert "no watch matches" in text.out


def test_explain_text_shows_what_the_watch_saw(cli: Cli, tmp_path: Path) -> None:
    result = cli("explain", "--config", str(_config(tmp_path)),
                 "--title", "Data Export approvals", "--summary", "")  # fmt: skip
    assert "title: data export approvals" in result.out
    assert "✔ Approvals" in result.out
    assert "'approv*' in title [12:21] 'approvals'" in result.out


def test_unknown_alias_names_the_watch_and_the_alias(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path, watches={"Musk": "@musk AND beijing"})
    result = cli("check", "--config", str(config))
    assert result.code == 2
    [line] = result.err.splitlines()
    assert "watches[0].query: unknown alias @musk" in line and "'Musk'" in line


def test_bad_alias_definitions_are_config_errors(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[aliases]\nempty = []\nstar = ["特*"]\n', encoding="utf-8")
    result = cli("check", "--config", str(path))
    assert result.code == 2
    assert result.err.splitlines() == [
        "config error: aliases.empty: needs at least one name",
        "config error: aliases.star[0]: a prefix* needs 2 or more Latin letters before '*'",
    ]


def test_backtest_runs_a_new_watch_over_history_and_alerts_nobody(
    cli: Cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    items = [
        Item("Tesla FSD approved in China", "https://a.example/1", guid="1"),
        Item("BYD opens a plant in Hungary", "https://a.example/2", guid="2"),
        Item("BYD sales beat Tesla in China", "https://a.example/3", guid="3"),
    ]
    feed_server.set("/f", Route(rss2(items, title="Wire")))
    config = _config(tmp_path, feed_server.url("/f"))
    cli("once", "--config", str(config))
    sent_before = cli("alerts", "--config", str(config), "--json").json_lines()

    edited = _config(tmp_path, feed_server.url("/f"), watches={**WATCHES, "BYD": "byd"})
    result = cli("backtest", "--config", str(edited), "--days", "1", "--json")

    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["scanned"] == 3
    assert report["counts"] == {"Tesla FSD in China": 1, "Approvals": 0, "BYD": 2}
    assert sorted(m["title"] for m in report["matches"] if m["watch"] == "BYD") == [
        "BYD opens a plant in Hungary",
        "BYD sales beat Tesla in China",
    ]
    assert "3 items scanned" in result.err  # progress
    one = json.loads(cli("backtest", "--config", str(edited), "--watch", "BYD", "--json").out)
    assert one["counts"] == {"BYD": 2}
    assert cli("alerts", "--config", str(config), "--json").json_lines() == sent_before
    missing = cli("backtest", "--config", str(edited), "--watch", "Nope")
    assert missing.code == 2 and "no watch named 'Nope'" in missing.err
    text = cli("backtest", "--config", str(edited)).out
    assert "3 items from the last 7 days scanned" in text and "      2  BYD" in text


def test_run_picks_up_watchlist_edits_and_keeps_the_old_one_on_bad_edits(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    first = Item("Tesla FSD approved in China", "https://a.example/1", guid="1")
    feed_server.set("/f", Route(rss2([first])))
    url = feed_server.url("/f")
    feeds_with_fast_interval = f'\n[[feeds]]\nurl = "{url}"\ninterval = "1s"\n'

    def write(watches: str) -> None:
        text = f'[database]\nurl = "sqlite:///{tmp_path / "n.db"}"\n{feeds_with_fast_interval}'
        (tmp_path / "c.toml").write_text(text + watches, encoding="utf-8")
        time.sleep(0.05)

    write('[[watches]]\nname = "Tesla"\nquery = "tesla"\n')
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "c.toml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        assert process.stdout is not None
        try:
            _wait_for(process.stdout, "Tesla FSD approved in China")

            write('[[watches]]\nname = "BYD"\nquery = "byd"\n')
            time.sleep(3)  # the config is checked every 2 s
            second = Item("BYD wins approval", "https://a.example/2", guid="2")
            feed_server.set("/f", Route(rss2([second, first])))
            block = _wait_for(process.stdout, "BYD wins approval")
            assert "▶ BYD" in block

            write('[[watches]]\nname = "Broken"\nquery = "(byd"\n')
            time.sleep(3)
            third = Item("BYD again", "https://a.example/3", guid="3")
            feed_server.set("/f", Route(rss2([third, second, first])))
            assert "▶ BYD" in _wait_for(process.stdout, "BYD again")
        finally:
            process.terminate()
            _, err = process.communicate(timeout=10)
    assert "config reloaded: 1 watches" in err
    assert "previous watchlist stays in force" in err
    assert "watches[0].query: unbalanced parenthesis at column 1" in err


def _wait_for(stream: object, text: str, seconds: float = 30) -> str:
    """Read alert blocks until ``text`` shows up; returns the lines read."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = stream.readline()  # type: ignore[attr-defined]
        seen.append(line)
        if text in line:
            return "".join(seen[-4:])
    raise AssertionError(f"{text!r} not seen; got {''.join(seen)!r}")
