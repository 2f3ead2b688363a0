"""The KPI tables as CSV and XLSX: one header row, one row per key of the breakdown, then the total row.

Both carry the same numbers as the JSON (minutes rounded to two places, the service level in percent)."""

from __future__ import annotations

import csv
import io

from .daily import COUNTED, REFUSALS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TIMES = (("wait", "wait_minutes"), ("walk", "walk_minutes"), ("service", "service_minutes"))
MEASURES = ("n", "mean", "median", "p90", "max")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def columns(dimension: str) -> list[str]:
    return [dimension, *COUNTED.values(), *(f"refused_{reason}" for reason in REFUSALS),
            *(f"{name}_{m}" for name, _ in TIMES for m in MEASURES), "service_level", "label"]


def table(kpis: dict) -> list[list]:
    """Header, rows and total of one breakdown, as plain values (numbers stay numbers)."""
    rows = [columns(kpis["by"])]
    for row in [*kpis["rows"], {**kpis["total"], "key": "total"}]:
        rows.append([row["key"], *(row[c] for c in COUNTED.values()),
                     *(row["refusals"].get(reason, 0) for reason in REFUSALS),
                     *(row[field][m] for _, field in TIMES for m in MEASURES),
                     row["service_level"], row["label"]])
    return rows


def _text(value):
    """A spreadsheet runs a cell that starts like a formula: a counter named "=HYPERLINK(...)" must stay text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and value != "-":
        return "'" + value
    return value


def to_csv(kpis: dict) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([["" if v is None else _text(v) for v in row] for row in table(kpis)])
    return out.getvalue()


def to_xlsx(breakdowns: list[dict]) -> bytes:
    """One sheet per breakdown, named after it."""
    # Imported here: openpyxl adds about 18 MiB to every server process, and only this export needs it.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for kpis in breakdowns:
        sheet = book.create_sheet(kpis["by"])
        for row in table(kpis):
            sheet.append([_text(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
