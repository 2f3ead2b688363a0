"""Statistics through the API: a small day driven with the fake clock, checked against hand-computed numbers."""

from __future__ import annotations

import csv
import io

import pytest

from .helpers import act, assert_error, call_next, issue, snapshot

DAY = "from=2026-11-26&to=2026-11-26"


@pytest.fixture
def small_day(api, clock):
    """09:00 A001, 09:02 A002, 09:04 A003 (ausweis), 09:05 B001 (meldewesen), then at schalter-1:
    A001 called 09:10 (waited 10), started 09:11 (walk 1), finished 09:17 (service 6);
    A002 called 09:17 (waited 15), recalled 09:18, started 09:20 (walk 2 from the recall), finished 09:24 (service 4).
    A003 and B001 still wait."""
    a1 = issue(api)
    clock.advance(minutes=2)
    a2 = issue(api)
    clock.advance(minutes=2)
    issue(api)
    clock.advance(minutes=1)
    issue(api, "meldewesen")
    clock.advance(minutes=5)
    assert call_next(api)["id"] == a1["id"]
    clock.advance(minutes=1)
    act(api, a1["id"], "start")
    clock.advance(minutes=6)
    act(api, a1["id"], "finish")
    assert call_next(api)["id"] == a2["id"]
    clock.advance(minutes=1)
    act(api, a2["id"], "recall")
    clock.advance(minutes=2)
    act(api, a2["id"], "start")
    clock.advance(minutes=4)
    act(api, a2["id"], "finish")


def by_service(kpis: dict) -> dict[str, dict]:
    return {row["service"]: row for row in kpis["services"]}


def test_a_supervisor_gets_the_days_counts_and_times(api, small_day):
    resp = api.get(f"/offices/mitte/stats?{DAY}", "supervisor")
    assert resp.status_code == 200 and resp.is_json
    kpis = resp.get_json()
    assert (kpis["office"], kpis["from"], kpis["to"]) == ("mitte", "2026-11-26", "2026-11-26")
    ausweis = by_service(kpis)["ausweis"]
    assert (ausweis["issued"], ausweis["served"], ausweis["recalled"], ausweis["no_show"]) == (3, 2, 1, 0)
    assert ausweis["wait_minutes"]["n"] == 2
    assert ausweis["wait_minutes"]["mean"] == 12.5  # (10 + 15) / 2
    assert ausweis["wait_minutes"]["max"] == 15
    assert ausweis["walk_minutes"]["mean"] == 1.5  # (1 + 2) / 2
    assert ausweis["service_minutes"]["mean"] == 5.0  # (6 + 4) / 2
    assert ausweis["service_level"] == 100.0  # both called within the 30-minute target
    meldewesen = by_service(kpis)["meldewesen"]
    assert (meldewesen["issued"], meldewesen["served"], meldewesen["wait_minutes"]["n"]) == (1, 0, 0)
    total = kpis["total"]
    assert (total["service"], total["issued"], total["served"], total["wait_minutes"]["mean"]) == (
        None, 4, 2, 12.5)


def test_an_admin_gets_the_same_stats_and_reading_them_changes_nothing(api, small_day):
    before = snapshot(api)
    supervisor = api.get(f"/offices/mitte/stats?{DAY}", "supervisor").get_json()
    assert api.get(f"/offices/mitte/stats?{DAY}", "admin").get_json() == supervisor
    assert snapshot(api) == before


def test_stats_default_to_today_in_the_offices_time_zone(api, small_day):
    kpis = api.get("/offices/mitte/stats", "supervisor").get_json()
    assert (kpis["from"], kpis["to"], kpis["total"]["issued"]) == ("2026-11-26", "2026-11-26", 4)


def test_a_day_without_tickets_counts_zero(api, small_day):
    kpis = api.get("/offices/mitte/stats?from=2026-11-25&to=2026-11-25", "supervisor").get_json()
    assert kpis["total"]["issued"] == 0 and kpis["total"]["wait_minutes"]["mean"] is None
    nord = api.get(f"/offices/nord/stats?{DAY}", "admin").get_json()
    assert nord["total"]["issued"] == 0


def test_stats_as_csv_have_a_header_row_and_one_row_per_service(api, small_day):
    resp = api.get(f"/offices/mitte/stats?{DAY}", "supervisor", headers={"Accept": "text/csv"})
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert "civicqueue-mitte-2026-11-26-2026-11-26.csv" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    header = rows[0]
    assert header[:3] == ["service", "issued", "served"]
    assert {"wait_mean", "service_mean", "service_level"} <= set(header)
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(table) == {"ausweis", "meldewesen", "abholung", "beglaubigung", "total"}
    assert (table["ausweis"]["issued"], table["ausweis"]["served"]) == ("3", "2")
    assert float(table["ausweis"]["wait_mean"]) == 12.5
    assert table["total"]["issued"] == "4"


def test_json_is_the_default_when_both_are_acceptable(api, small_day):
    resp = api.get(f"/offices/mitte/stats?{DAY}", "supervisor", headers={"Accept": "*/*"})
    assert resp.is_json


@pytest.mark.parametrize(("query", "code"), [
    ("from=2026-11-27&to=2026-11-26", "invalid_range"),
    ("from=2025-01-01&to=2026-11-26", "invalid_range"),  # more than 366 days
    ("from=2026-13-01", "invalid_date"),
    ("from=yesterday", "invalid_date"),
    ("to=26.11.2026", "invalid_date"),
    ("from=9999-12-31&to=9999-12-31", "invalid_date"),
    ("from=0001-01-01&to=0001-01-01", "invalid_date"),
])
def test_a_bad_date_or_range_is_422(api, query, code):
    assert_error(api.get(f"/offices/mitte/stats?{query}", "supervisor"), 422, code)
    assert_error(api.get(f"/offices/mitte/stats?{query}", "supervisor", headers={"Accept": "text/csv"}), 422, code)


def test_a_clerk_may_not_read_stats(api):
    assert_error(api.get(f"/offices/mitte/stats?{DAY}", "clerk"), 403, "wrong_role")
    assert_error(api.get(f"/offices/mitte/stats?{DAY}", "supervisor_nord"), 403, "wrong_office")
