"""Benchmark: story assignment with 1,000 and 100,000 stored items in the window.

Run from the repository root::

    python -m bench.story                        # 2,000 new items; N = 1,000 and 100,000
    python -m bench.story --sizes 1000,10000,100000 --repeat 7

Per N it times ``StoryIndex.assign`` on an index of N stored items in memory, and
``watchers.poll.save_with_stories`` on a SQLite file of N items (after timing the
window's first load alone), a poll of new items at a time; tracemalloc counts what an
index of the largest N holds. See bench/README.md. Texts are generated (``--seed``).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.story_corpus import NOW, REWORD_NEW, Corpus, fetched, published
from storage import feeds as feed_queries
from storage import items as item_queries
from storage.db import Database, open_database
from storage.records import FeedSpec, FeedUpdate, NewItem, PollRecord, StoryMember
from storage.stories import LEAD
from watchers.poll import save_with_stories
from watchers.story_index import StoryIndex

TARGET_MICROS = 1000.0  # per item, under, at every N
TARGET_RATIO = 2.0  # µs/item at the largest N / at the smallest, under
SAVE_CHUNK = 500  # stored items per PollRecord when filling a database
FEEDS = 8


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- stages


@dataclass
class Row:
    stage: str
    n: int
    micros: float  # per new item
    joined: float  # share of new items that joined a story
    found: float  # share of rewordings that joined their source's story


def shares(stories: dict[str, int | str | None], expected: dict[str, int]) -> tuple[float, float]:
    joined = sum(s is not None for s in stories.values()) / len(stories)
    return joined, sum(stories.get(k) == v for k, v in expected.items()) / max(1, len(expected))


def fill_index(corpus: Corpus, n: int, trace: bool) -> tuple[StoryIndex, float, float]:
    """An index of the first n stored items; with ``trace``, the MB it holds and the peak.
    Strings are copied, as a load from the database makes them, so the index owns them."""
    gc.collect()
    if trace:
        tracemalloc.start()
    index = StoryIndex()
    for j in range(n):
        title, lead = corpus.titles[j].encode(), corpus.summaries[j][:LEAD].encode()
        member = StoryMember(j + 1, corpus.stories[j], title.decode(), lead.decode(),
                             published(j, n), fetched(j, n))  # fmt: skip
        index.add(member)
    held = peak = 0.0
    if trace:
        gc.collect()
        current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        held, peak = current / 2**20, top / 2**20
    return index, held, peak


def in_memory(index: StoryIndex, n: int, batches: list[list[NewItem]],
              expected: dict[str, int], repeat: int) -> Row:  # fmt: skip
    runs, out = [], []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = [item for batch in batches for item in index.assign(batch)]
        runs.append(time.perf_counter() - start)
        progress(f"  assign, N={n:,}: {runs[-1] / len(out) * 1e6:,.1f} µs/item")
    joined, found = shares({item.key: item.story for item in out}, expected)
    micros = statistics.median(runs) / len(out) * 1e6
    return Row("StoryIndex.assign (memory)", n, micros, joined, found)


def poll(feed_id: int, now: datetime, items: Sequence[NewItem]) -> PollRecord:
    update = FeedUpdate(None, None, None, None, now + timedelta(minutes=15))
    return PollRecord(feed_id=feed_id, now=now, update=update, items=tuple(items))


def with_database(db: Database, corpus: Corpus, n: int, batches: list[list[NewItem]],
                  expected: dict[str, int], problems: list[str]) -> tuple[Row, float]:  # fmt: skip
    """Store n items, then time the first load, then save_with_stories a poll at a time."""
    specs = [FeedSpec(f"https://outlet{f}.example/rss", f"outlet {f}") for f in range(FEEDS)]
    feeds = [state.id for state in feed_queries.sync_feeds(db, specs)]
    started = time.perf_counter()
    for first in range(0, n, SAVE_CHUNK):
        end = min(n, first + SAVE_CHUNK)
        items = [
            NewItem(f"s{j}", None, None, corpus.titles[j], corpus.summaries[j], published(j, n),
                    story=corpus.stories[j] if corpus.stories[j] != j + 1 else None)
            for j in range(first, end)
        ]  # fmt: skip
        item_queries.save_poll(db, poll(feeds[first // SAVE_CHUNK % FEEDS], fetched(end, n), items))
        if end % 20_000 == 0 or end == n:
            progress(
                f"  database, N={n:,}: {end:,} stored in {time.perf_counter() - started:.1f} s"
            )
    index = StoryIndex()
    gc.collect()
    start = time.perf_counter()
    loaded = index.refresh(db, NOW)
    load = time.perf_counter() - start
    if loaded != n:
        problems.append(f"N={n:,}: the first load took in {loaded:,} items, not {n:,}")
    progress(f"  first load of {n:,} items: {load:.2f} s")
    gc.collect()
    saved, began = 0, time.perf_counter()
    for k, batch in enumerate(batches):
        record = poll(feeds[k % FEEDS], NOW + timedelta(seconds=k + 1), batch)
        saved += save_with_stories(db, index, record).new_items
    micros = (time.perf_counter() - began) / max(1, saved) * 1e6
    if saved != sum(map(len, batches)):
        problems.append(f"N={n:,}: save_with_stories stored {saved:,} items")
    progress(f"  save_with_stories, N={n:,}: {micros:,.1f} µs/item")
    with db.session() as session:
        rows = session.execute(text("SELECT key, id, story_id FROM items WHERE key LIKE 'n%'"))
        stories: dict[str, int | str | None] = {
            key: (story if story != item_id else None) for key, item_id, story in rows
        }
    return Row("save_with_stories (SQLite)", n, micros, *shares(stories, expected)), load


# --------------------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> int:
    sizes = sorted(set(args.sizes))
    started = time.perf_counter()
    corpus = Corpus(args.seed)
    corpus.fill(sizes[-1])
    progress(f"generated {sizes[-1]:,} stored texts in {time.perf_counter() - started:.1f} s")
    memory_rows, db_rows, loads, problems = [], [], {}, list[str]()
    held = peak = 0.0
    with tempfile.TemporaryDirectory(prefix="newshound-story-") as tmp:
        for n in sizes:
            items, expected = corpus.new_items(n, args.items)
            batches = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
            progress(f"N={n:,}: filling the index ({len(expected):,} new items reword one)")
            index, mb, top = fill_index(corpus, n, trace=n == sizes[-1])
            held, peak = (mb, top) if n == sizes[-1] else (held, peak)
            memory_rows.append(in_memory(index, n, batches, expected, args.repeat))
            del index
            db = open_database(f"sqlite:///{Path(tmp) / f'story-{n}.db'}")
            try:
                row, loads[n] = with_database(db, corpus, n, batches, expected, problems)
                db_rows.append(row)
            finally:
                db.close()
    reworded = sum(corpus.stories[j] != j + 1 for j in range(sizes[-1]))
    print(f"newshound story benchmark: {args.items:,} new items in polls of {args.batch}, "
          f"median of {args.repeat} assign runs; rewordings: {reworded / sizes[-1]:.0%} of the "
          f"stored texts, {REWORD_NEW:.0%} of the new; seed {args.seed}")  # fmt: skip
    print()
    header = (f"{'stage':<27} {'N in window':>11} {'µs/item':>8} {f'vs N={sizes[0]:,}':>10} "
              f"{'joined a story':>14} {'rewordings found':>16}")  # fmt: skip
    print(header)
    print("-" * len(header))
    verdicts = []
    for rows in (memory_rows, db_rows):
        for r in rows:
            print(f"{r.stage:<27} {r.n:>11,} {r.micros:>8.1f} {r.micros / rows[0].micros:>9.2f}x "
                  f"{r.joined:>14.1%} {r.found:>16.1%}")  # fmt: skip
        worst, ratio = max(r.micros for r in rows), rows[-1].micros / rows[0].micros
        ok = worst < TARGET_MICROS and ratio < TARGET_RATIO
        verdicts.append(f"{rows[0].stage}: {'met' if ok else 'NOT met'} "
                        f"(worst {worst:,.0f} µs/item, ratio {ratio:.2f})")  # fmt: skip
    print()
    for n, seconds in loads.items():
        print(f"first load of {n:,} items (StoryIndex.refresh on an empty index): {seconds:.2f} s "
              f"({seconds / n * 1e6:,.0f} µs/item, not in the rows above)")  # fmt: skip
    print(f"memory, index of {sizes[-1]:,} items: {held:.1f} MB held, {peak:.1f} MB peak "
          "while filling it (tracemalloc)")  # fmt: skip
    for verdict in verdicts:
        print(f"target: < {TARGET_MICROS:.0f} µs/item and ratio < {TARGET_RATIO:.0f}: {verdict}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.story", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1_000, 100_000],
        help="stored items in the window (default 1000,100000)",
    )
    parser.add_argument("--items", type=int, default=2_000, help="new items (default 2000)")
    parser.add_argument("--batch", type=int, default=50, help="items per poll (default 50)")
    parser.add_argument("--repeat", type=int, default=5, help="timed assign runs (default 5)")
    parser.add_argument("--seed", type=int, default=20251124, help="generator seed")
    args = parser.parse_args(argv)
    if args.items < 10 or args.batch < 1 or args.repeat < 1 or min(args.sizes) < 10:
        parser.error("--items and --sizes must be >= 10, --batch and --repeat >= 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
