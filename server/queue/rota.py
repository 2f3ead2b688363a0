"""A counter's usual hours, learned from the days before: when it breaks, opens late or closes for the day; and
how long a pause usually lasts, so that a paused counter counts from when it is likely back.

A wait of half an hour spans the breaks and shift changes of the counters that serve it. Nobody enters them in
advance, but offices keep a rota, so the same counter tends to close and open at the same times each day. Times
are minutes of the office's local day (0-1440).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

Period = tuple[float, float]  # (from, until) minutes of the local day, or minutes from now
DAY = 1440.0


def day_periods(changes: Iterable[tuple[float, bool]], open_at_midnight: bool,
                last_ticket: float | None) -> list[Period]:
    """One counter's open periods over one day, from its state changes (minute, open afterwards?) in order.

    A counter that closed for the day after the day's last ticket was drawn closed because the work was done,
    not by rota: its last period runs to the end of the day (a longer queue would have kept it open).
    """
    periods, since = [], 0.0 if open_at_midnight else None
    for minute, is_open in changes:
        if is_open and since is None:
            since = minute
        elif not is_open and since is not None:
            periods.append((since, minute))
            since = None
    if since is not None:
        periods.append((since, DAY))
    elif periods and last_ticket is not None and periods[-1][1] >= last_ticket:
        periods[-1] = (periods[-1][0], DAY)
    return periods


def usual_hours(days: Sequence[Sequence[Period]]) -> list[Period]:
    """The periods in which the counter was open on more than half of the given days."""
    edges = sorted({e for periods in days for p in periods for e in p} | {0.0, DAY})
    usual: list[Period] = []
    for start, end in zip(edges, edges[1:], strict=False):
        mid = (start + end) / 2
        if 2 * sum(any(a <= mid < b for a, b in periods) for periods in days) > len(days):
            if usual and usual[-1][1] == start:
                usual[-1] = (usual[-1][0], end)
            else:
                usual.append((start, end))
    return usual


def off_from_now(usual: Sequence[Period], minute: float, is_open: bool, busy: bool = False) -> tuple[Period, ...]:
    """When the counter is expected not to call, in minutes from now (until: math.inf for the rest of the day).

    Only the usual hours from now on count. A counter closed now within them is taken not to come before its
    next usual opening. One open now outside them and busy is finishing its last ticket: it stops when free,
    until its next usual opening; idle, it has opened early and works until its next usual closing.
    """
    if is_open and busy and not any(a <= minute < b for a, b in usual):
        is_open = False
    off, start = [], None if is_open else 0.0
    for a, b in usual:
        if b <= minute or (a <= minute and not is_open):
            continue
        if start is not None and a - minute > start:
            off.append((start, a - minute))
        start = b - minute if b < DAY else None
    if start is not None:
        off.append((start, math.inf))
    return tuple(off)


PAUSE_MINUTES = 15.0  # a paused counter's expected pause while the office has none on record
PAUSE_GIVE_UP = 3.0


def pause_lengths(changes: Iterable[tuple[float, str]]) -> list[float]:
    """The minutes of each pause in one counter's state changes over one day ((minute, new state) in order): from
    'paused' to the next 'open'. A pause that ends in 'closed', or not at all, was the end of the day."""
    lengths, since = [], None
    for minute, state in changes:
        if state == "paused":
            since = minute if since is None else since
        elif state == "open" and since is not None:
            lengths.append(minute - since)
            since = None
        else:
            since = None
    return lengths


def typical_pause(lengths: Sequence[float]) -> float:
    """The median of the office's recent pauses; PAUSE_MINUTES without any."""
    return statistics.median(lengths) if lengths else PAUSE_MINUTES


def pause_left(typical: float, elapsed: float) -> float | None:
    """Minutes until a counter paused `elapsed` minutes ago is back; None once the pause has run PAUSE_GIVE_UP
    times its typical length (it is not coming back soon: counted as closed). One past its typical length is
    expected back within a quarter of it, not at once."""
    if elapsed >= PAUSE_GIVE_UP * typical:
        return None
    return max(typical - elapsed, typical / 4)
