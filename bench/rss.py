"""Server memory with a full office connected: `python -m bench.rss [--displays 500] [--counters 50] [--burst 300]`.

Starts a real server (`python -m server run`, gevent, one process) on a fresh demo database, adds `--counters`
counters, then connects `--displays` waiting-room displays to /display (display device token) and one counter
client per counter to /counter (clerk token), with bench.sio_clients' Socket.IO clients in this process. It reads
the server's resident memory (VmRSS from /proc) with no client, with everyone connected and idle, and after a
burst: `--burst` tickets issued over 16 connections, then called by every counter at once until none waits,
while all clients receive the events. VmHWM is the process's peak. Results go to the console and to
bench/results-rss.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from . import report
from .fanout_load import memory
from .nofile import raise_nofile
from .report import Row
from .scenarios import drain, pre_issue, set_up_layout
from .server_proc import ROOT, cli, running_server
from .sio_clients import Arrivals, Swarm

DEFAULT_OUTPUT = ROOT / "bench" / "results-rss.md"
TARGET_MIB = 150  # issue 7: one process with 500 displays and 50 counters


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.rss", description=__doc__.split("\n")[0])
    p.add_argument("--displays", type=int, default=500, help="display clients (500)")
    p.add_argument("--counters", type=int, default=50, help="counters, each with a counter client (50)")
    p.add_argument("--burst", type=int, default=300, help="tickets issued, then called, in the burst (300)")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--settle", type=float, default=2.0, help="seconds before each reading (2)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return p.parse_args(argv)


def peak_kib(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM, KiB)."""
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))


def burst(server, counters: int, tickets: int) -> dict:
    """Issue `tickets`, then every counter calls next until none waits; seconds and calls made."""
    started = time.perf_counter()
    pre_issue(server, tickets)
    outcome, called = drain(server, counters)
    problems = [f"{n}x HTTP {s}" for s, n in sorted(outcome.statuses.items()) if s not in (200, 204)]
    return {"seconds": time.perf_counter() - started, "called": len(called), "problems": problems + outcome.errors}


async def with_clients(server, display_token: str, args: argparse.Namespace) -> dict:
    """Connect everyone, read memory idle, run the burst in a thread (the clients keep reading), read again."""
    url = f"ws://{server.host}:{server.port}/socket.io/?EIO=4&transport=websocket"
    pid, arrivals = server.process.pid, Arrivals()
    displays = Swarm(url, "/display", {"token": display_token}, arrivals)
    counters = Swarm(url, "/counter", {"token": server.tokens["clerk"]}, arrivals)
    try:
        await displays.grow(args.displays)
        await counters.grow(args.counters)
        await asyncio.sleep(args.settle)
        idle = memory(pid)["rss_kib"]
        done = await asyncio.to_thread(burst, server, args.counters, args.burst)
        await asyncio.sleep(args.settle)
        after = memory(pid)["rss_kib"]
        return {"idle": idle, "after": after, "peak": peak_kib(pid), "burst": done,
                "connected": (displays.alive, counters.alive), "errors": (displays.errors + counters.errors)[:3]}
    finally:
        await displays.close()
        await counters.close()


def measure(args: argparse.Namespace) -> dict:
    """One server: memory with no client, then with everyone (idle, after the burst)."""
    raise_nofile(2 * (args.displays + args.counters) + 512)  # the server inherits the limit
    tokens = {}

    def setup(env):
        tokens["display"] = cli(["token", "add", "wall", "--device", "display", "--office", "mitte"], env).strip()

    with running_server(args.db, setup=setup) as server:
        set_up_layout(server, args.counters, [])
        time.sleep(args.settle)
        empty = memory(server.process.pid)["rss_kib"]
        result = asyncio.run(with_clients(server, tokens["display"], args))
    return result | {"empty": empty}


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def rows(args: argparse.Namespace, r: dict) -> list[Row]:
    setup = f"{args.db}, 1 process"
    who = f"{args.displays} displays + {args.counters} counters"
    shown = f"{r['connected'][0]} + {r['connected'][1]} connected"
    b = r["burst"]
    ok = r["connected"] == (args.displays, args.counters) and not b["problems"]
    out = [
        Row(setup, f"server RSS, {who}, idle", f"{mib(r['idle'])} (no clients: {mib(r['empty'])}; {shown})",
            f"<= {TARGET_MIB} MiB", report.verdict(r["idle"] <= TARGET_MIB * 1024 and ok)),
        Row(setup, f"server RSS, {who}, after a burst of {args.burst} issues and {b['called']} calls "
                   f"({b['seconds']:.1f} s)", f"{mib(r['after'])} (peak {mib(r['peak'])})",
            f"<= {TARGET_MIB} MiB", report.verdict(r["after"] <= TARGET_MIB * 1024 and ok)),
    ]
    if b["problems"] or r["errors"]:
        out.append(Row(setup, "errors", "; ".join(map(str, b["problems"] + r["errors"]))[:200], "none", "FAIL"))
    return out


NOTES = ["Server: `python -m server run` (gevent, one process) on a fresh demo database; clients: bench.sio_clients "
         "(websocket transport, no compression) in the benchmark process. RSS = VmRSS of the server process, "
         "peak = VmHWM; 1 MiB = 1024 KiB.",
         "The burst: tickets issued over 16 keep-alive connections (kiosk token), then every counter calls next "
         "back-to-back (clerk token) until none waits; every display and counter client receives the deltas."]


def bench(argv: list[str] | None = None) -> list[Row]:
    """Measure, print, write the markdown file; the rows (also bench.suite's entry)."""
    args = parse_args(argv)
    result = rows(args, measure(args))
    print(report.table(result))
    args.output.write_text(report.markdown(result, report.machine(), NOTES, "Server memory benchmark results",
                                           "bench.rss"))
    print(f"written to {args.output}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    return 1 if any(r.verdict == "FAIL" for r in bench(argv)) else 0


if __name__ == "__main__":
    sys.exit(main())
