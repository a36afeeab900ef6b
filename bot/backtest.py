"""`newshound backtest`: the current watchlist run over stored history, alerting nobody.

A dry run for a new or edited watch: what would it have matched in the last
N days? Items are read a page at a time, so memory stays flat however long
the history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from storage import items as item_queries
from storage.db import Database
from storage.records import StoredItem
from watchers.match import WatchHit, Watchlist

__all__ = ["BacktestMatch", "BacktestReport", "backtest"]


@dataclass(frozen=True, slots=True)
class BacktestMatch:
    item: StoredItem
    hit: WatchHit


@dataclass(frozen=True, slots=True)
class BacktestReport:
    since: datetime
    scanned: int
    matches: tuple[BacktestMatch, ...]  # newest first
    counts: dict[str, int]  # every watch of the watchlist, matched or not


def backtest(
    db: Database,
    watchlist: Watchlist,
    since: datetime,
    progress: Callable[[int], None] | None = None,
) -> BacktestReport:
    scanned = 0
    matches: list[BacktestMatch] = []
    for page in item_queries.item_pages_since(db, since):
        for item in page:
            matches.extend(
                BacktestMatch(item, hit) for hit in watchlist.match(item.title, item.summary)
            )
        scanned += len(page)
        if progress:
            progress(scanned)
    counts = Counter(m.hit.watch for m in matches)
    matches.sort(key=lambda m: (m.item.fetched_at, m.item.id), reverse=True)
    return BacktestReport(
        since=since,
        scanned=scanned,
        matches=tuple(matches),
        counts={name: counts.get(name, 0) for name in watchlist.names},
    )
