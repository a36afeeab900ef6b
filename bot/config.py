"""Loading and validating the config file (TOML) into frozen, typed models.

Every mistake is reported as one line that names the key path, e.g.
``watches[1].query: unbalanced parenthesis at column 14`` (list indices count
from 0, like the order of the ``[[watches]]`` tables), and the CLI exits with
status 2 before anything runs.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from bot.durations import parse_duration
from bot.telegram_config import TOKEN_VARIABLE, TelegramConfig
from watchers.match import Watch, Watchlist, matches_empty_text
from watchers.query import QuerySyntaxError, parse_query
from watchers.text import has_cjk, normalise

__all__ = ["Config", "ConfigError", "FeedConfig", "WatchConfig", "load_config", "parse_config"]

EXAMPLE = "config.example.toml"


class ConfigError(Exception):
    """An unusable config; ``lines`` are the one-line messages to show, one per mistake."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f'expected a duration string such as "15m", got {value!r}')
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Name = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DatabaseConfig(_Strict):
    url: str = "sqlite:///newshound.db"


class PollingConfig(_Strict):
    interval: Duration = timedelta(minutes=15)
    timeout: Duration = timedelta(seconds=20)
    max_size_mb: int = Field(default=10, ge=1, le=200)
    per_host: int = Field(default=2, ge=1, le=32)
    concurrency: int = Field(default=16, ge=1, le=256)
    first_poll_max_age: Duration = timedelta(hours=24)


class FeedConfig(_Strict):
    url: str
    name: Name | None = None
    interval: Duration | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.strip()


class WatchConfig(_Strict):
    name: Name
    query: str

    @field_validator("query")
    @classmethod
    def _valid_syntax(cls, value: str) -> str:
        try:
            parse_query(value)
        except QuerySyntaxError as exc:
            raise ValueError(str(exc)) from None
        return value


class Config(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    polling: PollingConfig = PollingConfig()
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    feeds: list[FeedConfig] = Field(default_factory=list)
    watches: list[WatchConfig] = Field(default_factory=list)
    telegram: TelegramConfig = TelegramConfig()

    @property
    def telegram_token(self) -> str | None:
        """The bot token: ``[telegram] token``; None means alerts go to the console."""
        return self.telegram.token

    def interval_of(self, feed: FeedConfig) -> timedelta:
        return feed.interval or self.polling.interval

    def watchlist(self, only: str | None = None) -> Watchlist:
        """The compiled watchlist; ``only`` keeps one watch (ConfigError if there is none)."""
        watches = [w for w in self.watches if only is None or w.name == only]
        if only is not None and not watches:
            names = ", ".join(repr(w.name) for w in self.watches) or "none"
            raise ConfigError([f"no watch named {only!r} (watches: {names})"])
        return Watchlist([Watch(w.name, parse_query(w.query)) for w in watches], self.aliases)

    def problems(self) -> list[str]:
        """Mistakes that span keys: duplicates, alias groups and the watches that use them."""
        problems = _duplicates("feeds", "url", [f.url for f in self.feeds])
        problems += _duplicates("watches", "name", [w.name for w in self.watches])
        problems += _alias_problems(self.aliases)
        problems += _chat_problems(self)
        for index, watch in enumerate(self.watches):
            tree = parse_query(watch.query)
            where = f"watches[{index}].query"
            try:
                empty = matches_empty_text(tree, self.aliases)
            except QuerySyntaxError as exc:
                problems.append(f"{where}: {exc} in watch {watch.name!r}")
                continue
            if empty:
                problems.append(
                    f"{where}: this query matches items that contain none of its terms "
                    "(only NOT terms?); add a term to look for"
                )
        return problems


def load_config(path: Path) -> Config:
    """Read and validate ``path``.

    Raises:
        ConfigError: the file is missing or unreadable, not TOML, or invalid.
    """
    if not path.is_file():
        raise ConfigError(
            [
                f"config file {path} not found: copy {EXAMPLE} to {path} and edit it, "
                "or pass --config PATH"
            ]
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    return parse_config(raw, environ=os.environ)


def parse_config(raw: dict[str, Any], *, environ: Any = None) -> Config:
    """Validate an already-parsed TOML document (``${VAR}`` replaced from ``environ``)."""
    problems: list[str] = []
    environ = environ if environ is not None else os.environ
    expanded = _expand(raw, environ, "", problems)
    telegram = expanded.get("telegram")
    if (telegram is None or isinstance(telegram, dict)) and TOKEN_VARIABLE in environ:
        telegram = dict(telegram or {})
        telegram.setdefault("token", environ[TOKEN_VARIABLE])  # the variable alone also works
        expanded["telegram"] = telegram
    if problems:
        raise ConfigError(problems)
    try:
        config = Config.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError([_describe(error) for error in exc.errors()]) from None
    if problems := config.problems():
        raise ConfigError(problems)
    return config


_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(value: Any, environ: Any, path: str, problems: list[str]) -> Any:
    """Replace ``${VAR}`` in every string from the environment; ``$$`` is a literal ``$``."""
    if isinstance(value, dict):
        return {
            k: _expand(v, environ, f"{path}.{k}" if path else k, problems) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_expand(v, environ, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, str) and "$" in value:

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "$"
            if name not in environ:
                problems.append(f"{path}: environment variable {name} is not set")
                return ""
            return str(environ[name])

        return _VAR.sub(substitute, value)
    return value


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "string_too_short": "must not be empty",
}


def _describe(error: ErrorDetails) -> str:
    path = _path(error["loc"])
    kind = error["type"]
    if kind in _MESSAGES:
        message = _MESSAGES[kind]
        if kind.endswith("_type") and "input" in error:
            message += f" (got {_toml_type(error['input'])})"
    elif kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
    else:
        message = str(error["msg"]).replace("Input should be", "must be")
    return f"{path}: {message}" if path else message


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith("function-"):  # pydantic's validator frames
            out += f".{part}" if out else str(part)
    return out


def _toml_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array"}
    if isinstance(value, dict):
        return "table"
    return names.get(type(value), type(value).__name__)


def _chat_problems(config: Config) -> list[str]:
    names = {w.name for w in config.watches}
    chats = config.telegram.chats
    problems = _duplicates("telegram.chats", "id", [str(c.id) for c in chats])
    for index, chat in enumerate(chats):
        for position, watch in enumerate(chat.watches):
            if watch != "*" and watch not in names:
                problems.append(
                    f"telegram.chats[{index}].watches[{position}]: unknown watch {watch!r}"
                )
        if not chat.instant and chat.digest is None:
            problems.append(
                f"telegram.chats[{index}]: instant = false and no digest: this chat gets nothing"
            )
    return problems


_ALIAS_NAME = re.compile(r"[\w-]+$")


def _alias_problems(aliases: dict[str, list[str]]) -> list[str]:
    problems = []
    for name, entries in aliases.items():
        if not _ALIAS_NAME.match(name):
            problems.append(f"aliases.{name}: an alias name is letters, digits, _ and - only")
        if not entries:
            problems.append(f"aliases.{name}: needs at least one name")
        for index, entry in enumerate(entries):
            stem = entry.strip().removesuffix("*")
            if not normalise(stem):
                problems.append(f"aliases.{name}[{index}]: empty name")
            elif entry.strip().endswith("*") and (has_cjk(stem) or len(normalise(stem)) < 2):
                problems.append(
                    f"aliases.{name}[{index}]: a prefix* needs 2 or more Latin letters before '*'"
                )
    return problems


def _duplicates(section: str, key: str, values: list[str]) -> list[str]:
    first: dict[str, int] = {}
    problems = []
    for index, value in enumerate(values):
        if value in first:
            problems.append(
                f"{section}[{index}].{key}: duplicate of {section}[{first[value]}].{key} "
                f"({value!r})"
            )
        else:
            first[value] = index
    return problems
