"""Running the demo: sample feeds on 127.0.0.1, one pass into a temporary database."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TextIO

from bot.app import App
from bot.config import parse_config
from bot.console import ConsoleNotifier
from bot.demo import DEMO_FEEDS, DEMO_WATCHES, demo_server
from bot.notify import CONSOLE

__all__ = ["run_demo"]


async def run_demo(out: TextIO | None = None) -> int:
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="newshound-demo-") as tmp, demo_server() as server:
        config = parse_config(
            {
                "database": {"url": f"sqlite:///{Path(tmp) / 'demo.db'}"},
                "feeds": [
                    {"url": server.url(path), **({"name": name} if name else {})}
                    for _, path, _, name in DEMO_FEEDS
                ],
                "watches": [{"name": n, "query": q} for n, q in DEMO_WATCHES.items()],
            }
        )
        print("newshound demo: 5 sample feeds served on 127.0.0.1, watching for:", file=out)
        for name, query in DEMO_WATCHES.items():
            print(f"  • {name}: {query}", file=out)
        app = App(config, notifiers={CONSOLE: ConsoleNotifier(out)})
        try:
            report = await app.run_once()
        finally:
            await app.aclose()
        items = sum(o.new_items for o in report.outcomes)
        matches = sum(o.new_matches for o in report.outcomes)
        print("─" * 72, file=out)
        print(
            f"{len(report.outcomes)} feeds polled, {items} items stored, {matches} matched, "
            f"{report.delivery.sent} alerted. Matches older than "
            f"{config.polling.first_poll_max_age.total_seconds() / 3600:g} h were stored "
            "without an alert: they predate the subscription.",
            file=out,
        )
        print(
            "Next: cp config.example.toml config.toml, add your feeds and watches, then "
            "`newshound run`.",
            file=out,
        )
        return 1 if report.failed else 0
