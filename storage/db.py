"""Opening the database: engine, connection settings, and migrations at start-up.

The schema is versioned with Alembic from the first release, so a user's
database survives every upgrade: :func:`open_database` brings any older
database to the current head before anything reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session

from storage.errors import StorageError

__all__ = ["MIGRATIONS", "Database", "open_database", "upgrade"]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Database:
    """An open database. Sessions are short and synchronous; see the package docstring."""

    engine: Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect to ``url`` (SQLite or PostgreSQL) and apply pending migrations.

    Raises:
        StorageError: the URL is malformed, the server is unreachable or a
            migration failed. Nothing has been changed in that case that a
            later run could not finish.
    """
    engine = _create_engine(url)
    db = Database(engine)
    if migrate:
        try:
            upgrade(db)
        except OperationalError as exc:
            engine.dispose()
            raise StorageError(f"database {_safe(url)}: {exc.orig or exc}") from exc
    return db


def upgrade(db: Database, revision: str = "head") -> None:
    """Run Alembic's upgrade on the open engine (works for SQLite and PostgreSQL alike)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"database url {url!r} is not a database URL") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StorageError(f"database url {url!r}: folder {parent} does not exist")
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except Exception as exc:  # a missing driver, an unknown dialect
        raise StorageError(f"database url {_safe(url)}: {exc}") from exc


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, issue BEGIN (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front, so two writers (threads or
    # processes, e.g. `run` and `digest`) queue on busy_timeout instead of
    # failing with "database is locked" when a read transaction upgrades.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"
