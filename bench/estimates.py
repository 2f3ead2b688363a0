"""Estimate accuracy: `python -m bench.estimates [--days N] [--seeds 11,12,13,14,15]`.

Replays seeded synthetic days of the demo office, busy and quiet, through the real use cases
(tests/support/simulation.py, on a fresh SQLite database per seed) and compares the learned estimates with the
baseline formula (average service minutes ÷ open counters × people ahead): coverage of the range, and the mean
absolute error of its midpoint. The first day of each seed has no history and is reported apart. It also times
every estimate the replay asks for (the kiosk's and the ticket's, on the issue path). Results go to
bench/results-estimates.md.

The model's constants were chosen on seeds 1-8 (and checked on 21-26); the default seeds 11-15 were not looked at
while tuning, so their figures are the honest ones.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from server.config import DEMO_CONFIG, ROOT, load_settings
from server.services import estimates
from server.services.context import Context
from server.services.layout import import_layout
from tests.support import databases
from tests.support.simulation import DayPlan, accuracy, quiet_plan, simulate_days

from .report import Row

OUTPUT = ROOT / "bench" / "results-estimates.md"


class Timed:
    """Times a few functions of server/services/estimates.py while a replay runs: calls and seconds of each.

    estimate_for is what issuing a ticket or showing the kiosk pays; forecast the model's share of it (the
    rest are the live reads, `_read_load`, at most once per change of the office, and the learning,
    `_learn_office`, at most once a minute: on the simulated clock minutes pass between most estimates).
    """

    NAMES = ("estimate_for", "forecast", "_read_load", "_learn_office")

    def __init__(self):
        self.calls = dict.fromkeys(self.NAMES, 0)
        self.seconds = dict.fromkeys(self.NAMES, 0.0)
        self.inner = {name: getattr(estimates, name) for name in self.NAMES}

    def wrap(self, name: str):
        inner = self.inner[name]

        def timed(*args, **kwargs):
            started = time.process_time()  # CPU time: other processes on the machine do not count
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[name] += time.process_time() - started
                self.calls[name] += 1
        return timed

    def micros(self, name: str) -> float:
        """Average microseconds per call."""
        return self.seconds[name] / max(self.calls[name], 1) * 1e6

    def __enter__(self) -> Timed:
        for name in self.NAMES:
            setattr(estimates, name, self.wrap(name))
        return self

    def __exit__(self, *exc) -> None:
        for name, inner in self.inner.items():
            setattr(estimates, name, inner)


def run_seed(seed: int, days: int, plan: DayPlan, timed: Timed) -> list[dict]:
    """One fresh database, `days` consecutive days; the accuracy of each day."""
    estimates.clear_cache()
    with tempfile.TemporaryDirectory() as tmp:
        db = databases.migrated(databases.new_sqlite_url(Path(tmp)))
        try:
            ctx = Context(db=db)
            import_layout(ctx, load_settings(extra_files=[DEMO_CONFIG]))
            with timed:
                outcomes = simulate_days(ctx, "mitte", date(2026, 3, 2), days, seed, plan)
            return [accuracy(day) for day in outcomes]
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


def run(args: argparse.Namespace) -> dict[str, dict[str, dict]]:
    """Both office plans over every seed; write the markdown file; per plan the pooled day 1 and days 2.."""
    seeds = [int(s) for s in args.seeds.split(",")]
    lines = ["# Estimate accuracy", "",
             "Produced by `.venv/bin/python -m bench.estimates`: seeded synthetic days of the demo office replayed "
             "through the real use cases (SQLite). Coverage: the share of tickets whose real wait (first call − "
             "issue) lies in the range given at issue. MAE: mean absolute error of the range's midpoint, and of "
             "the baseline formula (true mean service minutes ÷ open counters × people ahead), in minutes. "
             "Day 1 of each seed starts without history. Targets (issue 6): coverage >= 80 %, ratio <= 0.5.", "",
             f"- seeds {args.seeds}, {args.days} days each ({TUNED})", ""]
    results = {}
    for name, plan in PLANS:
        started, timed = time.perf_counter(), Timed()
        per_seed = {seed: run_seed(seed, args.days, plan, timed) for seed in seeds}
        secs = time.perf_counter() - started
        lines += [f"## {name}", "", "| days | tickets | coverage | MAE learned | MAE baseline | ratio |",
                  "|---|---|---|---|---|---|"]
        results[name] = {"day 1": pooled([r[0] for r in per_seed.values()]),
                         "later": pooled([d for r in per_seed.values() for d in r[1:]])}
        lines.append(row("day 1 (no history)", results[name]["day 1"]))
        lines.append(row(f"days 2–{args.days}", results[name]["later"]))
        for seed, days in per_seed.items():
            lines.append(row(f"seed {seed}, days 2–{args.days}", pooled(days[1:])))
        results[name]["per_estimate_us"] = timed.micros("estimate_for")
        results[name]["forecast_us"] = timed.micros("forecast")
        c = timed.calls
        lines += ["", f"Cost (CPU time): {c['estimate_for']} estimates, {timed.micros('estimate_for'):.0f} µs each "
                      f"on average with the reads; the model (forecast) {timed.micros('forecast'):.0f} µs of it; "
                      f"{c['_read_load']} live reads of {timed.micros('_read_load'):.0f} µs, "
                      f"{c['_learn_office']} learnings of {timed.micros('_learn_office'):.0f} µs "
                      f"({secs:.0f} s in all)", ""]
        print("\n".join(lines[-len(per_seed) - 6:]), flush=True)
    args.output.write_text("\n".join(lines))
    print(f"written to {args.output}")
    return results


PLANS = (("busy office (default DayPlan)", DayPlan()), ("quiet office (simulation.quiet_plan())", quiet_plan()))
COVERAGE, MAE_RATIO = 0.80, 0.5  # issue 6: the range holds >= 80 % of real waits; MAE <= half the baseline's
FRESH_SEEDS = "11,12,13,14,15"
TUNED = "the model was tuned on seeds 1-8 and checked on 21-26"


def bench(argv: list[str] | None = None) -> list[Row]:
    """bench.suite's entry: coverage and MAE per plan, for day 1 (no history) and the days after, against the
    issue's targets; and the average cost of an estimate."""
    args = parse_args(argv)
    rows = []
    for (name, _plan), result in zip(PLANS, run(args).values(), strict=True):
        setup = f"sqlite, {name.split(' (')[0]}"
        for label, r in (("day 1", result["day 1"]), (f"days 2–{args.days}", result["later"])):
            ratio = r["mae"] / r["baseline_mae"] if r["baseline_mae"] else float("nan")
            rows += [
                Row(setup, f"estimate range holds the real wait, {label} ({r['tickets']} tickets)",
                    f"{r['coverage']:.1%}", f">= {COVERAGE:.0%}", "pass" if r["coverage"] >= COVERAGE else "FAIL"),
                Row(setup, f"estimate MAE of the midpoint vs the baseline formula, {label}",
                    f"{r['mae']:.2f} vs {r['baseline_mae']:.2f} min ({ratio:.2f}x)", f"<= {MAE_RATIO:g}x",
                    "pass" if ratio <= MAE_RATIO else "FAIL"),
            ]
        rows.append(Row(setup, "time per estimate (issue path, reads included; the model alone)",
                        f"{result['per_estimate_us']:.0f} µs; {result['forecast_us']:.0f} µs"))
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.estimates", description=__doc__.split("\n")[0])
    p.add_argument("--days", type=int, default=4, help="consecutive days per seed (4)")
    p.add_argument("--seeds", default=FRESH_SEEDS, help=f"comma-separated seeds ({FRESH_SEEDS}: not tuned on)")
    p.add_argument("--output", type=Path, default=OUTPUT)
    args = p.parse_args(argv)
    os.environ.setdefault("QMS_SECRET_KEY", "bench")
    return args


def main(argv: list[str] | None = None) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main()
