"""Turning measurements into result rows, a console table and bench/results-api.md."""

from __future__ import annotations

import hashlib
import math
import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime

from .scenarios import Measurement
from .server_proc import ROOT


@dataclass(frozen=True)
class Row:
    """One result line: which database and run, the metric, its value, the target and the verdict."""

    database: str
    metric: str
    value: str
    target: str = ""
    verdict: str = "info"


def ms(seconds: float) -> str:
    """Seconds as milliseconds with one decimal."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    """'pass' or 'FAIL'."""
    return "pass" if ok else "FAIL"


DISTURBED = 0.3  # cores used by other processes during a phase above which its numbers are suspect


def cpu_row(db: str, metric: str, m: Measurement, prefix: str = "") -> Row:
    """Where the CPU went during a phase; 'noisy' when other processes took a noticeable share of it."""
    noisy = m.cpu.other > DISTURBED
    return Row(db, metric, prefix + m.cpu.summary(), f"other <= {DISTURBED}", "noisy" if noisy else "info")


def throughput_rows(db: str, levels: dict[int, Measurement], seconds: float) -> list[Row]:
    """Rows of the saturation phases: the best level carries the verdict, every level shows its numbers."""
    best = max(m.values["rate"] for m in levels.values())
    clean = not any(m.problems for m in levels.values())
    rows = [Row(db, f"issue throughput, best of {'/'.join(map(str, levels))} conns ({seconds:g} s each)",
                f"{best:.0f} tickets/s", ">= 500/s", verdict(best >= 500 and clean))]
    for conns, m in levels.items():
        v = m.values
        rows += [
            Row(db, f"  {conns} conns: tickets/s; issue p50 / p99", f"{v['rate']:.0f}/s; {ms(v['p50'])} / "
                f"{ms(v['p99'])}"),
            cpu_row(db, f"  {conns} conns: CPU in cores", m),
            Row(db, f"  {conns} conns: tickets in each second", " ".join(str(n) for n in m.per_second)),
        ] + problem_rows(db, f"throughput {conns} conns", m)
    return rows


def latency_rows(db: str, m: Measurement, rate: float) -> list[Row]:
    """Rows of the fixed-rate issue phase."""
    v = m.values
    return [
        Row(db, f"issue p99 at {rate:g} req/s (open loop)", ms(v["p99"]), "<= 20 ms",
            verdict(v["p99"] <= 0.020 and not m.problems)),
        Row(db, "  issue p50 / max", f"{ms(v['p50'])} / {ms(v['max'])}"),
        cpu_row(db, "  achieved rate; CPU in cores", m, f"{v['achieved_rate']:.1f}/s; "),
    ]


def call_next_rows(db: str, paced: Measurement, drain: Measurement, counters: int, rate: float) -> list[Row]:
    """Rows of the call-next phases and of the correctness checks."""
    v, p = drain.values, paced.values
    lost = v["lost"] + v["unknown"]
    return [
        Row(db, f"call-next p99, {counters} counters draining {v['drained']} tickets", ms(v["p99"]), "<= 50 ms",
            verdict(v["p99"] <= 0.050 and not drain.problems)),
        Row(db, "  call-next p50 / max (drain)", f"{ms(v['p50'])} / {ms(v['max'])}"),
        cpu_row(db, "  drain rate; CPU in cores", drain, f"{v['calls_per_s']:.0f} calls/s; "),
        Row(db, f"  call-next p50 / p99 at {rate:g} calls/s over {counters} counters (open loop)",
            f"{ms(p['p50'])} / {ms(p['p99'])}", "ref. 50 ms"),
        cpu_row(db, "  paced rate; CPU in cores", paced, f"{p['achieved_rate']:.1f}/s; "),
        Row(db, "call-next duplicates", str(v["duplicates"]), "0", verdict(v["duplicates"] == 0)),
        Row(db, "call-next lost (issued, never called)", str(lost), "0", verdict(lost == 0)),
        Row(db, "waiting after drain (GET queue)", str(v["waiting_after"]), "0", verdict(v["waiting_after"] == 0)),
        Row(db, "called: client vs GET queue mismatch", str(v["server_mismatch"]), "0",
            verdict(v["server_mismatch"] == 0)),
    ]


def problem_rows(db: str, phase: str, m: Measurement) -> list[Row]:
    """One FAIL row per phase that saw errors or unexpected statuses."""
    return [Row(db, f"{phase}: errors", "; ".join(m.problems)[:200], "none", "FAIL")] if m.problems else []


def git_revision() -> str:
    """The short commit of the repository, marked when server/ has uncommitted changes (read-only git)."""
    def git(*args: str) -> str:
        """Output of a read-only git command."""
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()
    rev = git("rev-parse", "--short", "HEAD") or "unknown"
    return rev + (" + uncommitted changes in server/" if git("status", "--porcelain", "--", "server") else "")


def server_fingerprint() -> str:
    """A short hash of the server/ source as it is on disk, to tell runs of different working trees apart."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "server").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    return {"cores": str(os.cpu_count()), "python": platform.python_version(),
            "server revision": git_revision(), "server/ source sha256": server_fingerprint(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def table(rows: list[Row]) -> str:
    """A plain-text table for the console."""
    cols = [("database", 9), ("metric", 0), ("value", 0), ("target", 9), ("result", 6)]
    data = [(r.database, r.metric, r.value, r.target, r.verdict) for r in rows]
    widths = [max([w, len(name)] + [len(d[i]) for d in data]) for i, (name, w) in enumerate(cols)]
    line = "  ".join(name.ljust(w) for (name, _), w in zip(cols, widths, strict=True))
    out = [line, "-" * len(line)]
    out += ["  ".join(c.ljust(w) for c, w in zip(d, widths, strict=True)) for d in data]
    return "\n".join(out)


def markdown(rows: list[Row], info: dict[str, str], notes: list[str], title: str = "API benchmark results",
             module: str = "bench.api") -> str:
    """The results as a markdown document."""
    head = [f"# {title}", "", f"Produced by `.venv/bin/python -m {module}`; numbers from a shared "
            "machine are noisy, compare runs rather than single values.", ""]
    head += [f"- **{k}**: {v}" for k, v in info.items()] + [""]
    body = ["| database | metric | value | target | result |", "|---|---|---|---|---|"]
    body += [f"| {r.database} | {r.metric.strip()} | {r.value} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(head + body + [""] + [f"- {n}" for n in notes]) + "\n"
