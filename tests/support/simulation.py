"""A seeded synthetic service day, replayed through the real use cases with a fake clock.

`simulate_day(ctx, office_slug, day, seed)` runs a discrete-event loop: Poisson arrivals per hour of the day,
log-normal service and walk times per service, counters opening, pausing for their breaks (as clerks do on the
counter page; closing instead with pause_for_breaks=False) and closing, clerks calling the next ticket as soon as
they are free, and a few no-shows. Every step goes through issuing.issue_ticket,
calling.call_next, calling.set_counter_state and actions.act, so the event log and the estimates are the real ones.
It returns one `Outcome` per ticket: the estimate given at issue, the baseline formula's estimate (average service
minutes ÷ open counters × people ahead) and the real wait (first call − issue).

This API is stable: the statistics benchmark imports it. Use `dataclasses.replace(DayPlan(), ...)` to vary a day.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from server.queue import Action
from server.services import actions, calling, issuing, queries
from server.services.context import Context
from server.services.uow import SYSTEM
from tests.support.fakes import FakeClock


@dataclass(frozen=True)
class DayPlan:
    """What a day looks like; the defaults fit the demo office "mitte" (4 services, 4 counters)."""

    # Local hour -> mean arrivals in that hour (Poisson), for the whole office.
    arrivals_per_hour: dict[int, float] = field(default_factory=lambda: {8: 30, 9: 38, 10: 38, 11: 30, 12: 18})
    # Service slug -> share of the arrivals.
    mix: dict[str, float] = field(default_factory=lambda: {
        "ausweis": 0.35, "meldewesen": 0.30, "abholung": 0.20, "beglaubigung": 0.15})
    # Service slug -> (median minutes, sigma of the log) of the service time (start -> finish).
    service_times: dict[str, tuple[float, float]] = field(default_factory=lambda: {
        "ausweis": (9.0, 0.45), "meldewesen": (6.0, 0.45), "abholung": (2.0, 0.4), "beglaubigung": (4.5, 0.45)})
    walk: tuple[float, float] = (0.6, 0.5)  # median minutes and sigma, call -> start
    no_show: float = 0.04  # share of called tickets nobody comes for
    no_show_after: float = 2.0  # minutes a clerk waits before marking a no-show
    # Counter slug -> working periods ("HH:MM", "HH:MM" or None: until the queue is empty after arrivals end).
    # Between two periods the clerk is on a break: the counter is paused (pause_for_breaks) or closed.
    shifts: dict[str, list[tuple[str, str | None]]] = field(default_factory=lambda: {
        "schalter-1": [("08:00", "10:00"), ("10:15", None)],
        "schalter-2": [("08:00", "11:00"), ("11:20", None)],
        "schalter-3": [("08:10", "12:00")],
        "schalter-4": [("08:00", "09:30"), ("09:45", None)],
    })

    pause_for_breaks: bool = True

    def mean_service(self, slug: str) -> float:
        """The true mean service minutes of a service's log-normal distribution."""
        median, sigma = self.service_times[slug]
        return median * math.exp(sigma * sigma / 2)


# A quieter office: the same counters and services, fewer arrivals; short queues, so noise dominates the waits.
QUIET_ARRIVALS = {8: 22, 9: 30, 10: 32, 11: 26, 12: 16}


def quiet_plan() -> DayPlan:
    """The demo office on a quiet day (QUIET_ARRIVALS), everything else as DayPlan()."""
    return replace(DayPlan(), arrivals_per_hour=dict(QUIET_ARRIVALS))


@dataclass(frozen=True)
class Outcome:
    """One ticket of a simulated day; times are UTC, durations in minutes."""

    id: int
    code: str
    service: str
    issued_at: datetime
    people_ahead: int
    open_counters: int  # counters open for its service at issue
    low: int | None  # the estimate given at issue (None: no estimate, e.g. no counter open)
    high: int | None
    baseline: float  # average service minutes ÷ open counters × people ahead
    called_at: datetime | None
    no_show: bool = False

    @property
    def wait(self) -> float | None:
        """The real wait: first call − issue, in minutes."""
        return None if self.called_at is None else (self.called_at - self.issued_at).total_seconds() / 60

    @property
    def midpoint(self) -> float | None:
        return None if self.low is None else (self.low + self.high) / 2

    @property
    def covered(self) -> bool:
        return self.low is not None and self.wait is not None and self.low <= self.wait <= self.high


@dataclass
class _Desk:
    slug: str
    services: frozenset[str]
    working: bool = False
    busy: int | None = None  # ticket id
    closing: str | None = None  # the period ended while busy: "paused" or "closed" once done
    open_ended: bool = False  # in its last shift, which lasts until the queue is empty


def simulate_day(ctx: Context, office_slug: str, day: date, seed: int, plan: DayPlan | None = None) -> list[Outcome]:
    """Replay one synthetic day of `office_slug` through the real use cases; the outcome of every ticket."""
    return _Day(ctx, office_slug, day, random.Random(seed), plan or DayPlan()).run()


def simulate_days(ctx: Context, office_slug: str, first: date, days: int, seed: int,
                  plan: DayPlan | None = None) -> list[list[Outcome]]:
    """Several consecutive days (each seeded from `seed`); yesterday's measurements feed today's estimates."""
    return [simulate_day(ctx, office_slug, first + timedelta(days=i), seed * 1000 + i, plan) for i in range(days)]


def accuracy(outcomes: list[Outcome]) -> dict:
    """Coverage of the estimate ranges, and the mean absolute error of their midpoints and of the baseline.

    A ticket without an estimate counts as not covered; the errors are over tickets that have one.
    """
    called = [o for o in outcomes if o.wait is not None]
    rated = [o for o in called if o.low is not None]
    mae = sum(abs(o.midpoint - o.wait) for o in rated) / max(len(rated), 1)
    base = sum(abs(o.baseline - o.wait) for o in rated) / max(len(rated), 1)
    return {"tickets": len(called), "coverage": sum(o.covered for o in called) / max(len(called), 1),
            "mae": mae, "baseline_mae": base, "without_estimate": len(called) - len(rated)}


class _Day:
    def __init__(self, ctx: Context, office_slug: str, day: date, rng: random.Random, plan: DayPlan):
        self.office, self.rng, self.plan = office_slug, rng, plan
        with ctx.db.read_session() as session:
            office = queries.office_by_slug(session, office_slug)
            self.tz = ZoneInfo(office.timezone)
        self.day = day
        self.clock = FakeClock(self._at("00:00"))
        self.ctx = replace(ctx, clock=self.clock)
        self.desks = {c["slug"]: _Desk(c["slug"], frozenset(c["services"]))
                      for c in queries.list_counters(self.ctx, SYSTEM, office_slug) if c["slug"] in plan.shifts}
        self.events: list[tuple[datetime, int, str, tuple]] = []
        self.seq = 0
        self.outcomes: dict[int, Outcome] = {}
        self.arrivals_end = self._at(f"{max(plan.arrivals_per_hour) + 1:02d}:00")

    def _at(self, hhmm: str) -> datetime:
        local = datetime.combine(self.day, time.fromisoformat(hhmm), self.tz)
        return local.astimezone(timezone.utc)

    def _push(self, at: datetime, kind: str, *args) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, args))

    def _minutes(self, median: float, sigma: float) -> timedelta:
        return timedelta(minutes=self.rng.lognormvariate(math.log(median), sigma))

    def run(self) -> list[Outcome]:
        self._plan_arrivals()
        for slug, periods in self.plan.shifts.items():
            for i, (start, end) in enumerate(periods):
                self._push(self._at(start), "open", slug, end is None and i == len(periods) - 1)
                if end is not None:  # a break when another period follows: paused (if the plan says so)
                    pause = self.plan.pause_for_breaks and i < len(periods) - 1
                    self._push(self._at(end), "close", slug, "paused" if pause else "closed")
        while self.events:
            at, _, kind, args = heapq.heappop(self.events)
            self.clock.set(at)
            getattr(self, f"_on_{kind}")(*args)
        self._close_all()
        return sorted(self.outcomes.values(), key=lambda o: o.id)

    def _plan_arrivals(self) -> None:
        slugs, weights = zip(*self.plan.mix.items(), strict=True)
        for hour, rate in sorted(self.plan.arrivals_per_hour.items()):
            t, end = self._at(f"{hour:02d}:00"), self._at(f"{hour:02d}:00") + timedelta(hours=1)
            while rate > 0:
                t += timedelta(hours=self.rng.expovariate(rate))
                if t >= end:
                    break
                self._push(t, "arrive", self.rng.choices(slugs, weights)[0])

    # --- events ----------------------------------------------------------------------------------------------

    def _on_arrive(self, service: str) -> None:
        ticket, _ = issuing.issue_ticket(self.ctx, SYSTEM, self.office, service)
        est, ahead = ticket["estimate"] or {}, ticket["people_ahead"]
        open_here = sum(1 for d in self.desks.values() if d.working and service in d.services)
        self.outcomes[ticket["id"]] = Outcome(
            id=ticket["id"], code=ticket["code"], service=service, issued_at=self.clock(), people_ahead=ahead,
            open_counters=open_here, low=est.get("low"), high=est.get("high"),
            baseline=self.plan.mean_service(service) / max(open_here, 1) * ahead, called_at=None)
        for desk in self.desks.values():
            if desk.working and desk.busy is None and service in desk.services and self._call(desk):
                break

    def _on_open(self, slug: str, open_ended: bool) -> None:
        desk = self.desks[slug]
        desk.working, desk.closing, desk.open_ended = True, None, open_ended
        calling.set_counter_state(self.ctx, SYSTEM, self.office, slug, "open")
        if desk.busy is None:
            self._call(desk)

    def _on_close(self, slug: str, state: str) -> None:
        desk = self.desks[slug]
        desk.working = False
        if desk.busy is None:
            calling.set_counter_state(self.ctx, SYSTEM, self.office, slug, state)
        else:
            desk.closing = state

    def _on_walked(self, slug: str, ticket_id: int) -> None:
        if self.rng.random() < self.plan.no_show:
            self._push(self.clock() + timedelta(minutes=self.plan.no_show_after), "no_show", slug, ticket_id)
            return
        actions.act(self.ctx, SYSTEM, ticket_id, Action.START)
        service = self.outcomes[ticket_id].service
        self._push(self.clock() + self._minutes(*self.plan.service_times[service]), "done", slug, ticket_id)

    def _on_no_show(self, slug: str, ticket_id: int) -> None:
        actions.act(self.ctx, SYSTEM, ticket_id, Action.NO_SHOW)
        self.outcomes[ticket_id] = replace(self.outcomes[ticket_id], no_show=True)
        self._free(self.desks[slug])

    def _on_done(self, slug: str, ticket_id: int) -> None:
        actions.act(self.ctx, SYSTEM, ticket_id, Action.FINISH)
        self._free(self.desks[slug])

    # --- the clerk -------------------------------------------------------------------------------------------

    def _free(self, desk: _Desk) -> None:
        desk.busy = None
        if desk.closing:
            calling.set_counter_state(self.ctx, SYSTEM, self.office, desk.slug, desk.closing)
            desk.closing = None
        elif desk.working:
            self._call(desk)

    def _call(self, desk: _Desk) -> bool:
        """Call next; an open-ended shift closes its counter once arrivals have ended and nothing is left."""
        ticket = calling.call_next(self.ctx, SYSTEM, self.office, desk.slug)
        if ticket is None:
            if desk.open_ended and self.clock() >= self.arrivals_end:
                desk.working = False
                calling.set_counter_state(self.ctx, SYSTEM, self.office, desk.slug, "closed")
            return False
        desk.busy = ticket["id"]
        self.outcomes[ticket["id"]] = replace(self.outcomes[ticket["id"]], called_at=self.clock())
        self._push(self.clock() + self._minutes(*self.plan.walk), "walked", desk.slug, ticket["id"])
        return True

    def _close_all(self) -> None:
        """End of day: every counter closed (a ticket still waiting, if any, keeps no call time)."""
        for desk in self.desks.values():
            calling.set_counter_state(self.ctx, SYSTEM, self.office, desk.slug, "closed")
