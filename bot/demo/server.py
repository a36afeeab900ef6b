"""A small real HTTP server on 127.0.0.1 that serves feeds: for the demo and for tests.

It behaves like a decent feed host: ETag and Last-Modified on every 200,
304 for a matching If-None-Match / If-Modified-Since, and it records every
request so tests can check what a client sent. Routes can be changed while it
runs (to publish a new item, or to start failing).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = ["FeedServer", "Request", "Route"]


@dataclass(frozen=True, slots=True)
class Route:
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    delay: float = 0.0  # seconds to wait before answering (a slow or hanging server)
    headers: tuple[tuple[str, str], ...] = ()
    conditional: bool = True  # send ETag/Last-Modified and honour conditional requests


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0


class FeedServer:
    """Serve ``routes`` (path -> Route) on 127.0.0.1 on a free port, in a background thread."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._mtimes: dict[str, float] = {}
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def set(self, path: str, route: Route) -> None:
        with self._lock:
            self.routes[path] = route

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _mtime(self, body: bytes) -> float:
        """A Last-Modified that changes when the body changes and not otherwise."""
        with self._lock:
            return self._mtimes.setdefault(hashlib.sha1(body).hexdigest(), time.time())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    route = server.routes.get(self.path)
                headers = {k: v for k, v in self.headers.items()}
                if route is None:
                    route = Route(body=b"not found", content_type="text/plain", status=404)
                if route.delay:
                    server._stopping.wait(route.delay)
                status = self._respond(route)
                with server._lock:
                    server.requests.append(Request(self.path, headers, status))

            def _respond(self, route: Route) -> int:
                etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                modified = formatdate(server._mtime(route.body), usegmt=True)
                fresh = (
                    route.conditional
                    and route.status == 200
                    and (
                        self.headers.get("If-None-Match") == etag
                        or (
                            self.headers.get("If-None-Match") is None
                            and self.headers.get("If-Modified-Since") == modified
                        )
                    )
                )
                status = 304 if fresh else route.status
                self.send_response(status)
                if route.conditional and route.status == 200:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", modified)
                for name, value in route.headers:
                    self.send_header(name, value)
                if status == 304:
                    self.end_headers()
                    return status
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                # The client may have given up (a timeout test): nothing to do then.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(route.body)
                return status

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: tests and the demo print what matters themselves

        return Handler
