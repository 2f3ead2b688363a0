"""Counters' usual hours (server/queue/rota.py): learned from the days before, used for the breaks ahead."""

import math

from server.queue.rota import (
    DAY,
    PAUSE_MINUTES,
    day_periods,
    off_from_now,
    pause_left,
    pause_lengths,
    typical_pause,
    usual_hours,
)


def hm(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def changes(*moments: str) -> list[tuple[float, bool]]:
    """Alternating opens and closes, starting with an open."""
    return [(hm(m), i % 2 == 0) for i, m in enumerate(moments)]


def test_a_day_with_a_break_has_two_open_periods():
    periods = day_periods(changes("08:00", "10:00", "10:15", "12:00"), False, last_ticket=hm("13:00"))
    assert periods == [(hm("08:00"), hm("10:00")), (hm("10:15"), hm("12:00"))]


def test_closing_after_the_last_ticket_of_the_day_is_the_work_done_not_the_rota():
    # Open until the queue was empty at 13:40; the last ticket was drawn at 12:58.
    periods = day_periods(changes("08:00", "13:40"), False, last_ticket=hm("12:58"))
    assert periods == [(hm("08:00"), DAY)]


def test_a_counter_closed_before_the_last_ticket_ended_its_shift():
    periods = day_periods(changes("08:10", "12:00"), False, last_ticket=hm("12:58"))
    assert periods == [(hm("08:10"), hm("12:00"))]


def test_a_counter_left_open_overnight_is_open_from_midnight():
    assert day_periods([(hm("09:00"), False)], True, last_ticket=None) == [(0.0, hm("09:00"))]


def test_the_usual_hours_are_what_held_on_most_days():
    usual_break = [(hm("08:00"), hm("10:00")), (hm("10:15"), DAY)]
    late_break = [(hm("08:00"), hm("11:00")), (hm("11:15"), DAY)]
    hours = usual_hours([usual_break, usual_break, late_break])
    assert hours == [(hm("08:00"), hm("10:00")), (hm("10:15"), DAY)]


def test_a_counter_open_on_few_days_has_no_usual_hours():
    assert usual_hours([[(hm("08:00"), hm("12:00"))], [], []]) == []


USUAL = [(hm("08:00"), hm("10:00")), (hm("10:15"), DAY)]


def test_an_open_counter_expects_its_break_ahead():
    assert off_from_now(USUAL, hm("09:30"), is_open=True) == ((30.0, 45.0),)
    assert off_from_now(USUAL, hm("10:30"), is_open=True) == ()


def test_a_counter_closed_for_its_break_comes_back_when_it_usually_does():
    assert off_from_now(USUAL, hm("10:05"), is_open=False) == ((0.0, 10.0),)


def test_a_counter_closed_within_its_usual_hours_is_not_expected_today():
    assert off_from_now(USUAL, hm("11:00"), is_open=False) == ((0.0, math.inf),)


def test_a_counter_that_closed_for_the_day_is_off_for_the_rest_of_it():
    shift = [(hm("08:10"), hm("12:00"))]
    assert off_from_now(shift, hm("11:00"), is_open=True) == ((60.0, math.inf),)


def test_a_busy_counter_past_its_usual_closing_stops_once_free():
    shift = [(hm("08:10"), hm("12:00"))]
    assert off_from_now(shift, hm("12:03"), is_open=True, busy=True) == ((0.0, math.inf),)
    # Idle and open outside its hours, it has just opened early: it works on.
    assert off_from_now(USUAL, hm("10:05"), is_open=True, busy=False) == ()


def test_a_pause_lasts_from_paused_to_open_again():
    changes = [(480.0, "open"), (600.0, "paused"), (612.0, "open"), (700.0, "paused"), (705.0, "paused"),
               (720.0, "open"), (1000.0, "paused"), (1030.0, "closed")]
    assert pause_lengths(changes) == [12.0, 20.0]  # a second pause press changes nothing; paused then closed: no pause
    assert pause_lengths([(600.0, "paused")]) == []  # never back that day


def test_the_typical_pause_is_the_median_and_has_a_default():
    assert typical_pause([5.0, 7.0, 60.0]) == 7.0
    assert typical_pause([]) == PAUSE_MINUTES


def test_a_paused_counter_is_back_after_the_rest_of_its_pause_then_due_soon_then_given_up():
    assert pause_left(12.0, 2.0) == 10.0
    assert pause_left(12.0, 11.0) == 3.0  # overdue or nearly: a quarter of a pause
    assert pause_left(12.0, 36.0) is None
