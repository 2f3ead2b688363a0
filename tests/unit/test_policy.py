"""The calling policy: priority classes, target-wait overrides, service levels, FIFO otherwise."""

from datetime import datetime, timedelta, timezone

from server.queue.policy import Candidate, CounterServices, Policy, PriorityClass, people_ahead, pick_next, rank

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
A, B, C = 1, 2, 3  # service ids


def ticket(id, service=A, minute=0, cls=PriorityClass.NORMAL, target=None, counter=None, enqueued_minute=None):
    created = T0 + timedelta(minutes=minute)
    enqueued = T0 + timedelta(minutes=minute if enqueued_minute is None else enqueued_minute)
    return Candidate(id=id, service_id=service, created_at=created, enqueued_at=enqueued, priority_class=cls,
                     target_wait=timedelta(minutes=target) if target else None, counter_id=counter)


def at(minute):
    return T0 + timedelta(minutes=minute)


def test_fifo_within_a_service():
    waiting = [ticket(3, minute=2), ticket(1, minute=0), ticket(2, minute=1)]
    assert [t.id for t in rank(waiting, CounterServices(9, {A: 0}), at(5))] == [1, 2, 3]


def test_nothing_waiting_gives_none():
    assert pick_next([], CounterServices(9, {A: 0}), at(0)) is None


def test_counter_only_takes_its_own_services():
    waiting = [ticket(1, service=B, minute=0), ticket(2, service=C, minute=1)]
    assert pick_next(waiting, CounterServices(9, {A: 0}), at(5)) is None
    assert pick_next(waiting, CounterServices(9, {C: 0}), at(5)).id == 2


def test_multi_service_counter_serves_its_first_service_first():
    waiting = [ticket(1, service=B, minute=0), ticket(2, service=A, minute=5)]
    counter = CounterServices(9, {A: 0, B: 1})
    assert pick_next(waiting, counter, at(6)).id == 2


def test_second_service_is_served_when_the_first_is_empty():
    waiting = [ticket(1, service=B, minute=0)]
    assert pick_next(waiting, CounterServices(9, {A: 0, B: 1}), at(6)).id == 1


def test_equal_levels_mean_longest_wait_across_services():
    waiting = [ticket(1, service=B, minute=0), ticket(2, service=A, minute=5)]
    assert pick_next(waiting, CounterServices(9, {A: 0, B: 0}), at(6)).id == 1


def test_levels_can_be_switched_off_per_office():
    waiting = [ticket(1, service=B, minute=0), ticket(2, service=A, minute=5)]
    policy = Policy(service_levels=False)
    assert pick_next(waiting, CounterServices(9, {A: 0, B: 1}), at(6), policy).id == 1


def test_higher_priority_class_goes_first():
    waiting = [
        ticket(1, minute=0),
        ticket(2, minute=1, cls=PriorityClass.PRIORITY_NEED),
        ticket(3, minute=2, cls=PriorityClass.APPOINTMENT_DUE),
        ticket(4, minute=3, cls=PriorityClass.TRANSFER_BACK),
    ]
    assert [t.id for t in rank(waiting, CounterServices(9, {A: 0}), at(4))] == [3, 4, 2, 1]


def test_priority_class_beats_service_level():
    waiting = [ticket(1, service=A, minute=0), ticket(2, service=B, minute=1, cls=PriorityClass.APPOINTMENT_DUE)]
    assert pick_next(waiting, CounterServices(9, {A: 0, B: 1}), at(2)).id == 2


def test_ticket_past_its_target_wait_is_taken_first():
    waiting = [
        ticket(1, service=A, minute=10, cls=PriorityClass.APPOINTMENT_DUE),
        ticket(2, service=B, minute=0, target=15),
    ]
    counter = CounterServices(9, {A: 0, B: 1})
    assert pick_next(waiting, counter, at(14)).id == 1  # not yet overdue
    assert pick_next(waiting, counter, at(16)).id == 2  # overdue beats class and level


def test_most_overdue_goes_first():
    waiting = [ticket(1, minute=5, target=10), ticket(2, service=B, minute=0, target=30),
               ticket(3, minute=1, target=10)]
    assert [t.id for t in rank(waiting, CounterServices(9, {A: 0, B: 0}), at(40))] == [2, 3, 1]


def test_target_override_can_be_switched_off():
    waiting = [ticket(1, service=A, minute=10), ticket(2, service=B, minute=0, target=5)]
    policy = Policy(overdue_first=False)
    assert pick_next(waiting, CounterServices(9, {A: 0, B: 1}), at(30), policy).id == 1


def test_ticket_transferred_to_a_counter_only_goes_to_that_counter_and_first():
    waiting = [ticket(1, service=A, minute=0), ticket(2, service=B, minute=5, counter=9)]
    assert pick_next(waiting, CounterServices(9, {A: 0}), at(6)).id == 2
    assert pick_next(waiting, CounterServices(8, {A: 0, B: 0}), at(6)).id == 1


def test_front_position_is_an_earlier_queue_time():
    waiting = [ticket(1, minute=0), ticket(2, minute=10, enqueued_minute=-1)]
    assert pick_next(waiting, CounterServices(9, {A: 0}), at(11)).id == 2


def test_people_ahead_counts_only_the_same_queue():
    waiting = [ticket(1, minute=0), ticket(2, service=B, minute=1), ticket(3, minute=2), ticket(4, minute=3)]
    assert people_ahead(waiting[3], waiting, at(4)) == 2
    assert people_ahead(waiting[1], waiting, at(4)) == 0
    assert people_ahead(waiting[0], waiting, at(4)) == 0


def test_policy_from_dict_defaults_to_on():
    assert Policy.from_dict(None) == Policy(overdue_first=True, service_levels=True)
    assert Policy.from_dict({"overdue_first": False}).overdue_first is False
