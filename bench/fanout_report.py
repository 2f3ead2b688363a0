"""bench.fanout's numbers: per level (N clients) the latency percentiles over calls, the baseline ratio, memory
per connection and the verdict against the targets; as console tables and bench/results-fanout.md."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .load import percentile
from .report import Row

# The targets: at 500 displays last-client p99 <= 40 ms and <= 3x the bare websockets baseline;
# at 1000, p99 <= 100 ms; at every level at most 64 KiB of server memory per connection.
LATENCY_TARGETS: dict[int, tuple[float, float | None]] = {500: (0.040, 3.0), 1000: (0.100, None)}
KIB_PER_CONNECTION = 64


@dataclass
class Summary:
    """One phase against one server, reduced: seconds for latencies (p50/p99 over the calls)."""

    connected: int = 0
    calls: int = 0
    missing: int = 0
    median_p50: float = math.nan
    median_p99: float = math.nan
    last_p50: float = math.nan
    last_p99: float = math.nan
    state_last_p50: float = math.nan
    state_last_p99: float = math.nan
    first_p50: float = math.nan
    answered_p50: float = math.nan
    ping_calls: int = 0
    kib_per_conn: float = math.nan
    rss_before_kib: int = 0
    rss_with_kib: int = 0
    fds_per_conn: float = math.nan
    connect_seconds: float = math.nan
    cpu: dict[str, float] = field(default_factory=dict)
    error: str = ""


def p(values: list[float], q: float) -> float:
    """Nearest-rank percentile that skips NaN (a call no client received)."""
    return percentile([v for v in values if not math.isnan(v)], q)


def summarize(result: dict) -> Summary:
    """The load generator's JSON result, reduced to the numbers of the report."""
    calls = result.get("calls", [])
    s = Summary(error=result.get("error", ""), calls=len(calls))
    if not calls:
        return s
    medians, lasts = [c["median"] for c in calls], [c["last"] for c in calls]
    states = [c["follow_last"] for c in calls if c.get("follow_last") is not None]
    before, after, added = result["memory_before"], result["memory_with"], max(result["added"], 1)
    s.connected, s.missing, s.cpu = result["connected"], sum(c["missing"] for c in calls), result["cpu"]
    s.median_p50, s.median_p99, s.last_p50, s.last_p99 = p(medians, 50), p(medians, 99), p(lasts, 50), p(lasts, 99)
    s.state_last_p50, s.state_last_p99 = p(states, 50), p(states, 99)
    s.first_p50, s.answered_p50 = p([c["first"] for c in calls], 50), p([c["answered"] for c in calls], 50)
    s.ping_calls = sum(1 for c in calls if c["pings"] * 100 >= max(result["connected"], 1))
    s.rss_before_kib, s.rss_with_kib = before["rss_kib"], after["rss_kib"]
    s.kib_per_conn = (after["rss_kib"] - before["rss_kib"]) / added
    s.fds_per_conn = (after["fds"] - before["fds"]) / added
    s.connect_seconds = result["connect_seconds"]
    return s


@dataclass
class Level:
    """One level of one run: CivicQueue and the baseline with the same number of clients."""

    run: int
    clients: int
    civicqueue: Summary
    baseline: Summary | None
    busy_before: float

    def ratio(self, attr: str) -> float:
        """CivicQueue's value over the baseline's (NaN without a baseline)."""
        if self.baseline is None or not getattr(self.baseline, attr):
            return math.nan
        return getattr(self.civicqueue, attr) / getattr(self.baseline, attr)


def checks(level: Level) -> list[tuple[str, bool]]:
    """(target, met) for each target that applies at this level."""
    cq = level.civicqueue
    out = [("all connected, every call received", not cq.error and cq.connected == level.clients
            and cq.missing == 0 and cq.calls > 0)]
    if level.clients in LATENCY_TARGETS:
        limit, factor = LATENCY_TARGETS[level.clients]
        out.append((f"p99 <= {limit * 1000:.0f} ms", cq.last_p99 <= limit))
        if factor is not None:
            out.append((f"<= {factor:g}x baseline", level.ratio("last_p99") <= factor))
    out.append((f"<= {KIB_PER_CONNECTION} KiB/conn", cq.kib_per_conn <= KIB_PER_CONNECTION))
    return out


def verdict(level: Level) -> tuple[str, str]:
    """(the targets, 'pass' or 'FAIL: the missed ones')."""
    results = checks(level)
    target = "; ".join(name for name, _ in results[1:])
    missed = [name.split(" ", 1)[0] if name.startswith("all") else name for name, ok in results if not ok]
    return target, "pass" if not missed else "FAIL: " + ", ".join(missed)


def ms(seconds: float) -> str:
    """Milliseconds with one decimal, 'n/a' for NaN."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def pair(a: float, b: float) -> str:
    """'p50 / p99' in ms."""
    return f"{ms(a)} / {ms(b)}"


def ratio_text(value: float) -> str:
    """'2.3x' or 'n/a'."""
    return "n/a" if math.isnan(value) else f"{value:.1f}x"


MAIN_COLUMNS = ["N", "run", "median p50 / p99 ms", "last p50 / p99 ms", "baseline median p50 / last p50 / p99 ms",
                "ratio last p99", "ratio median p50", "RSS before -> with MiB", "KiB/conn", "target", "result"]


def main_row(level: Level) -> list[str]:
    """The headline numbers of one level."""
    cq, base = level.civicqueue, level.baseline
    baseline = (f"{ms(base.median_p50)} / {ms(base.last_p50)} / {ms(base.last_p99)}" if base else "skipped")
    target, result = verdict(level)
    return [str(level.clients), str(level.run), pair(cq.median_p50, cq.median_p99), pair(cq.last_p50, cq.last_p99),
            baseline, ratio_text(level.ratio("last_p99")), ratio_text(level.ratio("median_p50")),
            f"{cq.rss_before_kib / 1024:.0f} -> {cq.rss_with_kib / 1024:.0f}",
            "n/a" if math.isnan(cq.kib_per_conn) else f"{cq.kib_per_conn:.0f}", target, result]


DETAIL_COLUMNS = ["N", "run", "server", "answer p50 ms", "first client p50 ms", "state last p50 / p99 ms",
                  "server CPU ms/call", "us per client-call", "cores: server / load / other", "busy before",
                  "calls in ping burst", "fds/conn", "connect s", "KiB/conn", "errors"]


def detail_row(level: Level, name: str, s: Summary) -> list[str]:
    """Where the time and memory went, for one server at one level."""
    cpu = s.cpu or {}
    per_call = cpu.get("server_ms_per_call", math.nan)
    per_client = per_call * 1000 / s.connected if s.connected else math.nan
    return [str(level.clients), str(level.run), name, ms(s.answered_p50), ms(s.first_p50),
            pair(s.state_last_p50, s.state_last_p99),
            f"{per_call:.1f}", f"{per_client:.0f}",
            " / ".join(f"{cpu.get(k, math.nan):.2f}" for k in ("server", "client", "other")),
            f"{level.busy_before:.2f}", f"{s.ping_calls}/{s.calls}", f"{s.fds_per_conn:.1f}",
            f"{s.connect_seconds:.1f}",
            "n/a" if math.isnan(s.kib_per_conn) else f"{s.kib_per_conn:.0f}",
            (s.error or ("" if not s.missing else f"{s.missing} deliveries missing"))[:120]]


def detail_rows(levels: list[Level]) -> list[list[str]]:
    """Detail rows: CivicQueue and baseline for each level."""
    rows = []
    for level in levels:
        rows.append(detail_row(level, "civicqueue", level.civicqueue))
        if level.baseline is not None:
            rows.append(detail_row(level, "baseline", level.baseline))
    return rows


def text_table(columns: list[str], rows: list[list[str]]) -> str:
    """A plain-text table for the console."""
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("-" * len(lines[0]))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def md_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table."""
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)] + [
        "| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]


def console(levels: list[Level]) -> str:
    """Both tables for the console."""
    return (text_table(MAIN_COLUMNS, [main_row(lv) for lv in levels]) + "\n\n"
            + text_table(DETAIL_COLUMNS, detail_rows(levels)))


def markdown(levels: list[Level], info: dict[str, str], notes: list[str]) -> str:
    """The results document."""
    lines = ["# Socket.IO fan-out benchmark results", "",
             "Produced by `.venv/bin/python -m bench.fanout`; numbers from a shared 2-core machine are noisy, "
             "compare runs rather than single values.", ""]
    lines += [f"- **{k}**: {v}" for k, v in info.items()] + ["", "## Latency, memory and targets", ""]
    lines += md_table(MAIN_COLUMNS, [main_row(lv) for lv in levels])
    lines += ["", "## Where it went", ""] + md_table(DETAIL_COLUMNS, detail_rows(levels))
    return "\n".join(lines + ["", "## Method", ""] + [f"- {n}" for n in notes]) + "\n"


def failed(levels: list[Level]) -> bool:
    """Whether any level missed a target."""
    return any(verdict(lv)[1] != "pass" for lv in levels)


SETUP = "sqlite, 1 process"


def summary_rows(levels: list[Level]) -> list[Row]:
    """For bench/results.md: per level the last display's latency next to the baseline's, then memory per
    connection (every level, the verdict against the limit)."""
    rows = []
    for level in levels:
        cq, base = level.civicqueue, level.baseline
        results = [(name, ok) for name, ok in checks(level) if "KiB" not in name]
        baseline = (f"; baseline p99 {ms(base.last_p99)} ms, ratio {ratio_text(level.ratio('last_p99'))}"
                    if base else "; no baseline")
        missed = [name for name, ok in results if not ok]
        target = "; ".join(name for name, _ in results[1:])
        verdict = "FAIL" if missed else "pass" if target else "info"
        error = f" ({cq.error[:80]})" if cq.error else f" ({cq.missing} deliveries missing)" if cq.missing else ""
        rows.append(Row(SETUP, f"fan-out, {level.clients} displays: last display has the call, p50 / p99",
                        f"{ms(cq.last_p50)} / {ms(cq.last_p99)} ms{baseline}{error}", target, verdict))
    if levels:
        per_conn = ", ".join(f"{lv.clients}: {ms_kib(lv.civicqueue.kib_per_conn)}" for lv in levels)
        worst = max((lv.civicqueue.kib_per_conn for lv in levels), default=math.nan)
        rows.append(Row(SETUP, "server memory per display connection (by displays connected)", per_conn,
                        f"<= {KIB_PER_CONNECTION} KiB", "pass" if worst <= KIB_PER_CONNECTION else "FAIL"))
    return rows


def ms_kib(kib: float) -> str:
    """'74 KiB' or 'n/a'."""
    return "n/a" if math.isnan(kib) else f"{kib:.0f} KiB"
