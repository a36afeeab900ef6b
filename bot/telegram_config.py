"""The ``[telegram]`` part of the config: the bot, its admins and the chats it alerts.

Kept apart from :mod:`bot.config` because it is the one part that knows
about Telegram; :mod:`bot.config` validates it with the rest and checks the
cross-references (a chat naming a watch that does not exist).
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_BASE_URL", "ChatConfig", "QuietHours", "TelegramConfig", "parse_time"]

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_time(value: Any) -> time:
    """``"08:00"`` -> 08:00; raises ValueError naming the accepted form."""
    if isinstance(value, time):
        return value
    match = _TIME.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'invalid time {value!r} (use HH:MM, e.g. "08:00")')
    return time(int(match.group(1)), int(match.group(2)))


class QuietHours(BaseModel):
    """A daily window, possibly across midnight (``23:00-07:00``)."""

    model_config = ConfigDict(frozen=True)

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def _quiet_hours(value: Any) -> QuietHours:
    if isinstance(value, QuietHours):
        return value
    if not isinstance(value, str) or value.count("-") != 1:
        raise ValueError(f'invalid quiet hours {value!r} (use HH:MM-HH:MM, e.g. "23:00-07:00")')
    start, end = (parse_time(part) for part in value.split("-"))
    if start == end:
        raise ValueError(f"quiet hours {value!r} start and end at the same time")
    return QuietHours(start=start, end=end)


def _zone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError('must be a string such as "Asia/Shanghai"')
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'unknown timezone {value!r} (use an IANA name such as "Asia/Shanghai")'
        ) from None
    return value


LocalTime = Annotated[time, BeforeValidator(parse_time)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ChatConfig(_Strict):
    id: int
    watches: list[str] = Field(default_factory=lambda: ["*"])
    digest: LocalTime | None = None
    timezone: Annotated[str, BeforeValidator(_zone)] = "UTC"
    quiet_hours: Annotated[QuietHours, BeforeValidator(_quiet_hours)] | None = None
    instant: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def wants(self, watch: str) -> bool:
        return "*" in self.watches or watch in self.watches

    @property
    def key(self) -> str:
        """The chat's name in the alerts table."""
        return str(self.id)


class TelegramConfig(_Strict):
    token: str | None = None  # absent: the TELEGRAM_BOT_TOKEN environment variable
    base_url: str = DEFAULT_BASE_URL
    admins: list[int] = Field(default_factory=list)
    chats: list[ChatConfig] = Field(default_factory=list)

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^\d+:[\w-]+$", value.strip()):
            raise ValueError("does not look like a bot token (digits, a colon, then letters)")
        return value.strip() if value else value

    def chat(self, chat_id: int) -> ChatConfig | None:
        return next((c for c in self.chats if c.id == chat_id), None)
