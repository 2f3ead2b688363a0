"""The calling policy: which waiting ticket a counter takes next."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


class PriorityClass(enum.IntEnum):
    """Higher classes are called before lower ones."""

    NORMAL = 0
    PRIORITY_NEED = 1
    TRANSFER_BACK = 2
    APPOINTMENT_DUE = 3


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket, as much of it as the policy needs."""

    id: int
    service_id: int
    created_at: datetime
    enqueued_at: datetime
    priority_class: int = PriorityClass.NORMAL
    target_wait: timedelta | None = None
    counter_id: int | None = None  # set when transferred to one counter

    def overdue(self, now: datetime) -> bool:
        return self.target_wait is not None and now - self.created_at > self.target_wait


@dataclass(frozen=True)
class CounterServices:
    """A counter's services: service id -> level (0 is served first, 1 next, ...)."""

    counter_id: int
    levels: Mapping[int, int] = field(default_factory=dict)

    def level_of(self, c: Candidate) -> int | None:
        if c.counter_id is not None:
            return -1 if c.counter_id == self.counter_id else None
        return self.levels.get(c.service_id)


@dataclass(frozen=True)
class Policy:
    """Per-office switches of the calling policy."""

    overdue_first: bool = True
    service_levels: bool = True

    @classmethod
    def from_dict(cls, data: Mapping | None) -> Policy:
        data = data or {}
        return cls(
            overdue_first=bool(data.get("overdue_first", True)),
            service_levels=bool(data.get("service_levels", True)),
        )


def _key(c: Candidate, level: int, now: datetime, policy: Policy) -> tuple:
    if policy.overdue_first and c.overdue(now):
        return (0, 0, 0, c.created_at, c.id)
    lvl = level if policy.service_levels else min(level, 0)
    return (1, -int(c.priority_class), lvl, c.enqueued_at, c.id)


def rank(waiting: Iterable[Candidate], counter: CounterServices, now: datetime,
         policy: Policy = Policy()) -> list[Candidate]:
    """The tickets this counter may call, in the order it would call them."""
    eligible = [(c, counter.level_of(c)) for c in waiting]
    ordered = sorted((_key(c, lvl, now, policy), c) for c, lvl in eligible if lvl is not None)
    return [c for _, c in ordered]


def pick_next(waiting: Iterable[Candidate], counter: CounterServices, now: datetime,
              policy: Policy = Policy()) -> Candidate | None:
    """The ticket this counter calls next, or None."""
    ranked = rank(waiting, counter, now, policy)
    return ranked[0] if ranked else None


def people_ahead(ticket: Candidate, waiting: Iterable[Candidate], now: datetime,
                 policy: Policy = Policy()) -> int:
    """How many tickets of the same queue would be called before this one."""
    def same_queue(c: Candidate) -> bool:
        if ticket.counter_id is not None:
            return c.counter_id == ticket.counter_id
        return c.counter_id is None and c.service_id == ticket.service_id

    mine = _key(ticket, 0, now, policy)
    return sum(1 for c in waiting if c.id != ticket.id and same_queue(c) and _key(c, 0, now, policy) < mine)
