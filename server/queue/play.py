"""Playing an office's counters forward, ticket by ticket, until one calls a given ticket (see estimate.py)."""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .estimate import Desk, Load

MAX_STEPS = 60  # calls played forward at most per scenario (about 0.15 ms); the rest is extrapolated at the pace played


def play(load: Load, target: int, ahead: int, age: float) -> tuple[float, float]:
    """Minutes until the ticket is called (`ahead` tickets before it in its queue, drawn `age` minutes ago), and
    the variance of that time: over the scenarios of the current tickets' remaining times (`Load.starts`), the
    mean of their waits, and the mean of their variances plus the spread of their waits (total variance)."""
    played = _Play(load, target, ahead, age)
    runs = [played.run(start) for start in load.starts]
    mean = sum(m for m, _ in runs) / len(runs)
    return mean, sum(v + (m - mean) ** 2 for m, v in runs) / len(runs)


class _Play:
    """Play the counters forward by the calling policy until one calls the target ticket.

    Each queue is a list of creation times (minutes from now): the waiting tickets (the first as they are, the
    rest spread evenly back to the oldest one), then new arrivals at the recent rate (not for the target's own
    service: those are behind it). A free counter off by its usual hours calls again when they say it is back.
    It takes its transfers first; then, with overdue_first, the oldest overdue head of its services; else its
    lowest level with a ticket, the oldest head within the level. Returns the minutes until the target is
    called and the variance of that time.
    """

    def __init__(self, load: Load, target: int, ahead: int, age: float):
        self.load, self.target, self.age = load, target, age
        self.initial: dict[int, list[float]] = {}
        for service, n in load.waiting.items():
            if service != target:
                self.initial[service] = _queue(load, service, n, 0.0)
        before = _queue(load, target, ahead, age)
        self.initial[target] = [*before, -age]  # the target ticket is the last of its queue
        self.taken: dict[int, int] = {}
        services = {s for d in load.desks for s in d.levels} | set(self.initial)
        self.rate = {s: load.arrivals.get(s, 0.0) if s != target else 0.0 for s in services}
        self.queued = {s: self.initial.get(s, ()) for s in services}
        # per counter: (service, level, target wait) of each of its services, looked up once for every call
        self.menus = [tuple((s, lv, load.target_waits.get(s)) for s, lv in d.levels.items()) for d in load.desks]

    def head(self, service: int, at: float) -> float | None:
        """The creation time of the next ticket of a service, if it exists by `at`."""
        k, initial = self.taken[service], self.queued[service]
        if k < len(initial):
            return initial[k]
        rate = self.rate[service]
        created = (k - len(initial) + 1) / rate if rate else None
        return created if created is not None and created <= at else None

    def pick(self, i: int, at: float) -> int | None:
        best = None
        for service, level, wait in self.menus[i]:
            created = self.head(service, at)
            if created is None:
                continue
            key = (0, 0, created) if wait is not None and at - created > wait else (1, level, created)
            if best is None or key < best[0]:
                best = (key, service)
        return best[1] if best else None

    def next_arrival(self, desk: Desk, at: float) -> float:
        """When a ticket this counter could take next arrives (never: infinity)."""
        soonest = math.inf
        for service in desk.levels:
            rate = self.rate[service]
            if rate:
                k = self.taken[service] - len(self.queued[service])
                soonest = min(soonest, max((max(k, 0) + 1) / rate, at + 1e-6))
        return soonest

    def run(self, start: tuple[tuple[float, float], ...]) -> tuple[float, float]:
        """Play with the counters free at `start` (mean and variance, one per counter)."""
        load, target, last = self.load, self.target, len(self.initial[self.target]) - 1
        self.taken = dict.fromkeys(self.queued, 0)
        transfers = [d.transfers for d in load.desks]
        var_of = [v for _, v in start]
        heap = [(at, i) for i, (at, _) in enumerate(start)]
        heapq.heapify(heap)
        for _ in range(MAX_STEPS):
            if not heap:
                break
            at, i = heapq.heappop(heap)
            desk = load.desks[i]
            back = desk.back_at(at)
            if back is not None:  # on a break (after finishing its ticket): it calls again when back
                if back < math.inf:
                    heapq.heappush(heap, (back, i))
                continue
            if transfers[i]:
                transfers[i] -= 1
                service = target
            else:
                service = self.pick(i, at)
                if service is None:
                    later = self.next_arrival(desk, at)
                    if later < math.inf:
                        heapq.heappush(heap, (later, i))
                    continue
                if service == target and self.taken[target] == last:
                    if at <= 0:  # a counter free now: it calls once its clerk sees the ticket (Load.pickup)
                        return load.pickup.left(self.age)
                    return at, _variance(var_of, i, len(heap) + 1)
                if self.head(service, at) > 0:  # an arrival: whether it comes in time is itself uncertain
                    var_of[i] += load.time_of(service).mean ** 2
                self.taken[service] += 1
            time = load.time_of(service)
            var_of[i] += time.sd**2
            heapq.heappush(heap, (at + time.mean, i))
        return _extrapolate(load, target, last - self.taken[target], heap, self.taken[target])


def _queue(load: Load, service: int, n: int, youngest: float) -> list[float]:
    """The creation times of the first n tickets of a queue drawn more than `youngest` minutes ago: the known
    heads, the rest spread evenly between the last of them (or the oldest ticket) and `youngest`."""
    heads = [-w for w in load.heads.get(service, ()) if w > youngest][:n]
    if len(heads) == n:
        return heads
    if heads:
        return heads + _spread(n - len(heads) + 1, -heads[-1], youngest)[1:]
    return _spread(n, max(load.oldest.get(service, youngest), youngest), youngest)


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
    serving = max(sum(1 for d in load.desks if d.open and target in d.levels), 1)
    return start + left * time.mean / serving, left * time.sd**2 / serving
