# ruff: noqa: F811  (small_day is a fixture imported from test_stats, used as a parameter)
"""Statistics breakdowns and exports through the API: CSV and XLSX carry the same numbers as the JSON."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from server.stats.export import XLSX_TYPE, columns, to_csv, to_xlsx

from .helpers import assert_error
from .test_stats import DAY, small_day  # noqa: F401  (the fixture: a small day with known numbers)

BREAKDOWNS = ("service", "counter", "clerk", "hour", "weekday", "day")


def flat(row: dict) -> dict:
    """A JSON row in the export's columns."""
    out = {k: row[k] for k in ("issued", "served", "no_show", "cancelled", "transferred", "refused", "recalled")}
    out |= {f"refused_{k}": n for k, n in row["refusals"].items()}
    for name in ("wait", "walk", "service"):
        out |= {f"{name}_{m}": v for m, v in row[f"{name}_minutes"].items()}
    return out | {"service_level": row["service_level"]}


def json_table(api, by: str) -> dict:
    kpis = api.get(f"/offices/mitte/stats?{DAY}&by={by}", "supervisor").get_json()
    assert kpis["by"] == by
    return {str(row["key"]): flat(row) for row in kpis["rows"]} | {"total": flat(kpis["total"])}


def as_number(cell):
    if cell in ("", None):
        return None
    return float(cell)


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_each_breakdown_has_rows_with_a_key_and_a_label(api, small_day, by):
    kpis = api.get(f"/offices/mitte/stats?{DAY}&by={by}", "supervisor").get_json()
    assert kpis["rows"] and all({"key", "label", "issued", "wait_minutes"} <= set(r) for r in kpis["rows"])
    assert sum(r["served"] for r in kpis["rows"]) == kpis["total"]["served"] == 2


def test_by_hour_puts_the_waits_in_the_hour_the_tickets_were_drawn(api, small_day):
    hours = api.get(f"/offices/mitte/stats?{DAY}&by=hour", "supervisor").get_json()["rows"]
    assert [(r["key"], r["label"], r["issued"], r["wait_minutes"]["mean"]) for r in hours] == [(10, "10:00", 4, 12.5)]


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_csv_has_the_numbers_of_the_json(api, small_day, by):
    resp = api.get(f"/offices/mitte/stats?{DAY}&by={by}", "supervisor", headers={"Accept": "text/csv"})
    assert resp.mimetype == "text/csv"
    header, *rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert header == columns(by)
    expected = json_table(api, by)
    got = {row[0]: {c: as_number(v) for c, v in zip(header[1:-1], row[1:-1], strict=True)} for row in rows}
    assert got == expected


def test_xlsx_has_the_numbers_of_the_json_by_accept_or_format(api, small_day):
    for extra, headers in (("", {"Accept": XLSX_TYPE}), ("&format=xlsx", {})):
        resp = api.get(f"/offices/mitte/stats?{DAY}&by=counter{extra}", "supervisor", headers=headers)
        assert resp.status_code == 200 and resp.mimetype == XLSX_TYPE
        assert "civicqueue-mitte-2026-11-26-2026-11-26-counter.xlsx" in resp.headers["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(resp.data))["counter"]
        header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert header == columns("counter")
        got = {str(r[0]): dict(zip(header[1:-1], r[1:-1], strict=True)) for r in rows}
        assert got == json_table(api, "counter")


def test_xlsx_of_all_breakdowns_has_one_sheet_each(api, small_day):
    resp = api.get(f"/offices/mitte/stats?{DAY}&by=all&format=xlsx", "supervisor")
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == list(BREAKDOWNS)
    for by in BREAKDOWNS:
        rows = list(book[by].iter_rows(values_only=True))
        assert rows[-1][0] == "total" and rows[-1][1] == 4


@pytest.mark.parametrize(("query", "code"), [
    ("by=office", "invalid_breakdown"),
    ("by=all", "invalid_breakdown"),  # all breakdowns at once only as XLSX sheets
    ("format=pdf", "invalid_format"),
])
def test_a_bad_breakdown_or_format_is_422(api, query, code):
    assert_error(api.get(f"/offices/mitte/stats?{DAY}&{query}", "supervisor"), 422, code)


def test_a_label_that_looks_like_a_formula_stays_text(api, small_day):
    kpis = api.get(f"/offices/mitte/stats?{DAY}", "supervisor").get_json()
    kpis["rows"][0]["label"] = "=HYPERLINK(1)"
    assert next(csv.reader(io.StringIO(to_csv(kpis).splitlines()[1])))[-1] == "'=HYPERLINK(1)"
    sheet = load_workbook(io.BytesIO(to_xlsx([kpis])))["service"]
    assert sheet.cell(row=2, column=len(columns("service"))).value == "'=HYPERLINK(1)"
