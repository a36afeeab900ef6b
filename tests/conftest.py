"""Shared fixtures: a real feed server on 127.0.0.1, config files, the CLI in-process."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.cli import main
from bot.demo.server import FeedServer

WATCHES = {
    "Tesla FSD in China": (
        '(tesla OR 特斯拉) AND (FSD OR "full self-driving") AND (china OR 中国 OR beijing)'
    ),
    "Data exports": '"data export" AND (approval OR approved OR 批准) -GDPR',
}


SCORES = pytest.StashKey[str]()  # the evaluation suites' precision/recall report


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the evaluation suites' scores with every run, not only on failure."""
    if SCORES in config.stash:
        terminalreporter.write_sep("-", "evaluation scores (matcher, story clustering)")
        terminalreporter.write_line(config.stash[SCORES])


PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL; a missing server fails the test, never skips."""
    schema = f"nh_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_SERVER)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'n.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `newshound ARGS...` in-process and capture what it prints."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def write_config(
    path: Path,
    *,
    db: Path,
    feeds: list[tuple[str, str | None]],
    watches: dict[str, str] | None = None,
    extra: str = "",
) -> Path:
    """Write a config.toml with these feeds (url, name) and watches."""
    lines = ["[database]", f"url = {toml_str('sqlite:///' + str(db))}", extra, ""]
    for url, name in feeds:
        lines += ["[[feeds]]", f"url = {toml_str(url)}"]
        if name:
            lines.append(f"name = {toml_str(name)}")
        lines.append("")
    for name, query in (WATCHES if watches is None else watches).items():
        lines += ["[[watches]]", f"name = {toml_str(name)}", f"query = {toml_str(query)}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def config_for(tmp_path: Path, *urls: str) -> Path:
    """The common case: these feed URLs, the standard watches, a database in tmp_path."""
    return write_config(tmp_path / "c.toml", db=tmp_path / "n.db", feeds=[(u, None) for u in urls])
