"""Waiting-time estimates: learned service times, played forward over the counters open now.

The model, in three parts (all pure; server/services/estimates.py feeds it from the database):
- `learn`: a service's time per called ticket (call -> finish, so walking and no-shows count) from recent
  measurements, each weighted by its age (half-life `HALF_LIFE_DAYS`), blended with the configured
  service minutes as a prior worth `PRIOR_WEIGHT` measurements. No history: the configured value.
- `forecast`: the counters open now, each free after its current ticket, take tickets in their own level
  order (a counter serving several services shares its time between them) until one reaches the ticket in
  question; that moment is the midpoint. The range widens with the uncertainty of the service times on the way
  and with the length of the wait (arrivals of higher-level services and breaks are not known in advance).
- No counter open for the service: no number is invented; the estimate says so (`reason`).
`estimate_wait` is the old static formula, kept as the baseline the learned model is measured against.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

HALF_LIFE_DAYS = 7.0  # a measurement a week old counts half
PRIOR_WEIGHT = 5.0  # the configured service minutes count as this many measurements
Z = 1.3  # half-width of the range in standard deviations of the summed service times
DRIFT = 0.3  # plus this share of the wait itself: what happens meanwhile (arrivals, breaks)
MIN_HALF_WIDTH = 1.0  # minutes
MAX_STEPS = 60  # calls played forward at most (about 0.15 ms); the rest is extrapolated at the pace played


@dataclass(frozen=True)
class Estimate:
    low: int | None
    high: int | None
    reason: str | None = None  # why there is no number, e.g. "no_counter_open"
    minutes: float | None = None  # the midpoint, unrounded

    def as_dict(self) -> dict:
        out = {"low": self.low, "high": self.high}
        if self.reason:
            out["reason"] = self.reason
        return out


NO_COUNTER_OPEN = Estimate(None, None, reason="no_counter_open")


@dataclass(frozen=True)
class ServiceTime:
    """Minutes a counter spends per called ticket of a service (mean and standard deviation)."""

    mean: float
    sd: float
    measured: float = 0.0  # the weight of the measurements behind it (0: configured value only)


@dataclass(frozen=True)
class Desk:
    """A counter open now: its services by level (0 first) and the minutes until it is free."""

    levels: Mapping[int, int]
    free_in: float = 0.0
    transfers: int = 0  # tickets transferred to this counter, which it takes before anything else


@dataclass(frozen=True)
class Load:
    """What the counters of an office have in front of them."""

    desks: tuple[Desk, ...]
    waiting: Mapping[int, int]  # service id -> tickets waiting (not transferred to a counter)
    times: Mapping[int, ServiceTime] = field(default_factory=dict)
    arrivals: Mapping[int, float] = field(default_factory=dict)  # service id -> tickets per minute lately
    target_waits: Mapping[int, float] = field(default_factory=dict)  # service id -> minutes (overdue_first on)
    oldest: Mapping[int, float] = field(default_factory=dict)  # service id -> minutes its oldest ticket waits

    def time_of(self, service_id: int) -> ServiceTime:
        return self.times.get(service_id) or ServiceTime(5.0, 2.5)


def learn(samples: Iterable[tuple[float, float]], configured: float) -> ServiceTime:
    """A service time from (age in days, minutes) measurements; old ones fade, the configured value anchors."""
    prior_sd = configured * 0.5
    w_sum, m_sum, sq_sum = PRIOR_WEIGHT, PRIOR_WEIGHT * configured, PRIOR_WEIGHT * (prior_sd**2 + configured**2)
    measured = 0.0
    for age, minutes in samples:
        w = 0.5 ** (max(age, 0.0) / HALF_LIFE_DAYS)
        measured += w
        w_sum, m_sum, sq_sum = w_sum + w, m_sum + w * minutes, sq_sum + w * minutes * minutes
    mean = m_sum / w_sum
    return ServiceTime(mean=mean, sd=math.sqrt(max(sq_sum / w_sum - mean * mean, 0.0)), measured=measured)


def forecast(load: Load, service_id: int, ahead: int, age: float = 0.0) -> Estimate:
    """The wait of a ticket with `ahead` tickets before it in its service's queue, drawn `age` minutes ago."""
    desks = [d for d in load.desks if service_id in d.levels]
    if not desks:
        return NO_COUNTER_OPEN
    minutes, var = _Play(load, service_id, ahead, age).run()
    half = max(MIN_HALF_WIDTH, Z * math.sqrt(var) + DRIFT * minutes)
    low = max(0, math.floor(minutes - half))
    return Estimate(low=low, high=max(low + 1, math.ceil(minutes + half)), minutes=minutes)


class _Play:
    """Play the open counters forward by the calling policy until one calls the target ticket.

    Each queue is a list of creation times (minutes from now): the waiting tickets spread evenly back to the
    oldest one, then new arrivals at the recent rate (not for the target's own service: those are behind it).
    A free counter takes its transfers first; then, with overdue_first, the oldest overdue head of its
    services; else its lowest level with a ticket, the oldest head within the level. Returns the minutes until
    the target is called and the variance of that time.
    """

    def __init__(self, load: Load, target: int, ahead: int, age: float):
        self.load, self.target = load, target
        self.initial: dict[int, list[float]] = {}
        for service, n in load.waiting.items():
            if service != target:
                self.initial[service] = _spread(n, load.oldest.get(service, 0.0), 0.0)
        before = _spread(ahead, max(load.oldest.get(target, age), age), age)
        self.initial[target] = [*before, -age]  # the target ticket is the last of its queue
        self.taken = dict.fromkeys(self.initial, 0)

    def head(self, service: int, at: float) -> float | None:
        """The creation time of the next ticket of a service, if it exists by `at`."""
        k, initial = self.taken.get(service, 0), self.initial.get(service, [])
        if k < len(initial):
            return initial[k]
        rate = self.load.arrivals.get(service, 0.0) if service != self.target else 0.0
        created = (k - len(initial) + 1) / rate if rate else None
        return created if created is not None and created <= at else None

    def pick(self, desk: Desk, at: float) -> int | None:
        best = None
        for service, level in desk.levels.items():
            created = self.head(service, at)
            if created is None:
                continue
            wait = self.load.target_waits.get(service)
            key = (0, 0, created) if wait is not None and at - created > wait else (1, level, created)
            if best is None or key < best[0]:
                best = (key, service)
        return best[1] if best else None

    def next_arrival(self, desk: Desk, at: float) -> float:
        """When a ticket this counter could take next arrives (never: infinity)."""
        soonest = math.inf
        for service in desk.levels:
            rate = self.load.arrivals.get(service, 0.0) if service != self.target else 0.0
            if rate:
                k = self.taken.get(service, 0) - len(self.initial.get(service, []))
                soonest = min(soonest, max((max(k, 0) + 1) / rate, at + 1e-6))
        return soonest

    def run(self) -> tuple[float, float]:
        load, target, last = self.load, self.target, len(self.initial[self.target]) - 1
        transfers = [d.transfers for d in load.desks]
        var_of = [0.0] * len(load.desks)
        heap = [(d.free_in, i) for i, d in enumerate(load.desks)]
        heapq.heapify(heap)
        for _ in range(MAX_STEPS):
            if not heap:
                break
            at, i = heapq.heappop(heap)
            desk = load.desks[i]
            if transfers[i]:
                transfers[i] -= 1
                service = target
            else:
                service = self.pick(desk, at)
                if service is None:
                    later = self.next_arrival(desk, at)
                    if later < math.inf:
                        heapq.heappush(heap, (later, i))
                    continue
                if service == target and self.taken[target] == last:
                    return at, _variance(var_of, i, len(heap) + 1)
                self.taken[service] = self.taken.get(service, 0) + 1
            time = load.time_of(service)
            var_of[i] += time.sd**2
            heapq.heappush(heap, (at + time.mean, i))
        return _extrapolate(load, target, last - self.taken[target], heap, self.taken[target])


def _spread(n: int, oldest: float, youngest: float) -> list[float]:
    """n creation times (minutes from now, negative) spread evenly from `oldest` to `youngest` minutes ago."""
    if n <= 0:
        return []
    if n == 1:
        return [-oldest]
    step = (oldest - youngest) / (n - 1)
    return [-(oldest - k * step) for k in range(n)]


def _variance(var_of: list[float], i: int, busy: int) -> float:
    """The calling counter's own summed variance, shared out over the counters still working in parallel."""
    spread = sum(var_of) / max(busy, 1) ** 2
    return max(var_of[i] / max(busy, 1), spread)


def _extrapolate(load: Load, target: int, left: int, heap, taken: int) -> tuple[float, float]:
    """Past MAX_STEPS: the rest of the target's queue at the pace it moved while played (or, if it did not
    move, at the pace of the counters serving it as if they did nothing else)."""
    start = min((at for at, _ in heap), default=0.0)
    time = load.time_of(target)
    if taken and start > 0:
        per_ticket = start / taken
        return start + left * per_ticket, left * time.sd**2 * (per_ticket / time.mean) ** 2 / max(taken, 1)
    serving = max(sum(1 for d in load.desks if target in d.levels), 1)
    return start + left * time.mean / serving, left * time.sd**2 / serving


def estimate_wait(people_ahead: int, service_minutes: float, open_counters: int) -> Estimate:
    """The baseline: people ahead x service minutes, shared by the counters open for it (at least one)."""
    counters = max(open_counters, 1)
    mean = (people_ahead + 0.5) * service_minutes / counters
    low = math.floor(mean * 0.7)
    high = max(low + 1, math.ceil(mean * 1.4))
    return Estimate(low=low, high=high)
