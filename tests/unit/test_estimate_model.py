"""The learned estimate model (server/queue/estimate.py) and the cut-off forecast, without a database."""

import math
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from server.queue.cutoff import closing_time, cutoff_at
from server.queue.estimate import (
    PICKUP_MINUTES,
    SCENARIOS,
    Calls,
    Desk,
    Load,
    ServiceTime,
    _slices,
    forecast,
    learn,
    measure,
    pickups,
)

A, B = 1, 2
TIMES = {A: ServiceTime(10.0, 3.0), B: ServiceTime(4.0, 1.0)}
BERLIN = ZoneInfo("Europe/Berlin")


def load(*desks: Desk, waiting=None, **kw) -> Load:
    return Load(desks=tuple(desks), waiting=waiting or {}, times=TIMES, **kw)


def test_without_history_the_configured_minutes_are_the_service_time():
    learned = learn([], configured=8.0)
    assert learned.mean == 8.0 and learned.measured == 0


def test_measurements_replace_the_configured_minutes():
    learned = learn([(0.1, 12.0)] * 100, configured=8.0)
    assert 11.8 < learned.mean < 12.0


def test_old_measurements_fade():
    recent_fast = [(0.5, 4.0)] * 20
    old_slow = [(60.0, 20.0)] * 20
    assert learn(recent_fast + old_slow, configured=4.0).mean < 4.2
    assert learn([(1.0, 4.0)] * 20 + [(2.0, 20.0)] * 20, configured=4.0).mean > 10  # yesterday still counts


def test_the_next_in_line_at_an_idle_counter_waits_about_nothing():
    est = forecast(load(Desk({A: 0})), A, ahead=0)
    assert est.low == 0 and est.high <= 2


def test_the_estimate_grows_with_people_ahead():
    one, many = forecast(load(Desk({A: 0})), A, 1), forecast(load(Desk({A: 0})), A, 6)
    assert many.minutes == 6 * 10.0 and one.minutes == 10.0
    assert many.low > one.low and many.high > one.high


def test_more_counters_shorten_the_wait():
    one = forecast(load(Desk({A: 0})), A, 6)
    three = forecast(load(Desk({A: 0}), Desk({A: 0}), Desk({A: 0})), A, 6)
    assert three.minutes == 20.0 and three.high < one.high


def test_when_a_counter_closes_the_estimate_grows():
    both = load(Desk({A: 0}), Desk({A: 0}))
    after_closing = load(Desk({A: 0}))
    assert forecast(after_closing, A, 4).minutes > forecast(both, A, 4).minutes


def test_with_no_counter_open_there_is_no_number_but_a_reason():
    est = forecast(load(Desk({B: 0})), A, 3)
    assert (est.low, est.high, est.reason) == (None, None, "no_counter_open")
    assert est.as_dict() == {"low": None, "high": None, "reason": "no_counter_open"}


def test_a_free_counter_takes_its_clerks_pickup_time_and_a_prompt_one_gives_zero_to_zero():
    # Nothing measured: the default pickup, and the shortest range that reads "less than 1 min." (0-1).
    unknown = forecast(load(Desk({A: 0})), A, ahead=0)
    assert (unknown.low, unknown.high, unknown.minutes) == (0, 1, PICKUP_MINUTES)
    # Clerks who call a new ticket at once: 0-0 (read the same way), its middle where the call comes.
    prompt = forecast(load(Desk({A: 0}), pickup=learn([(0.1, 0.0)] * 200, PICKUP_MINUTES)), A, ahead=0)
    assert (prompt.low, prompt.high) == (0, 0) and prompt.minutes < 0.05
    # Slow ones, half a minute and more: 0-1 again; the other counters' uncertainty does not widen it.
    slow = learn([(0.1, 0.4), (0.1, 0.8)] * 100, PICKUP_MINUTES)
    busy_too = forecast(load(Desk({A: 0}), Desk({A: 0}, free_in=9.0, free_var=30.0), pickup=slow), A, ahead=0)
    assert (busy_too.low, busy_too.high) == (0, 1) and abs(busy_too.minutes - 0.6) < 0.05
    # A counter not free now: the pickup does not come into it.
    behind = forecast(load(Desk({A: 0}, free_in=3.0), pickup=slow), A, ahead=0)
    assert behind.minutes == 3.0


def test_pickups_are_calls_of_tickets_issued_while_their_counter_stood_free():
    t = [datetime(2026, 3, 2, 8, m, tzinfo=timezone.utc) for m in range(60)]
    log = [
        (1, "counter_opened", t[0], None),
        (1, "called", t[2], t[1]),  # issued a minute after the counter opened: 1 min
        (1, "finished", t[10], None),
        (1, "called", t[10], t[5]),  # waited for the counter's ticket: not a pickup
        (1, "no_show", t[12], None),
        (1, "called", t[15], t[13]),  # free since the no-show: 2 min
        (2, "called", t[16], t[14]),  # counter 2's history is not known: not a pickup
        (1, "finished", t[20], None),
        (1, "counter_paused", t[21], None),
        (1, "called", t[30], t[25]),  # issued during the pause: not a pickup
        (1, "counter_paused", t[31], None),
        (1, "finished", t[33], None),  # done while paused: still not free
        (1, "called", t[40], t[35]),
        (1, "counter_opened", t[41], None),
        (1, "called", t[41], t[38]),  # issued before the opening: waited for it
        (1, "finished", t[45], None),
        (1, "called", t[48], t[45]),  # issued as the ticket before finished: 3 min
    ]
    assert pickups(log) == [(t[2], 1.0), (t[15], 2.0), (t[48], 3.0)]


def test_a_shared_counter_serves_its_first_level_first():
    # The only counter for B takes A first (level 0): B waits for A's queue to clear.
    shared = load(Desk({A: 0, B: 1}), waiting={A: 3})
    alone = load(Desk({B: 0}), waiting={A: 3})
    assert forecast(shared, B, 0).minutes == 30.0
    assert forecast(alone, B, 0).minutes == PICKUP_MINUTES  # a free counter: the time its clerk takes to call


def test_a_shared_counter_at_the_same_level_takes_the_older_ticket_first():
    older_a = load(Desk({A: 0, B: 0}), waiting={A: 2}, oldest={A: 5.0})
    assert forecast(older_a, B, 0).minutes == 20.0  # both A tickets came before the new B ticket


def test_arrivals_of_a_first_level_service_come_before_a_later_level():
    quiet = load(Desk({A: 0, B: 1}), waiting={B: 2})
    busy = load(Desk({A: 0, B: 1}), waiting={B: 2}, arrivals={A: 0.2})
    assert forecast(busy, B, 2).minutes > forecast(quiet, B, 2).minutes


def test_an_overdue_ticket_is_taken_before_the_counters_first_level():
    plain = load(Desk({A: 0, B: 1}), waiting={A: 5})
    overdue = load(Desk({A: 0, B: 1}), waiting={A: 5}, target_waits={B: 15.0})
    assert forecast(plain, B, 0, age=20).minutes == 50.0
    assert forecast(overdue, B, 0, age=20).minutes == PICKUP_MINUTES


def test_a_busy_counter_is_free_after_its_current_ticket():
    est = forecast(load(Desk({A: 0}, free_in=7.0)), A, 0)
    assert est.minutes == 7.0 and est.low <= 7 <= est.high


def test_transfers_to_a_counter_go_first():
    est = forecast(load(Desk({A: 0}, transfers=2)), A, 0)
    assert est.minutes == 20.0


def test_a_ticket_that_has_run_long_is_expected_to_run_on():
    time = ServiceTime(10.0, 5.0)
    assert time.left(0.0) == (10.0, 25.0)
    assert time.left(5.0)[0] > 5.0  # past the short ones: more than mean - elapsed is left
    assert 0.0 < time.left(30.0)[0] < 10.0  # far past the mean: not zero, and not forever either
    assert time.left(24 * 60.0) == (10.0, 25.0)  # left "called" since yesterday: at most a whole service more
    assert ServiceTime(10.0, 0.0).left(4.0) == (6.0, 0.0)  # no spread: exactly the rest


def test_a_break_ahead_holds_up_the_next_call():
    # One counter, ten minutes a ticket, a break from minute 5 to 20: the ticket after the next one waits for it.
    assert forecast(load(Desk({A: 0})), A, 1).minutes == 10.0
    assert forecast(load(Desk({A: 0}, off=((5.0, 20.0),))), A, 1).minutes == 20.0


def test_a_counter_closing_for_the_day_leaves_the_queue_to_the_others():
    both = load(Desk({A: 0}), Desk({A: 0}))
    one_leaves = load(Desk({A: 0}), Desk({A: 0}, off=((5.0, math.inf),)))  # after the ticket it has now
    assert (forecast(both, A, 4).minutes, forecast(one_leaves, A, 4).minutes) == (20.0, 30.0)


def test_a_closed_counter_that_usually_opens_soon_counts_from_then():
    busy = Desk({A: 0}, free_in=30.0)
    assert forecast(load(busy), A, 0).minutes == 30.0
    assert forecast(load(busy, Desk({A: 0}, open=False, off=((0.0, 5.0),))), A, 0).minutes == 5.0


def test_only_closed_counters_give_no_number_even_if_they_open_later():
    est = forecast(load(Desk({A: 0}, open=False, off=((0.0, 5.0),))), A, 0)
    assert est.reason == "no_counter_open"


def test_the_queue_is_taken_as_it_is_not_spread_evenly():
    # Three A tickets: one 40 minutes old (overdue at 25), two just drawn. The B ticket drawn now waits for the
    # overdue one only; spread evenly from 40 to 0 minutes the second would be 30 minutes old at minute 10.
    overdue = dict(waiting={A: 3}, oldest={A: 40.0}, target_waits={A: 25.0})
    as_it_is = load(Desk({A: 1, B: 0}), heads={A: (40.0, 1.0, 0.5)}, **overdue)
    spread = load(Desk({A: 1, B: 0}), **overdue)
    assert forecast(as_it_is, B, 0).minutes == 10.0
    assert forecast(spread, B, 0).minutes == 20.0


def test_without_usual_hours_the_range_is_wider():
    queue = dict(waiting={A: 6})
    known = forecast(load(Desk({A: 0}), usual_hours=True, **queue), A, 6)
    unknown = forecast(load(Desk({A: 0}), usual_hours=False, **queue), A, 6)
    assert known.minutes == unknown.minutes
    assert unknown.high - unknown.low > known.high - known.low


def test_a_short_wait_starts_at_zero_and_keeps_its_middle_near_the_wait():
    est = forecast(load(Desk({A: 0}, free_in=2.0, free_var=4.0)), A, 0)
    assert est.low == 0 and est.high >= 3
    assert abs((est.low + est.high) / 2 - 2.0) <= 1.0


def test_the_first_of_two_busy_counters_is_free_sooner_than_either_one_on_average():
    # Two counters, each about 4 minutes from done, give or take 2: the first of them is free well before 4
    # (E[min] < min E), the second after 4. Played with the means alone, both were free at exactly 4.
    two = load(Desk({A: 0}, free_in=4.0, free_var=4.0), Desk({A: 0}, free_in=4.0, free_var=4.0))
    first, second = forecast(two, A, 0), forecast(two, A, 1)
    assert 2.5 < first.minutes < 3.6
    assert 4.4 < second.minutes < 6.0
    assert (first.minutes + second.minutes) / 2 == pytest.approx(4.0)  # the slices keep the mean
    certain = load(Desk({A: 0}, free_in=4.0), Desk({A: 0}, free_in=4.0))
    assert forecast(certain, A, 0).minutes == forecast(certain, A, 1).minutes == 4.0  # nothing to be unsure of


def test_one_busy_counter_is_expected_free_after_its_mean_remaining_time():
    est = forecast(load(Desk({A: 0}, free_in=6.0, free_var=9.0)), A, 0)
    assert est.minutes == pytest.approx(6.0)
    assert est.low <= 6 <= est.high


def test_the_slices_of_a_remaining_time_keep_its_mean_and_variance():
    slices = _slices(3.0, 4.0)
    means = [m for m, _ in slices]
    assert len(slices) == SCENARIOS and means == sorted(means) and means[0] < 3.0 < means[-1]
    assert sum(means) / SCENARIOS == pytest.approx(3.0)
    assert sum(v + (m - 3.0) ** 2 for m, v in slices) / SCENARIOS == pytest.approx(4.0)  # total variance
    assert _slices(3.0, 0.0) == ((3.0, 0.0),) * SCENARIOS and _slices(0.0, 0.0) == ((0.0, 0.0),) * SCENARIOS


def test_each_busy_counter_takes_every_slice_once_in_another_order():
    busy = load(Desk({A: 0}, free_in=5.0, free_var=4.0), Desk({A: 0}), Desk({B: 0}, free_in=2.0, free_var=1.0))
    starts = busy.starts
    assert len(starts) == SCENARIOS
    assert sorted(s[0] for s in starts) == list(_slices(5.0, 4.0)) and {s[1] for s in starts} == {(0.0, 0.0)}
    assert sorted(s[2] for s in starts) == list(_slices(2.0, 1.0))
    assert len({(s[0], s[2]) for s in starts}) == SCENARIOS
    assert load(Desk({A: 0}, free_in=5.0), Desk({A: 0})).starts == (((5.0, 0.0), (0.0, 0.0)),)


def test_a_very_long_queue_is_extrapolated_not_played_to_the_end():
    est = forecast(load(Desk({A: 0})), A, 20_000)
    assert est.minutes == 200_000.0


# --- cut-off -------------------------------------------------------------------------------------------------
HOURS = {"mon": [["08:00", "12:00"], ["13:00", "15:30"]], "sat": [["09:00", "24:00"]]}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_the_office_closes_at_the_end_of_todays_last_period():
    monday = utc(2026, 11, 23, 9, 0)
    assert closing_time(HOURS, BERLIN, monday) == utc(2026, 11, 23, 14, 30)  # 15:30 CET
    assert closing_time(HOURS, BERLIN, utc(2026, 11, 24, 9, 0)) is None  # no hours on Tuesday
    assert closing_time(HOURS, BERLIN, utc(2026, 11, 28, 9, 0)) == utc(2026, 11, 28, 23, 0)  # until midnight


def test_the_cutoff_leaves_time_for_the_wait_and_the_service():
    assert cutoff_at(HOURS, BERLIN, utc(2026, 11, 23, 9, 0), 45.0) == utc(2026, 11, 23, 13, 45)
    assert cutoff_at({}, BERLIN, utc(2026, 11, 23, 9, 0), 45.0) is None


def test_the_cutoff_is_in_local_time_on_a_dst_day():
    # 2026-03-29: Berlin springs forward; 15:30 CEST is 13:30 UTC.
    sunday_hours = {"sun": [["10:00", "15:30"]]}
    assert closing_time(sunday_hours, BERLIN, utc(2026, 3, 29, 9, 0)) == utc(2026, 3, 29, 13, 30)
    assert closing_time({"sun": [["10:00", "15:30"]]}, BERLIN, utc(2026, 10, 25, 9, 0)) == utc(2026, 10, 25, 14, 30)


def test_survival_of_a_log_normal_time():
    time = ServiceTime(10.0, 5.0)
    assert time.survives(0.0) == 1.0
    assert time.survives(10.0 / math.sqrt(1.25)) == pytest.approx(0.5)  # the median: mean / sqrt(1 + cv^2)
    assert time.survives(40.0) < 0.01
    assert ServiceTime(3.0, 0.0).survives(2.0) == 1.0 and ServiceTime(3.0, 0.0).survives(4.0) == 0.0


def test_measure_weighs_by_age_without_a_prior():
    assert measure([]) is None
    assert measure([(0.0, 2.0), (0.0, 4.0)]) == ServiceTime(3.0, 1.0, measured=2.0)
    week_old = measure([(7.0, 2.0), (0.0, 4.0)])  # counts half
    assert week_old.mean == pytest.approx(10 / 3) and week_old.measured == 1.5


WALK, GONE, SERVE = ServiceTime(0.7, 0.35), ServiceTime(2.7, 0.4), ServiceTime(8.0, 4.0)


def test_a_ticket_just_called_has_its_walk_and_whole_service_ahead_or_a_no_show():
    mean, var = Calls(WALK, GONE, no_show=0.04).left(0.0, SERVE)
    assert mean == pytest.approx(0.96 * (0.7 + 8.0) + 0.04 * 2.7)
    assert var == pytest.approx(16.8664)


def test_the_longer_nobody_comes_the_likelier_a_no_show_and_the_sooner_the_counter_is_free():
    calls = Calls(WALK, GONE, no_show=0.04)
    lefts = [calls.left(e, SERVE)[0] for e in (0.5, 1.0, 1.5, 2.0, 3.0)]
    assert lefts == sorted(lefts, reverse=True)
    assert lefts[0] == pytest.approx(8.00, abs=0.01)  # most customers are still walking up
    assert lefts[3] == pytest.approx(1.84, abs=0.01)  # past nearly every walk: the clerk will give up soon
    assert lefts[4] == pytest.approx(0.66, abs=0.01)


def test_without_no_shows_on_record_a_ticket_not_started_is_walked_up_to():
    mean, var = Calls(WALK, None, no_show=0.0).left(1.0, SERVE)
    assert mean == pytest.approx(WALK.left(1.0)[0] + 8.0)
    assert var == pytest.approx(WALK.left(1.0)[1] + 16.0)
    # later than any walk and any no-show on record: still taken to be coming, for at most a walk and a service
    assert Calls(WALK, GONE, no_show=0.04).left(10.0, SERVE)[0] == pytest.approx(8.7)
