"""Waiting-time estimates (the baseline model; learned estimates come later)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Estimate:
    low: int
    high: int

    def as_dict(self) -> dict:
        return {"low": self.low, "high": self.high}


def estimate_wait(people_ahead: int, service_minutes: float, open_counters: int) -> Estimate:
    """A range in minutes: people ahead x service minutes, shared by the counters open for it.

    With no counter open the office is assumed to staff one, so the range is never empty.
    """
    counters = max(open_counters, 1)
    mean = (people_ahead + 0.5) * service_minutes / counters
    low = math.floor(mean * 0.7)
    high = max(low + 1, math.ceil(mean * 1.4))
    return Estimate(low=low, high=high)
