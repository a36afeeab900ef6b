"""Fetch stage: the only module that talks HTTP to feeds.

Polite by construction: conditional GET (ETag / Last-Modified), a
User-Agent that names us, timeouts on every phase plus an overall deadline
(a server that drips bytes forever cannot hold a worker), a response-size
cap, a per-host concurrency limit, and Retry-After read from 429/503.
Permanent redirects (301/308 all the way) are reported so the caller can
remember the new address.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from watchers.errors import FetchError

__all__ = ["FetchResult", "FetchSettings", "Fetcher"]

_PERMANENT = {301, 308}


@dataclass(frozen=True, slots=True)
class FetchSettings:
    timeout: float = 20.0  # seconds for the whole request, body included
    max_bytes: int = 10 * 1024 * 1024
    per_host: int = 2  # concurrent requests to one host
    user_agent: str = "newshound/0.1 (+https://github.com/newshound/newshound; feed alerts)"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A 200 with its body, or a 304 (``not_modified``, empty body)."""

    not_modified: bool
    content: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    final_url: str
    moved_to: str | None = None  # set when every redirect hop was permanent
    headers: dict[str, str] = field(default_factory=dict)


class Fetcher:
    """One shared ``httpx.AsyncClient`` plus the per-host limits; close it with :meth:`aclose`."""

    def __init__(
        self, settings: FetchSettings | None = None, *, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings or FetchSettings()
        timeout = httpx.Timeout(self.settings.timeout, connect=min(10.0, self.settings.timeout))
        self._client = client or httpx.AsyncClient(
            follow_redirects=True,
            max_redirects=10,
            timeout=timeout,
            headers={"User-Agent": self.settings.user_agent},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET ``url`` conditionally.

        Raises:
            FetchError: with a reason such as ``HTTP 500 Internal Server Error``,
                ``timed out after 20s`` or ``response larger than 10 MB``.
        """
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
            "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = urlsplit(url).hostname or ""
        semaphore = self._hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host))
        async with semaphore:
            try:
                async with asyncio.timeout(self.settings.timeout):
                    return await self._get(url, headers)
            except TimeoutError as exc:
                raise FetchError(f"timed out after {self.settings.timeout:g}s") from exc
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out after {self.settings.timeout:g}s") from exc
            except httpx.TooManyRedirects as exc:
                raise FetchError("too many redirects") from exc
            except httpx.InvalidURL as exc:
                raise FetchError(f"invalid URL: {exc}") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"connection failed: {type(exc).__name__}: {exc}") from exc

    async def _get(self, url: str, headers: dict[str, str]) -> FetchResult:
        async with self._client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return FetchResult(
                    not_modified=True,
                    content=b"",
                    content_type=None,
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    final_url=str(response.url),
                )
            if response.status_code >= 400:
                raise FetchError(
                    f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                    status=response.status_code,
                    retry_after=_retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code != 200:
                raise FetchError(
                    f"unexpected HTTP {response.status_code}", status=response.status_code
                )
            content = await self._read_capped(response)
            moved = None
            if response.history and all(r.status_code in _PERMANENT for r in response.history):
                moved = str(response.url)
            return FetchResult(
                not_modified=False,
                content=content,
                content_type=response.headers.get("Content-Type"),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                final_url=str(response.url),
                moved_to=moved,
            )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self.settings.max_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"response larger than {_megabytes(cap)}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise FetchError(f"response larger than {_megabytes(cap)}")
            chunks.append(chunk)
        return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"
