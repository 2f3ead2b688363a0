"""The cut-off forecast: the latest moment a ticket drawn now is still served before the office closes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def closing_time(opening_hours: Mapping[str, list], tz: ZoneInfo, now: datetime) -> datetime | None:
    """The end of today's last opening period (UTC), or None when the office has no hours today."""
    local = now.astimezone(tz)
    periods = opening_hours.get(WEEKDAYS[local.weekday()]) or []
    if not periods:
        return None
    end = max(str(p[1]) for p in periods)
    if end >= "24:00":  # open until midnight
        closes = datetime.combine(local.date() + timedelta(days=1), time(0), tz)
    else:
        closes = datetime.combine(local.date(), time.fromisoformat(end), tz)
    return closes.astimezone(timezone.utc)


def cutoff_at(opening_hours: Mapping[str, list], tz: ZoneInfo, now: datetime,
              minutes_to_serve: float) -> datetime | None:
    """Closing time minus the wait and service a ticket drawn now would need.

    The queue is taken to stay as long as it is now (new tickets replace the ones served), so the wait of a
    ticket drawn later is today's. None: no opening hours today. A moment in the past: too late already.
    """
    closes = closing_time(opening_hours, tz, now)
    if closes is None:
        return None
    return closes - timedelta(minutes=minutes_to_serve)
