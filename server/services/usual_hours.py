"""Each counter's usual hours, and the office's typical pause, learned once a day per process from its counter
events.

The replay of the last `ROTA_DAYS` working days (days with any counter opened or closed, within `LOOKBACK`),
day by day, into open periods; server/queue/rota.py keeps what held on most of them. The pauses (paused, then
open again the same day) of every day within `LOOKBACK` give the typical pause.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from server.db.models import Event, Ticket
from server.queue.rota import Period, day_periods, pause_lengths, typical_pause, usual_hours
from server.queue.states import COUNTER_STATE_EVENTS

ROTA_DAYS = 5  # the office's last working days a counter's usual hours come from (a majority of them)
LOOKBACK = timedelta(days=28)

STATES = {kind: state for state, kind in COUNTER_STATE_EVENTS.items()}  # event kind -> the counter's new state


@dataclass(frozen=True)
class Hours:
    rota: dict[int, list[Period]]  # counter id -> its usual open periods today; absent: no history
    pause: float  # minutes a pause usually lasts in this office


# keyed by (database URL, office id, local date): learned again each day
_cache: dict[tuple, Hours] = {}
_lock = threading.Lock()

_CHANGES = (select(Event.at, Event.counter_id, Event.kind)
            .where(Event.office_id == bindparam("office_id"),
                   Event.kind.in_(list(STATES)),
                   Event.at >= bindparam("since"), Event.at < bindparam("until"))
            .order_by(Event.at, Event.seq))
_LAST_TICKETS = (select(Ticket.service_day, func.max(Ticket.created_at))
                 .where(Ticket.office_id == bindparam("office_id"), Ticket.service_day >= bindparam("since"),
                        Ticket.service_day < bindparam("until"))
                 .group_by(Ticket.service_day))


def clear_cache() -> None:
    """Forget every learned rota (tests; a new layout)."""
    with _lock:
        _cache.clear()


def of_office(session: Session, office_id: int, tz: ZoneInfo, today: date) -> Hours:
    """Per counter its usual open periods today (minutes of the local day; a counter without history is absent,
    and so is every counter of an office without any), and the office's typical pause."""
    key = (session.get_bind().url, office_id, today)
    with _lock:
        hit = _cache.get(key)
    if hit is None:
        hit = _learn(session, office_id, tz, today)
        with _lock:
            for stale in [k for k in _cache if k[:2] == key[:2] and k[2] != today]:
                del _cache[stale]  # the office's rota of an earlier day
            _cache[key] = hit
    return hit


def _learn(session: Session, office_id: int, tz: ZoneInfo, today: date) -> Hours:
    conn = session.connection()
    until = datetime.combine(today, time(0), tz).astimezone(timezone.utc)
    states: dict[date, dict[int, list[tuple[float, str]]]] = {}
    for at, counter_id, kind in conn.execute(_CHANGES, {"office_id": office_id, "since": until - LOOKBACK,
                                                        "until": until}):
        day, minute = local_minute(at, tz)
        states.setdefault(day, {}).setdefault(counter_id, []).append((minute, STATES[kind]))
    pause = typical_pause([n for counters in states.values() for mine in counters.values()
                           for n in pause_lengths(mine)])
    changes = {day: {c: [(minute, state == "open") for minute, state in mine] for c, mine in counters.items()}
               for day, counters in states.items()}
    days = sorted(changes)[-ROTA_DAYS:]
    if not days:
        return Hours({}, pause)
    last_ticket = {day: local_minute(at, tz)[1] for day, at in conn.execute(
        _LAST_TICKETS, {"office_id": office_id, "since": days[0], "until": today}) if at is not None}
    counters = {c for day in days for c in changes[day]}
    periods: dict[int, list[list[Period]]] = {c: [] for c in counters}
    for day in days:
        for c in counters:
            mine = changes[day].get(c, [])
            open_at_midnight = bool(mine) and not mine[0][1]  # its first change that day closed it
            periods[c].append(day_periods(mine, open_at_midnight, last_ticket.get(day)))
    return Hours({c: usual_hours(p) for c, p in periods.items()}, pause)


def local_minute(moment: datetime, tz: ZoneInfo) -> tuple[date, float]:
    """The local date and minute of the day of a moment stored in UTC."""
    local = moment.replace(tzinfo=moment.tzinfo or timezone.utc).astimezone(tz)
    return local.date(), local.hour * 60 + local.minute + local.second / 60
