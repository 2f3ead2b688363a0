"""Waiting-time estimates: learned service times, played forward over the office's counters.

The model (all pure; server/services/estimates.py feeds it from the database):
- `learn`: a service's time per called ticket (call -> finish, so walking and no-shows count) from recent
  measurements, each weighted by its age (half-life `HALF_LIFE_DAYS`), blended with the configured
  service minutes as a prior worth `PRIOR_WEIGHT` measurements. No history: the configured value.
- `forecast`: the counters (server/queue/play.py) take tickets by the calling policy, each free once the ticket
  it has now is done (what is left of it, given how long it has run and, where clerks start their tickets,
  whether its customer has come: `Calls`), off when its usual hours (learned from the days before,
  server/queue/rota.py) say it breaks or closes, until one calls the ticket in question. The queues are the
  real ones, plus arrivals at the rate of the last half hour and of the next on the days before. The play runs
  in `SCENARIOS` scenarios of the current tickets' remaining times (`Load.starts`: each busy counter at the mean
  of a slice of its log-normal remaining time), since which counter is free first is not known: the soonest of
  several uncertain times comes earlier than the soonest of their means. The mean over the scenarios is the
  middle of the range.
- The range: the variance of the service times on the way (the current tickets' remaining time included: its
  spread within a slice, plus the spread of the scenarios' waits; and whether arrivals come in time), plus
  `WALK` per minute of waiting for what the play cannot foresee (breaks off the usual hours, priority tickets),
  `WALK_UNKNOWN` while no usual hours are known. It spans `Z` standard deviations either side in whole
  minutes; a short wait's range starts at 0.
- A counter free now calls a new ticket once its clerk sees it: `Load.pickup`, learned from the office's log
  (`pickups`: calls of tickets drawn while their counter stood free). Where clerks call at once, the range of
  the next in line at a free counter is 0-0, else 0-1 or more; `low` equals `high` only there.
- No counter open for the service: no number is invented; the estimate says so (`reason`).
`estimate_wait` is the old static formula, kept as the baseline the learned model is measured against.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from statistics import NormalDist

from .play import play
from .states import COUNTER_STATE_EVENTS

HALF_LIFE_DAYS = 7.0  # a measurement a week old counts half
PRIOR_WEIGHT = 5.0  # the configured service minutes count as this many measurements
Z = 1.3  # half-width of the range in standard deviations (about 80 % of a normal distribution)
WALK = 1.0  # variance (minutes^2) per minute of waiting that the play cannot foresee, with usual hours known
WALK_UNKNOWN = 3.0  # the same without them (no history yet): every break comes unforeseen
MIN_HALF_WIDTH = 0.5  # minutes
SHORT_TOP = 0.5  # a range clipped at 0 reaches this share of its half-width above the middle (see `_range`)
SCENARIOS = 4  # sets of the current tickets' remaining times the counters are played with (see `Load.starts`)
PICKUP_MINUTES = 0.5  # before any is measured: how long a free counter takes to call a new ticket (see `pickups`)
_BOUNDS = (-math.inf, *(NormalDist().inv_cdf(j / SCENARIOS) for j in range(1, SCENARIOS)), math.inf)


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

    def left(self, elapsed: float) -> tuple[float, float]:
        """Mean and variance of the minutes left of a ticket at a counter for `elapsed` minutes already.

        Service times are skewed (log-normal with this mean and sd): one that has run long tends to run on,
        so the answer never drops to zero the way mean - elapsed does. It never exceeds a whole service time
        either: a ticket that far over its time was most likely done and not finished at the counter.
        """
        if elapsed <= 0 or self.sd <= 0 or self.mean <= 0:
            return max(self.mean - max(elapsed, 0.0), 0.0), self.sd**2
        s2 = math.log1p((self.sd / self.mean) ** 2)
        s, mu = math.sqrt(s2), math.log(self.mean) - s2 / 2
        z = (mu - math.log(elapsed)) / s
        survives = _upper(-z)  # P(T > elapsed)
        if survives < 1e-12:  # far in the tail
            return self.mean, self.sd**2
        mean = self.mean * _upper(-z - s) / survives  # E[T | T > elapsed]
        if mean - elapsed >= self.mean:
            return self.mean, self.sd**2
        square = self.mean**2 * math.exp(s2) * _upper(-z - 2 * s) / survives  # E[T^2 | T > elapsed]
        return max(mean - elapsed, 0.0), max(square - mean * mean, 0.0)

    def survives(self, elapsed: float) -> float:
        """P(T > elapsed) for a log-normal T with this mean and sd."""
        if elapsed <= 0:
            return 1.0
        if self.sd <= 0 or self.mean <= 0:
            return 1.0 if self.mean > elapsed else 0.0
        s2 = math.log1p((self.sd / self.mean) ** 2)
        return _upper((math.log(elapsed) - math.log(self.mean) + s2 / 2) / math.sqrt(s2))


@dataclass(frozen=True)
class Calls:
    """How called customers reach the counter, from the office's log: the walk (call -> start) of those who
    come, how long the clerk waits (call -> no-show) for those who do not, and the share of calls nobody comes
    for."""

    walk: ServiceTime
    gone: ServiceTime | None  # None: no no-show on record
    no_show: float

    def left(self, elapsed: float, serve: ServiceTime) -> tuple[float, float]:
        """Mean and variance of the minutes left of a ticket called `elapsed` minutes ago and not started yet.

        Its customer is walking up (the rest of the walk, then the whole service) or is not coming (the rest of
        the clerk's wait for a no-show); the longer nobody has come, the likelier the latter.
        """
        walk_mean, walk_var = self.walk.left(elapsed)
        comes = (walk_mean + serve.mean, walk_var + serve.sd**2)
        if self.gone is None or self.no_show <= 0:
            return comes
        p_gone = self.no_show * self.gone.survives(elapsed)
        p_comes = (1 - self.no_show) * self.walk.survives(elapsed)
        if p_gone + p_comes < 1e-12:  # later than any walk and any wait on record: taken to be coming
            return comes
        q = p_gone / (p_gone + p_comes)
        gone = self.gone.left(elapsed)
        mean = (1 - q) * comes[0] + q * gone[0]
        square = (1 - q) * (comes[1] + comes[0] ** 2) + q * (gone[1] + gone[0] ** 2)
        return mean, max(square - mean * mean, 0.0)


def _upper(x: float) -> float:
    """P(Z > x) for a standard normal Z."""
    return 0.5 * math.erfc(x / math.sqrt(2))


def _slices(mean: float, var: float) -> tuple[tuple[float, float], ...]:
    """Mean and variance of each of SCENARIOS equally likely slices (lowest first) of a log-normal time with this
    mean and variance: E[X^m | X in slice] = mean^m exp(m(m-1)s^2/2) P(Z - ms in slice) * SCENARIOS."""
    if mean <= 0 or var <= 0:
        return ((max(mean, 0.0), max(var, 0.0)),) * SCENARIOS
    s2 = math.log1p(var / mean**2)
    s = math.sqrt(s2)
    out = []
    for a, b in zip(_BOUNDS[:-1], _BOUNDS[1:], strict=True):
        first = mean * (_upper(a - s) - _upper(b - s)) * SCENARIOS
        second = mean * mean * math.exp(s2) * (_upper(a - 2 * s) - _upper(b - 2 * s)) * SCENARIOS
        out.append((first, max(second - first * first, 0.0)))
    return tuple(out)


@dataclass(frozen=True)
class Desk:
    """A counter: its services by level (0 first), the minutes until it is free, and when it will not call.

    `off` holds the spans (from, until; minutes from now, until may be math.inf) its usual hours leave out:
    a break ahead, or, for a counter closed now (`open` false), the time until it usually opens; for a paused
    one, the rest of its pause. `open`: staffed now, that is open, or paused and expected back (a service
    with only closed counters gets no number, one whose clerk is on a break does).
    """

    levels: Mapping[int, int]
    free_in: float = 0.0
    free_var: float = 0.0  # the variance of free_in (the current ticket's time is not known)
    transfers: int = 0  # tickets transferred to this counter, which it takes before anything else
    off: tuple[tuple[float, float], ...] = ()
    open: bool = True

    def back_at(self, at: float) -> float | None:
        """If the counter is off at `at`, when it calls again (math.inf: not today); else None."""
        for start, until in self.off:
            if start <= at < until:
                return until
        return None


@dataclass(frozen=True)
class Load:
    """What the counters of an office have in front of them."""

    desks: tuple[Desk, ...]
    waiting: Mapping[int, int]  # service id -> tickets waiting (not transferred to a counter)
    times: Mapping[int, ServiceTime] = field(default_factory=dict)
    arrivals: Mapping[int, float] = field(default_factory=dict)  # service id -> tickets per minute lately
    target_waits: Mapping[int, float] = field(default_factory=dict)  # service id -> minutes (overdue_first on)
    oldest: Mapping[int, float] = field(default_factory=dict)  # service id -> minutes its oldest ticket waits
    heads: Mapping[int, tuple[float, ...]] = field(default_factory=dict)  # minutes its first tickets wait, oldest first
    usual_hours: bool = False  # the counters' usual hours are known (learned), so fewer breaks come unforeseen
    # how long a counter that stands free takes to call a new ticket (issue -> call; see `pickups`)
    pickup: ServiceTime = field(default_factory=lambda: NO_PICKUP)

    def time_of(self, service_id: int) -> ServiceTime:
        return self.times.get(service_id) or ServiceTime(5.0, 2.5)

    @functools.cached_property
    def starts(self) -> tuple[tuple[tuple[float, float], ...], ...]:
        """Per scenario the play runs, each counter's free time (mean, variance); one scenario when no current
        ticket's remaining time is uncertain.

        Which busy counter is free first decides who calls what, so the play is a jumpy function of the current
        tickets' remaining times, and playing it once with each one's mean gets short waits too long (the soonest
        of the means is later than the mean of the soonest) and tips on small differences. Each scenario sets
        every busy counter to one of SCENARIOS equally likely slices of its remaining time (log-normal): the
        slice's mean, and the variance left within it. Counter i takes slice (scenario + i) mod SCENARIOS, so
        each takes every slice once and they are ordered differently in every scenario. Once per Load.
        """
        slices = [_slices(d.free_in, d.free_var) for d in self.desks]
        if all(len(set(s)) == 1 for s in slices):
            return (tuple(s[0] for s in slices),)
        return tuple(tuple(s[(k + i) % SCENARIOS] for i, s in enumerate(slices)) for k in range(SCENARIOS))


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


def measure(samples: Iterable[tuple[float, float]]) -> ServiceTime | None:
    """Mean and sd of (age in days, minutes) measurements, each weighted as in `learn`, without a prior (None:
    no measurements)."""
    w_sum = m_sum = sq_sum = 0.0
    for age, minutes in samples:
        w = 0.5 ** (max(age, 0.0) / HALF_LIFE_DAYS)
        w_sum, m_sum, sq_sum = w_sum + w, m_sum + w * minutes, sq_sum + w * minutes * minutes
    if w_sum <= 0:
        return None
    mean = m_sum / w_sum
    return ServiceTime(mean=mean, sd=math.sqrt(max(sq_sum / w_sum - mean * mean, 0.0)), measured=w_sum)


NO_PICKUP = learn((), PICKUP_MINUTES)  # the pickup before any is measured
OPENED = COUNTER_STATE_EVENTS["open"]
OFF = frozenset({COUNTER_STATE_EVENTS["paused"], COUNTER_STATE_EVENTS["closed"]})
FREES = frozenset({"finished", "no_show"})  # a counter's ticket is done: it stands free unless paused or closed
PICKUP_KINDS = ("called", OPENED, *sorted(FREES), *sorted(OFF))  # the events `pickups` reads


def pickups(log: Iterable[tuple[int, str, datetime, datetime | None]]) -> list[tuple[datetime, float]]:
    """How long counters that stood free took to call a ticket issued meanwhile: (call time, minutes from issue
    to call) for each such call, from the office's counter log (counter id, event kind, time, and for a call the
    ticket's issue time), oldest first.

    A counter stands free from its opening or the end of its ticket (finished, no-show) until it calls, pauses or
    closes. Only a call of a ticket issued while its counter stood free counts: one issued earlier waited for
    something else (the counter's opening, its ticket in hand). After any other way a ticket leaves a counter
    (transfer, park, requeue: not in the log read) the counter's next call does not count either.
    """
    free_since: dict[int, datetime | None] = {}
    off: set[int] = set()
    out = []
    for counter, kind, at, issued in log:
        if kind == "called":
            since = free_since.get(counter)
            if since is not None and issued is not None and issued >= since:
                out.append((at, (at - issued).total_seconds() / 60))
            free_since[counter] = None
        elif kind == OPENED:
            off.discard(counter)
            free_since[counter] = at
        elif kind in OFF:
            off.add(counter)
            free_since[counter] = None
        elif kind in FREES and counter not in off:
            free_since[counter] = at
    return out


def forecast(load: Load, service_id: int, ahead: int, age: float = 0.0) -> Estimate:
    """The wait of a ticket with `ahead` tickets before it in its service's queue, drawn `age` minutes ago."""
    if not any(d.open and service_id in d.levels for d in load.desks):
        return NO_COUNTER_OPEN
    minutes, var = play(load, service_id, ahead, age)
    return _range(minutes, var + (WALK if load.usual_hours else WALK_UNKNOWN) * minutes)


def _range(minutes: float, var: float) -> Estimate:
    """Whole minutes, Z standard deviations either side of the expected wait.

    A range that would start below 0 starts at 0, and its top comes down to the middle plus SHORT_TOP of the
    half-width: short waits are skewed (most are shorter than the mean, a few much longer), so the full top
    would put the range's middle well above the likely wait, while this one still reaches into the long tail.
    """
    half = max(MIN_HALF_WIDTH, Z * math.sqrt(var))
    if minutes < half:  # 0-0 ("less than 1 min." as 0-1 is): a free counter that calls new tickets at once
        return Estimate(low=0, high=round(minutes + SHORT_TOP * half), minutes=minutes)
    low = round(minutes - half)
    return Estimate(low=low, high=max(low + 1, round(minutes + half)), minutes=minutes)


def estimate_wait(people_ahead: int, service_minutes: float, open_counters: int) -> Estimate:
    """The baseline: people ahead x service minutes, shared by the counters open for it (at least one)."""
    counters = max(open_counters, 1)
    mean = (people_ahead + 0.5) * service_minutes / counters
    low = math.floor(mean * 0.7)
    high = max(low + 1, math.ceil(mean * 1.4))
    return Estimate(low=low, high=high)
