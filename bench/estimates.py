"""Estimate accuracy: `python -m bench.estimates [--days N] [--seeds 1,2,3] [--light]`.

Replays seeded synthetic days of the demo office through the real use cases (tests/support/simulation.py, on a
fresh SQLite database per seed) and compares the learned estimates with the baseline formula (average service
minutes ÷ open counters × people ahead): coverage of the range, and the mean absolute error of its midpoint.
The first day of each seed has no history and is reported apart. Results go to bench/results-estimates.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from server.config import DEMO_CONFIG, ROOT, load_settings
from server.services import estimates
from server.services.context import Context
from server.services.layout import import_layout
from tests.support import databases
from tests.support.simulation import DayPlan, accuracy, simulate_days

from .report import Row

OUTPUT = ROOT / "bench" / "results-estimates.md"
LIGHT = {8: 22, 9: 30, 10: 32, 11: 26, 12: 16}  # a quieter office: short queues, noise dominates


def run_seed(seed: int, days: int, plan: DayPlan) -> list[dict]:
    """One fresh database, `days` consecutive days; the accuracy of each day."""
    estimates.clear_cache()
    with tempfile.TemporaryDirectory() as tmp:
        db = databases.migrated(databases.new_sqlite_url(Path(tmp)))
        try:
            ctx = Context(db=db)
            import_layout(ctx, load_settings(extra_files=[DEMO_CONFIG]))
            return [accuracy(day) for day in simulate_days(ctx, "mitte", date(2026, 3, 2), days, seed, plan)]
        finally:
            db.dispose()


def pooled(results: list[dict]) -> dict:
    n = sum(r["tickets"] for r in results)
    return {"tickets": n,
            "coverage": sum(r["coverage"] * r["tickets"] for r in results) / n,
            "mae": sum(r["mae"] * r["tickets"] for r in results) / n,
            "baseline_mae": sum(r["baseline_mae"] * r["tickets"] for r in results) / n}


def row(label: str, r: dict) -> str:
    ratio = r["mae"] / r["baseline_mae"] if r["baseline_mae"] else float("nan")
    return (f"| {label} | {r['tickets']} | {r['coverage']:.1%} | {r['mae']:.2f} | {r['baseline_mae']:.2f} "
            f"| {ratio:.2f} |")


def run(args: argparse.Namespace) -> dict[str, dict]:
    """Both office plans over every seed; write the markdown file; per plan the pooled days 2.. of all seeds."""
    seeds = [int(s) for s in args.seeds.split(",")]
    lines = ["# Estimate accuracy", "",
             "Produced by `.venv/bin/python -m bench.estimates`: seeded synthetic days of the demo office replayed "
             "through the real use cases (SQLite). Coverage: the share of tickets whose real wait (first call − "
             "issue) lies in the range given at issue. MAE: mean absolute error of the range's midpoint, and of "
             "the baseline formula (true mean service minutes ÷ open counters × people ahead), in minutes. "
             "Day 1 of each seed starts without history.", "",
             f"- seeds {args.seeds}, {args.days} days each", ""]
    later = {}
    for name, plan in PLANS:
        started = time.perf_counter()
        per_seed = {seed: run_seed(seed, args.days, plan) for seed in seeds}
        secs = time.perf_counter() - started
        lines += [f"## {name}", "", "| days | tickets | coverage | MAE learned | MAE baseline | ratio |",
                  "|---|---|---|---|---|---|"]
        lines.append(row("day 1 (no history)", pooled([r[0] for r in per_seed.values()])))
        later[name] = pooled([d for r in per_seed.values() for d in r[1:]])
        lines.append(row(f"days 2–{args.days}", later[name]))
        for seed, days in per_seed.items():
            lines.append(row(f"seed {seed}, days 2–{args.days}", pooled(days[1:])))
        lines += ["", f"({secs:.0f} s)", ""]
        print("\n".join(lines[-len(per_seed) - 6:]), flush=True)
    args.output.write_text("\n".join(lines))
    print(f"written to {args.output}")
    return later


PLANS = (("busy office (default DayPlan)", DayPlan()), ("quiet office", replace(DayPlan(), arrivals_per_hour=LIGHT)))
COVERAGE, MAE_RATIO = 0.80, 0.5  # issue 6: the range holds >= 80 % of real waits; MAE <= half the baseline's


def bench(argv: list[str] | None = None) -> list[Row]:
    """bench.suite's entry: coverage and MAE of days 2.. per plan. The issue's targets are for the busy day
    (the simulation test's DayPlan); the quiet office is shown against them for reference."""
    args = parse_args(argv)
    rows = []
    for (name, _plan), r in zip(PLANS, run(args).values(), strict=True):
        busy = name.startswith("busy")
        ratio = r["mae"] / r["baseline_mae"] if r["baseline_mae"] else float("nan")
        setup = f"sqlite, {name.split(' (')[0]}"
        rows += [
            Row(setup, f"estimate range holds the real wait, days 2–{args.days} ({r['tickets']} tickets)",
                f"{r['coverage']:.1%}", f">= {COVERAGE:.0%}" if busy else f"(>= {COVERAGE:.0%})",
                ("pass" if r["coverage"] >= COVERAGE else "FAIL") if busy else "info"),
            Row(setup, "estimate MAE of the midpoint vs the baseline formula",
                f"{r['mae']:.2f} vs {r['baseline_mae']:.2f} min ({ratio:.2f}x)",
                f"<= {MAE_RATIO:g}x" if busy else f"(<= {MAE_RATIO:g}x)",
                ("pass" if ratio <= MAE_RATIO else "FAIL") if busy else "info"),
        ]
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.estimates", description=__doc__.split("\n")[0])
    p.add_argument("--days", type=int, default=4, help="consecutive days per seed (4)")
    p.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated seeds (1,2,3,4,5)")
    p.add_argument("--output", type=Path, default=OUTPUT)
    args = p.parse_args(argv)
    os.environ.setdefault("QMS_SECRET_KEY", "bench")
    return args


def main(argv: list[str] | None = None) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main()
