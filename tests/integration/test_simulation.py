"""Seeded synthetic days replayed through the real use cases: the learned estimates against the baseline formula.

Day 1 starts without history (configured service minutes); days 2 and 3 are judged, with the days before them
as history, as in an office that has been running.
"""

from datetime import date

from server.services import estimates
from tests.support.simulation import accuracy, simulate_days


def test_learned_estimates_cover_the_real_wait_and_halve_the_baseline_error(sqlite_ctx):
    estimates.clear_cache()
    days = simulate_days(sqlite_ctx, "mitte", date(2026, 3, 2), 3, seed=7)
    judged = accuracy([o for day in days[1:] for o in day])
    assert judged["tickets"] > 250 and judged["without_estimate"] == 0
    assert judged["coverage"] >= 0.8, judged
    assert judged["mae"] <= 0.5 * judged["baseline_mae"], judged


def test_the_simulated_day_is_the_same_for_the_same_seed(sqlite_ctx):
    first = simulate_days(sqlite_ctx, "mitte", date(2026, 3, 2), 1, seed=3)[0]
    again = simulate_days(sqlite_ctx, "mitte", date(2026, 3, 9), 1, seed=3)[0]
    assert [(o.service, o.issued_at.time()) for o in first] == [(o.service, o.issued_at.time()) for o in again]
    assert all(o.wait is not None and o.wait >= 0 for o in first)
