"""Errors that cross the watchers boundary.

Both are expected, per-feed failures: the poll stage catches them, records
the reason against the feed and goes on with the others::

    WatcherError
    ├── FetchError      the feed could not be fetched (HTTP status, timeout, size cap, ...)
    └── FeedParseError  the bytes are not a feed, or too broken to recover
"""

from __future__ import annotations

__all__ = ["FeedParseError", "FetchError", "WatcherError"]


class WatcherError(Exception):
    """A per-feed failure with a reason fit for `newshound feeds`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchError(WatcherError):
    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it did


class FeedParseError(WatcherError):
    pass
