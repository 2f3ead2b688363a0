"""HTTP API benchmark: `python -m bench.api [--seconds S] [--only sqlite|postgres] [--counters N] ...`.

For each database it starts a real server (`python -m server run`, gevent) on a fresh database, then measures
  1. issue latency at a fixed open-loop rate (default 50 req/s for 10 s), from each scheduled send time;
  2. call-next with many counters (default 50) on pre-issued tickets (default 3000): first at a fixed open-loop
     rate (default 50/s for 10 s), then all counters back-to-back until the queue is empty, checking that no
     ticket is handed out twice or lost, against the client's records and the server's GET /queue;
  3. sustained ticket-issue throughput with many keep-alive connections (default: 16, then 32).
The load generator runs as threads in this process, apart from the server process; both share the machine's
cores, so each phase reports the CPU both used. Results go to the console and to bench/results-api.md.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text

from . import report, scenarios
from .cpu import busy_cores, wait_quiet
from .profile import sampled, summarize
from .report import Row
from .server_proc import PG_ADMIN_URL, ROOT, running_server

DEFAULT_OUTPUT = ROOT / "bench" / "results-api.md"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=20, help="measured seconds of the throughput phase (20)")
    p.add_argument("--only", choices=["sqlite", "postgres"], help="benchmark one database only")
    p.add_argument("--counters", type=int, default=50, help="concurrent counters calling next (50)")
    p.add_argument("--tickets", type=int, default=3000, help="tickets pre-issued for the call-next drain (3000)")
    p.add_argument("--connections", type=_levels, default=[16, 32], metavar="N[,N...]",
                   help="keep-alive connections for throughput, one phase per value (16,32)")
    p.add_argument("--rate", type=float, default=50, help="open-loop issue rate for the latency phase (50/s)")
    p.add_argument("--call-rate", type=float, default=50, help="open-loop call-next rate before the drain (50/s)")
    p.add_argument("--latency-seconds", type=float, default=10, help="length of both open-loop phases (10 s)")
    p.add_argument("--runs", type=int, default=1, help="repeat everything this many times (1)")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="S",
                   help="before each database, wait up to S seconds for the shared machine to go idle")
    p.add_argument("--profile", type=Path, metavar="DIR", help="sample the server with py-spy into DIR")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="markdown file for the results")
    args = p.parse_args(argv)
    if args.tickets < args.call_rate * args.latency_seconds + args.counters:
        p.error("--tickets must exceed --call-rate x --latency-seconds plus --counters, so the drain has work")
    return args


def _levels(text_value: str) -> list[int]:
    """'16,32' -> [16, 32]; distinct positive numbers, at most 26."""
    levels = [int(v) for v in text_value.split(",")]
    if any(n < 1 for n in levels) or len(set(levels)) != len(levels) or len(levels) > 26:
        raise argparse.ArgumentTypeError("give distinct positive numbers, e.g. 16,32")
    return levels


def postgres_reachable() -> bool:
    """Whether the PostgreSQL server for cq_bench_* databases answers."""
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means: skip PostgreSQL, and say so
        return False
    finally:
        engine.dispose()


@contextlib.contextmanager
def phase(args: argparse.Namespace, label: str, name: str, pid: int, what: str) -> Iterator[None]:
    """Announce a phase; with --profile, sample the server during it and print where its CPU time went."""
    print(f"[{label}] {name}: {what}", flush=True)
    out = None
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        out = args.profile / f"{label.replace(' #', '-')}-{name}.txt"
    with sampled(pid, out):
        yield
    if out is not None:
        print(summarize(out), flush=True)


def bench_database(kind: str, label: str, args: argparse.Namespace) -> list[Row]:
    """All phases against one fresh server on `kind`; the server stops however this ends."""
    busy = wait_quiet(args.wait_quiet) if args.wait_quiet else busy_cores()
    print(f"[{label}] machine busy before start: {busy:.2f} cores; starting server on a fresh {kind} database",
          flush=True)
    with running_server(kind) as server:
        scenarios.set_up_layout(server, args.counters, args.connections)
        pid = server.process.pid
        with phase(args, label, "latency", pid, f"issue at {args.rate:g}/s for {args.latency_seconds:g} s"):
            lat = scenarios.issue_latency(server, args.rate, args.latency_seconds)
        with phase(args, label, "call-next", pid, f"{args.tickets} tickets, {args.counters} counters"):
            paced, drained = scenarios.call_next(server, args.counters, args.tickets, args.call_rate,
                                                 args.latency_seconds)
        tput = {}
        for conns in args.connections:
            with phase(args, label, f"throughput-{conns}", pid, f"{conns} connections, {args.seconds:g} s"):
                tput[conns] = scenarios.issue_throughput(server, args.seconds, conns)
    return (report.throughput_rows(label, tput, args.seconds)
            + report.latency_rows(label, lat, args.rate) + report.problem_rows(label, "latency", lat)
            + report.call_next_rows(label, paced, drained, args.counters, args.call_rate)
            + report.problem_rows(label, "paced call-next", paced) + report.problem_rows(label, "drain", drained))


def databases(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The databases to benchmark, and notes about any left out."""
    wanted = [args.only] if args.only else ["sqlite", "postgres"]
    if "postgres" in wanted and not postgres_reachable():
        wanted.remove("postgres")
        return wanted, [f"PostgreSQL not reachable at {PG_ADMIN_URL} (set QMS_BENCH_PG_URL): skipped"]
    return wanted, []


NOTES = [
    "Server: `python -m server run` (gevent, one process); load: threads with keep-alive http.client "
    "connections in the bench process. Both share the machine's cores: see the CPU rows.",
    "Throughput and latency tickets go to bench-only services (numbers 1-99999; one per throughput level) and "
    "are never called, so their queue grows during the phase; call-next uses the four demo services.",
    "Latency at the fixed rate counts from each scheduled send time (no coordinated omission).",
    "CPU in cores: server = the server process; db = the PostgreSQL backends of the bench database; client = "
    "this load generator; other = everything else on the machine. 'noisy' marks phases where other > 0.3.",
    "call-next p99 of the drain is queueing by construction (Little's law: 50 callers / calls per second); "
    "the paced row shows what a clerk waits at a busy office's rate.",
]


def options_text(args: argparse.Namespace) -> str:
    """The options that shape the numbers, as a command line fragment."""
    return (f"--seconds {args.seconds:g} --counters {args.counters} --tickets {args.tickets} "
            f"--connections {','.join(map(str, args.connections))} --rate {args.rate:g} "
            f"--call-rate {args.call_rate:g} --latency-seconds {args.latency_seconds:g}")


def _interrupt(_signum, _frame) -> None:
    """SIGTERM stops the benchmark like Ctrl-C does, so servers and databases are cleaned up."""
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> list[Row]:
    """Run every phase, print the table, write the markdown file; all rows."""
    wanted, notes = databases(args)
    if args.profile:
        notes.append("--profile: py-spy ran beside the server; its own CPU shows as 'other'")
    info = report.machine() | {"options": options_text(args)}
    rows: list[Row] = []
    try:
        for n in range(1, args.runs + 1):
            for kind in wanted:
                rows += bench_database(kind, kind if args.runs == 1 else f"{kind} #{n}", args)
    except KeyboardInterrupt:
        notes.append("interrupted: partial results")
        print("\ninterrupted; servers stopped", file=sys.stderr)
    print("\n" + "  ".join(f"{k}: {v}" for k, v in info.items()) + "\n")
    print(report.table(rows))
    for note in notes:
        print(f"note: {note}")
    args.output.write_text(report.markdown(rows, info, notes + NOTES))
    print(f"\nwritten to {args.output}")
    return rows + [Row("postgres", "skipped", note, "figures", "FAIL") for note in notes if "skipped" in note]


HEADLINES = ("issue throughput", "issue p99 at", "call-next p99,", "call-next p50 / p99 at")
CHECKS = ("call-next duplicates", "call-next lost", "waiting after drain", "called: client vs GET queue")


def summary(rows: list[Row]) -> list[Row]:
    """The rows for bench/results.md: the headline figures per database, the four call-next checks folded into
    one row, and any errors."""
    out: list[Row] = []
    for db in dict.fromkeys(r.database for r in rows):
        mine = [r for r in rows if r.database == db]
        out += [r for r in mine if r.metric.strip().startswith(HEADLINES + ("skipped",))]
        checks = [r for r in mine if r.metric.startswith(CHECKS)]
        if checks:
            out.append(Row(db, "call-next: duplicates / lost / left waiting / client-server mismatch",
                           " / ".join(r.value for r in checks), "0",
                           report.verdict(all(r.verdict == "pass" for r in checks))))
        out += [r for r in mine if r.metric.endswith(": errors")]
        noisy = [f"{r.metric.split(';')[0].strip()} (other {r.value.rsplit('other ', 1)[-1]} cores)" for r in mine
                 if r.verdict == "noisy"]
        if noisy:
            out.append(Row(db, "phases disturbed by other processes (their numbers are suspect)", "; ".join(noisy),
                           f"other <= {report.DISTURBED}", "noisy"))
    return out


def bench(argv: list[str] | None = None) -> list[Row]:
    """bench.suite's entry: run with these options; the summary rows."""
    return summary(run(parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; the exit status is 1 when a target is missed."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    rows = run(args)
    return 1 if any(r.verdict == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
