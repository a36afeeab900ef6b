"""The command line: `newshound run | once | check | alerts | feeds | explain | backtest | digest |
demo`.

Exit status: 0 success; 1 a runtime failure (e.g. the database cannot be
opened); 2 a config error, reported before anything runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import report
from bot.backtest import backtest
from bot.config import Config, ConfigError, load_config
from bot.durations import format_duration
from bot.telegram_config import ChatConfig
from storage import Database, StorageError, open_database
from storage import alerts as alert_queries
from storage import feeds as feed_queries
from watchers.poll import PollOutcome
from watchers.query import parse_query
from watchers.text import html_to_text

__all__ = ["main"]

log = logging.getLogger("newshound")

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO if args.command == "run"
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )  # fmt: skip
    try:
        if args.command == "demo":
            from bot.demo.run import run_demo

            return asyncio.run(run_demo())
        config = load_config(Path(args.config))
        return int(_COMMANDS[args.command](config, args))
    except ConfigError as exc:
        for line in exc.lines:
            print(f"config error: {line}", file=sys.stderr)
        return EXIT_CONFIG
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `newshound alerts | head`: the reader left; not an error
        sys.stderr.close()
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newshound", description="Watch news feeds for the stories you must not miss."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        if name != "demo":
            sub.add_argument("--config", default="config.toml", help="default: ./config.toml")
        return sub

    command("run", "poll feeds on schedule and deliver alerts until stopped")
    command("once", "poll every feed once, deliver alerts, exit")
    command("check", "validate the config and summarise it")
    alerts = command("alerts", "list delivered alerts, newest first")
    alerts.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    alerts.add_argument("--json", action="store_true", help="one JSON object per line")
    command("feeds", "show each feed's health")
    explain = command("explain", "which watches match this text, and why")
    explain.add_argument("--title", required=True, help="the item's title (HTML allowed)")
    explain.add_argument("--summary", default="", help="the item's summary (HTML allowed)")
    explain.add_argument("--json", action="store_true", help="one JSON object")
    backtest = command("backtest", "run the watchlist over stored items; alerts nobody")
    backtest.add_argument("--watch", help="only this watch (default: all)")
    backtest.add_argument("--days", type=int, default=7, help="how far back (default 7)")
    backtest.add_argument("--json", action="store_true", help="one JSON object")
    digest = command("digest", "send today's digest now (print it with no token)")
    digest.add_argument("--chat", type=int, help="only this chat id (default: every chat)")
    digest.add_argument("--print", action="store_true", help="preview: print, send nothing")
    command("demo", "offline demo on bundled sample feeds")
    return parser


def _run(config: Config, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.runner import Runner

    async def go() -> None:
        await Runner(App(config), config_path=Path(args.config)).run()

    asyncio.run(go())
    return EXIT_OK


def _once(config: Config, args: argparse.Namespace) -> int:
    from bot.app import App

    def progress(done: int, total: int, outcome: PollOutcome) -> None:
        detail = (
            f"error: {outcome.error}"
            if outcome.status == "error"
            else f"{outcome.status}, {outcome.entries} entries, {outcome.new_items} new, "
            f"{outcome.new_alerts} alerts"
        )
        print(f"[{done}/{total}] {outcome.feed}: {detail}", file=sys.stderr, flush=True)

    async def go() -> int:
        app = App(config)
        try:
            report = await app.run_once(progress=progress)
        finally:
            await app.aclose()
        failed = report.failed
        print(
            f"polled {len(report.outcomes)} feeds ({len(failed)} failed), "
            f"{sum(o.new_items for o in report.outcomes)} new items, "
            f"{report.delivery.sent} alerts delivered",
            file=sys.stderr,
        )
        for outcome in failed:
            print(f"  failed: {outcome.feed} ({outcome.url}): {outcome.error}", file=sys.stderr)
        return EXIT_OK

    return asyncio.run(go())


def _check(config: Config, args: argparse.Namespace) -> int:
    print(f"config OK: {len(config.feeds)} feeds, {len(config.watches)} watches")
    print(f"database: {config.database.url}")
    chats = config.telegram.chats
    if config.telegram_token and chats:
        print(f"telegram: {len(chats)} chats, {len(config.telegram.admins)} admins")
    else:
        why = "no token (TELEGRAM_BOT_TOKEN)" if chats else "no [telegram] chats"
        print(f"alerts go to the console: {why}")
    for feed in config.feeds:
        interval = format_duration(config.interval_of(feed))
        print(f"  feed  {feed.name or '(title from feed)'} <{feed.url}> every {interval}")
    for watch in config.watches:
        print(f"  watch {watch.name}: {parse_query(watch.query)}")
    return EXIT_OK


def _alerts(config: Config, args: argparse.Namespace) -> int:
    with _database(config) as db:
        alerts = alert_queries.delivered_alerts(db, limit=max(1, args.limit))
    print(report.alerts_json(alerts) if args.json else report.alerts_table(alerts))
    return EXIT_OK


def _feeds(config: Config, args: argparse.Namespace) -> int:
    with _database(config) as db:
        summaries = feed_queries.feed_summaries(db)
    print(report.feeds_table(summaries, configured={f.url for f in config.feeds}))
    return EXIT_OK


def _explain(config: Config, args: argparse.Namespace) -> int:
    title, summary = html_to_text(args.title), html_to_text(args.summary)
    hits = config.watchlist().match(title, summary)
    print(report.explain_json(hits) if args.json else report.explain_text(hits, title, summary))
    return EXIT_OK


def _backtest(config: Config, args: argparse.Namespace) -> int:
    watchlist = config.watchlist(only=args.watch)
    since = datetime.now(UTC) - timedelta(days=args.days)

    def progress(scanned: int) -> None:
        print(f"backtest: {scanned} items scanned", file=sys.stderr, flush=True)

    with _database(config) as db:
        result = backtest(db, watchlist, since, progress=progress)
    print(report.backtest_json(result) if args.json else report.backtest_text(result, args.days))
    return EXIT_OK


def _digest(config: Config, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.digest import digest_text, pending_entries, send_digest

    chats = [c for c in config.telegram.chats if args.chat is None or c.id == args.chat]
    if args.chat is not None and not chats:
        raise ConfigError([f"no chat {args.chat} in [telegram] chats"])
    if not chats:
        chats = [ChatConfig(id=0)]  # no Telegram: one digest of every watch, to the console

    async def go() -> int:
        app = App(config)
        failed = 0
        try:
            now = datetime.now(UTC)
            if not args.print:
                await app.start()
            for chat in chats:
                if args.print:  # a preview: the day is not used up
                    print(digest_text(await pending_entries(app.db, chat, now), chat, now))
                    continue
                send = app.telegram.send_text if app.telegram else None
                outcome = await send_digest(app.db, chat, send, now, printer=print)
                if outcome.status == "failed":
                    failed += 1
                print(f"digest chat {chat.id}: {outcome.status}", file=sys.stderr)
        finally:
            await app.aclose()
        return EXIT_FAILURE if failed else EXIT_OK

    return asyncio.run(go())


@contextmanager
def _database(config: Config) -> Iterator[Database]:
    db = open_database(config.database.url)
    try:
        yield db
    finally:
        db.close()


_COMMANDS = {
    "run": _run,
    "once": _once,
    "check": _check,
    "alerts": _alerts,
    "feeds": _feeds,
    "explain": _explain,
    "backtest": _backtest,
    "digest": _digest,
}
