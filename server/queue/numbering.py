"""Ticket numbering: prefix + zero-padded number, per service and service day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from .errors import DailyCapReached


@dataclass(frozen=True)
class NumberRange:
    """The numbers a service hands out, e.g. 1-999; after the last comes the first again."""

    start: int
    end: int

    def __post_init__(self):
        if not 0 <= self.start <= self.end:
            raise ValueError(f"number range {self.start}-{self.end} is empty or negative")

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    @property
    def width(self) -> int:
        return len(str(self.end))


@dataclass(frozen=True)
class Number:
    """The number of the seq-th ticket of a day: `cycle` counts wraps of the range."""

    seq: int
    number: int
    cycle: int


def service_day(moment: datetime, tz: ZoneInfo) -> date:
    """The office's calendar date at `moment` (an aware UTC time): numbering restarts with it."""
    if moment.tzinfo is None:
        raise ValueError("service_day needs an aware datetime")
    return moment.astimezone(tz).date()


def utc_now() -> datetime:
    return datetime.now(UTC)


def number_for(seq: int, rng: NumberRange, daily_cap: int | None = None) -> Number:
    """Map the day's seq-th ticket (1-based) to its number, wrapping the range; enforce the cap."""
    if seq < 1:
        raise ValueError("seq starts at 1")
    if daily_cap is not None and seq > daily_cap:
        raise DailyCapReached(f"the daily limit of {daily_cap} tickets is reached")
    cycle, offset = divmod(seq - 1, rng.size)
    return Number(seq=seq, number=rng.start + offset, cycle=cycle)


def format_code(prefix: str, number: int, rng: NumberRange) -> str:
    """'A' and 42 in 1-999 -> 'A042'."""
    return f"{prefix}{number:0{rng.width}d}"


def spoken_code(code: str) -> str:
    """'A042' -> 'A 42', the way a display announces it."""
    head = code.rstrip("0123456789")
    digits = code[len(head):]
    return f"{head} {int(digits)}".strip() if digits else code
