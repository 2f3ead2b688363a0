"""Numbering: codes, range wrap, daily cap, and the service day in the office's time zone."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from server.queue import DailyCapReached
from server.queue.numbering import NumberRange, format_code, number_for, service_day, spoken_code

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_code_is_prefix_and_zero_padded_number():
    assert format_code("A", 42, NumberRange(1, 999)) == "A042"
    assert format_code("", 107, NumberRange(100, 199)) == "107"
    assert format_code("KFZ", 5, NumberRange(1, 9999)) == "KFZ0005"


def test_spoken_code_drops_leading_zeros():
    assert spoken_code("A042") == "A 42"
    assert spoken_code("105") == "105"


def test_numbers_count_up_from_the_range_start():
    rng = NumberRange(100, 199)
    assert [number_for(seq, rng).number for seq in (1, 2, 100)] == [100, 101, 199]


def test_range_wraps_to_its_start_and_counts_cycles():
    rng = NumberRange(1, 3)
    got = [(n.number, n.cycle) for n in (number_for(seq, rng) for seq in range(1, 8))]
    assert got == [(1, 0), (2, 0), (3, 0), (1, 1), (2, 1), (3, 1), (1, 2)]


def test_daily_cap_refuses_the_ticket_after_the_last():
    rng = NumberRange(1, 999)
    assert number_for(5, rng, daily_cap=5).number == 5
    with pytest.raises(DailyCapReached):
        number_for(6, rng, daily_cap=5)


def test_no_cap_means_unlimited():
    assert number_for(5000, NumberRange(1, 999)).cycle == 5


def test_invalid_ranges_are_refused():
    with pytest.raises(ValueError):
        NumberRange(10, 9)
    with pytest.raises(ValueError):
        number_for(0, NumberRange(1, 9))


@pytest.mark.parametrize(("moment", "expected"), [
    (utc(2026, 11, 26, 22, 59, 59), date(2026, 11, 26)),  # 23:59:59 in Berlin (CET, UTC+1)
    (utc(2026, 11, 26, 23, 0, 0), date(2026, 11, 27)),    # midnight in Berlin, still the 26th in UTC
    (utc(2026, 7, 1, 21, 59, 59), date(2026, 7, 1)),      # summer time (CEST, UTC+2)
    (utc(2026, 7, 1, 22, 0, 0), date(2026, 7, 2)),
])
def test_service_day_follows_the_office_clock_across_midnight(moment, expected):
    assert service_day(moment, BERLIN) == expected


def test_spring_forward_day_starts_and_ends_at_local_midnight():
    # 2026-03-29: clocks jump from 02:00 to 03:00 CET->CEST; the day is 23 hours long.
    assert service_day(utc(2026, 3, 28, 23, 0), BERLIN) == date(2026, 3, 29)  # 00:00 CET
    assert service_day(utc(2026, 3, 29, 0, 59), BERLIN) == date(2026, 3, 29)  # 01:59 CET
    assert service_day(utc(2026, 3, 29, 1, 0), BERLIN) == date(2026, 3, 29)   # 03:00 CEST
    assert service_day(utc(2026, 3, 29, 21, 59), BERLIN) == date(2026, 3, 29)  # 23:59 CEST
    assert service_day(utc(2026, 3, 29, 22, 0), BERLIN) == date(2026, 3, 30)  # 00:00 CEST


def test_fall_back_day_includes_the_repeated_hour():
    # 2026-10-25: clocks go from 03:00 CEST back to 02:00 CET; the day is 25 hours long.
    assert service_day(utc(2026, 10, 24, 21, 59), BERLIN) == date(2026, 10, 24)  # 23:59 CEST
    assert service_day(utc(2026, 10, 24, 22, 0), BERLIN) == date(2026, 10, 25)  # 00:00 CEST
    assert service_day(utc(2026, 10, 25, 0, 30), BERLIN) == date(2026, 10, 25)  # 02:30 CEST (first)
    assert service_day(utc(2026, 10, 25, 1, 30), BERLIN) == date(2026, 10, 25)  # 02:30 CET (again)
    assert service_day(utc(2026, 10, 25, 22, 59), BERLIN) == date(2026, 10, 25)  # 23:59 CET
    assert service_day(utc(2026, 10, 25, 23, 0), BERLIN) == date(2026, 10, 26)  # 00:00 CET


def test_service_day_refuses_naive_times():
    with pytest.raises(ValueError):
        service_day(datetime(2026, 11, 26, 12, 0), BERLIN)
