"""Socket.IO fan-out benchmark: `python -m bench.fanout [--clients 100,500,1000] [--calls 30] [--runs R] ...`.

For each number of clients N it starts a real CivicQueue server (`python -m server run`, gevent, a fresh demo
database on SQLite, its open-file limit raised), and from a separate load-generator process (bench.fanout_load,
asyncio, bench.sio_clients) connects N waiting-room displays to /display over the websocket transport with a
display device token. It then calls tickets one at a time (POST call-next with a clerk token, ~300 ms apart) and
measures, per call, the time from just before the request is sent until each display has the `ticket_called`
event: the median client and the last client, each as p50/p99 over the calls. The same clients then measure a
bare asyncio `websockets` server broadcasting a message of the same size (bench.ws_baseline), for the ratio.
The server's memory (VmRSS) is read before and with the N clients connected. Results go to the console and to
bench/results-fanout.md; the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import fanout_report as report
from .cpu import busy_cores, wait_quiet
from .fanout_procs import baseline, civicqueue, interrupt_on_signals, run_load
from .fanout_report import Level, summarize
from .profile import summarize as profile_summary
from .report import Row, machine
from .server_proc import ROOT

DEFAULT_OUTPUT = ROOT / "bench" / "results-fanout.md"
MAX_CLIENTS = 5000


def levels(text: str) -> list[int]:
    """'100,500,1000' -> [100, 500, 1000]; distinct numbers from 20 (the warm-up clients and more) up."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("give numbers, e.g. 100,500,1000") from None
    if any(not 20 <= n <= MAX_CLIENTS for n in values) or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"give distinct numbers from 20 to {MAX_CLIENTS}")
    return values


def count(low: int, high: int):
    """An argparse type: a whole number from `low` to `high`."""
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"give a whole number from {low} to {high}")
        return int(text)
    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=levels, default=[100, 500, 1000], metavar="N[,N...]",
                   help="connected displays, one level per value (100,500,1000)")
    p.add_argument("--calls", type=count(1, 1000), default=30, metavar="K",
                   help="measured calls per level (30)")
    p.add_argument("--interval", type=float, default=0.3, help="seconds from one call to the next (0.3)")
    p.add_argument("--runs", type=count(1, 10), default=1, metavar="R", help="repeat everything (1)")
    p.add_argument("--no-baseline", action="store_true", help="skip the bare websockets baseline")
    p.add_argument("--deflate", action="store_true",
                   help="clients offer permessage-deflate as browsers do (default: no compression)")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="S",
                   help="before each level, wait up to S seconds for the shared machine to go idle")
    p.add_argument("--profile", type=Path, metavar="DIR",
                   help="sample the CivicQueue server with py-spy during the measured calls, into DIR")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="markdown file for the results")
    args = p.parse_args(argv)
    if not 0.05 <= args.interval <= 10:
        p.error("--interval must be between 0.05 and 10 seconds")
    return args


def profile_file(args: argparse.Namespace, run: int, clients: int) -> Path | None:
    """Where py-spy writes the samples of one level (None without --profile)."""
    if args.profile is None:
        return None
    args.profile.mkdir(parents=True, exist_ok=True)
    return args.profile / f"fanout-{clients}-run{run}.txt"


def measure_level(args: argparse.Namespace, run: int, clients: int) -> Level:
    """CivicQueue, then the baseline, with `clients` displays; each server stops when its phase ends."""
    busy = wait_quiet(args.wait_quiet) if args.wait_quiet else busy_cores()
    print(f"[run {run}, {clients} clients] machine busy before start: {busy:.2f} cores", flush=True)
    out = profile_file(args, run, clients)
    options = ["--deflate"] if args.deflate else []
    with civicqueue(clients) as target:
        cq = summarize(run_load(target, clients, args.calls, args.interval,
                                options + (["--profile", str(out)] if out else [])))
    if out is not None and out.exists():
        print(profile_summary(out), flush=True)
    base = None
    if not args.no_baseline:
        with baseline(clients, args.deflate) as target:
            base = summarize(run_load(target, clients, args.calls, args.interval, options))
    return Level(run, clients, cq, base, busy)


NOTES = [
    "Server: `python -m server run` (gevent pywsgi, simple-websocket; one process) on a fresh SQLite demo "
    "database per level, open-file limit raised through bench.nofile. Load: one asyncio process "
    "(bench.fanout_load) with minimal Engine.IO 4 / Socket.IO 5 clients over `websockets` (no compression), "
    "connecting to /display with a display device token over the websocket transport directly.",
    "Latency per call and client: from just before the trigger is sent (POST call-next for CivicQueue, a "
    "`call SEQ` line on a local TCP socket for the baseline) to the client's receipt of `ticket_called`, both "
    "stamped with time.perf_counter() in the load process. 'median' is the median client of a call, 'last' the "
    "last client; p50/p99 are nearest-rank over the measured calls (with 30 calls, p99 is the worst call). "
    "'answer' is when the trigger's answer (the HTTP response to call-next) was read; 'first client' when the "
    "first display had the event. 'calls in ping burst': calls during which at least 1% of the displays got "
    "an Engine.IO ping (the server pings every client every 25 s; clients that connected together are pinged "
    "together). The load generator runs without cyclic GC while measuring.",
    "CivicQueue's latency includes the HTTP request and the call-next transaction; tickets are issued before "
    "the displays connect, and 3 unmeasured calls warm up each level. 'state last' is the `state` message "
    "that the publisher sends after each call's deltas, as received by the last client.",
    "Baseline: bench.ws_baseline, a bare asyncio `websockets` server in its own process; websockets.broadcast() "
    "of one `ticket_called` event of the same shape, encoded once. Ratios are CivicQueue / baseline.",
    "Memory: server VmRSS with 10 warm-up clients connected (before) and with all N (with); KiB/conn = "
    "difference / (N - 10). fds/conn likewise from /proc/PID/fd.",
    "CPU in cores over the measured calls: server, load generator, other (the rest of the machine: a shared "
    "machine; numbers from a level with 'other' well above 0.3 are disturbed). 'server CPU ms/call' is the "
    "server's CPU time per call (10 ms clock ticks, so coarse at small N); 'us per client-call' divides by N.",
]


def run(args: argparse.Namespace) -> list[Level]:
    """Every level of every run; print the tables and write the markdown file."""
    info = machine() | {"options": f"--clients {','.join(map(str, args.clients))} --calls {args.calls} "
                                   f"--interval {args.interval:g} --runs {args.runs}"
                                   + (" --deflate" if args.deflate else "")}
    done: list[Level] = []
    notes = []
    try:
        for n in range(1, args.runs + 1):
            for clients in args.clients:
                done.append(measure_level(args, n, clients))
    except KeyboardInterrupt:
        notes.append("interrupted: partial results")
        print("\ninterrupted; servers and load generator stopped", file=sys.stderr)
    if args.profile:
        notes.append("--profile: py-spy sampled the server during the measured calls; its CPU counts as 'other'")
    print("\n" + "  ".join(f"{k}: {v}" for k, v in info.items()) + "\n")
    print(report.console(done))
    args.output.write_text(report.markdown(done, info, notes + NOTES))
    print(f"\nwritten to {args.output}")
    return done


def bench(argv: list[str] | None = None) -> list[Row]:
    """bench.suite's entry: run with these options; the summary rows for bench/results.md."""
    return report.summary_rows(run(parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; the exit status is 1 when a target is missed."""
    args = parse_args(argv)
    interrupt_on_signals()
    done = run(args)
    return 1 if report.failed(done) or not done else 0


if __name__ == "__main__":
    sys.exit(main())
