"""When to poll a feed next: the interval, jitter, backoff and Retry-After in one pure function."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

__all__ = ["MAX_BACKOFF", "next_poll_at"]

MAX_BACKOFF = timedelta(hours=6)
_MAX_RETRY_AFTER = timedelta(hours=24)


def next_poll_at(
    now: datetime,
    interval: timedelta,
    *,
    failures: int = 0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The time of the next poll.

    Healthy feeds come back after their interval plus up to 10% jitter, so
    feeds added together drift apart. A failing feed backs off exponentially
    (interval, 2x, 4x, ... capped at six hours or the interval if longer),
    with jitter; a server's Retry-After is honoured when it asks for longer
    (up to a day).
    """
    rng = rng or random.Random()
    if failures <= 0:
        delay = interval
    else:
        ceiling = max(interval, MAX_BACKOFF)
        delay = min(interval * (2 ** min(failures - 1, 16)), ceiling)
    delay += delay * rng.uniform(0.0, 0.1)
    if retry_after is not None:
        delay = max(delay, min(timedelta(seconds=retry_after), _MAX_RETRY_AFTER))
    return now + delay
