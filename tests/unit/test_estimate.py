from server.queue.estimate import estimate_wait


def test_estimate_grows_with_people_ahead_and_shrinks_with_counters():
    one = estimate_wait(10, 5.0, 1)
    two = estimate_wait(10, 5.0, 2)
    assert one.low < one.high
    assert two.high < one.high
    assert estimate_wait(20, 5.0, 1).low > one.low


def test_estimate_is_a_range_even_for_the_next_in_line():
    first = estimate_wait(0, 5.0, 1)
    assert (first.low, first.high) == (1, 4)


def test_no_open_counter_counts_as_one():
    assert estimate_wait(4, 5.0, 0) == estimate_wait(4, 5.0, 1)
