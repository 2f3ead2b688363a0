"""The load generator of bench.fanout, run as a process of its own so its CPU never counts as the server's.

`python -m bench.fanout_load --target civicqueue|baseline --url WS_URL --pid SERVER_PID --clients N ...`
connects N display clients (bench.sio_clients), reads the server's memory before and after, then triggers calls
one at a time and records, per call, when each client received the `ticket_called` event, counted from just
before the trigger was sent (one clock: time.perf_counter in this process). CivicQueue is triggered by POST
call-next with a clerk token on pre-issued tickets; the baseline by a `call SEQ` line on its control port.
Progress goes to stderr; the result is one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from .client import Client
from .cpu import machine_busy_seconds, own_cpu_seconds, process_cpu_seconds
from .nofile import raise_nofile
from .profile import sampled
from .sio_clients import Arrivals, Swarm

OFFICE = "/api/v1/offices/mitte"
SERVICE, COUNTER = "ausweis", "schalter-1"  # schalter-1 serves ausweis first


class HttpTrigger:
    """CivicQueue: tickets issued up front (before any display connects), then one POST call-next per call,
    sent with http.client in a worker thread so this event loop keeps receiving."""

    follow = ("state",)  # the publisher sends a full `state` after each batch of deltas

    def __init__(self, host: str, port: int, token: str):
        self.client = Client(host, port, token, timeout=10)

    async def prepare(self, calls: int) -> None:
        """Issue one ticket per call to come."""
        for i in range(calls):
            reply = await asyncio.to_thread(self.client.post, f"{OFFICE}/tickets",
                                            {"service": SERVICE, "request_id": f"fanout-{i}"})
            if reply.status != 201:
                raise RuntimeError(f"issue ticket: HTTP {reply.status} {reply.body}")

    async def fire(self) -> tuple[float, float]:
        """Call the next ticket; return the perf_counter time taken just before the request was sent, and the
        seconds until the answer was read."""
        return await asyncio.to_thread(self._call_next)

    def _call_next(self) -> tuple[float, float]:
        start = time.perf_counter()
        reply = self.client.post(f"{OFFICE}/counters/{COUNTER}/call-next")
        if reply.status != 200:
            raise RuntimeError(f"call-next: HTTP {reply.status} {reply.body}")
        return start, time.perf_counter() - start

    async def close(self) -> None:
        """Close the HTTP connection."""
        self.client.close()


class ControlTrigger:
    """The baseline: one `call SEQ` line per call on the baseline server's control socket."""

    follow: tuple[str, ...] = ()

    def __init__(self, host: str, port: int):
        self.host, self.port, self.seq = host, port, 0
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def prepare(self, calls: int) -> None:
        """Open the control connection (with TCP_NODELAY)."""
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def fire(self) -> tuple[float, float]:
        """Ask for one broadcast; return the perf_counter time taken just before the line was sent, and the
        seconds until the answer was read (the broadcast has been written by then)."""
        self.seq += 1
        start = time.perf_counter()
        self.writer.write(f"call {self.seq}\n".encode())
        await self.writer.drain()
        answer = await asyncio.wait_for(self.reader.readline(), 10)
        if not answer.startswith(b"ok"):
            raise RuntimeError(f"baseline control: {answer!r}")
        return start, time.perf_counter() - start

    async def close(self) -> None:
        """Close the control connection."""
        if self.writer is not None:
            self.writer.close()


@dataclass
class Call:
    """One measured call, in seconds from the trigger: the median and the last client to receive it, the
    number of clients that never did (within the timeout), the trigger's answer (HTTP response), the Engine.IO
    pings the clients got meanwhile (the server's ping bursts compete with the fan-out), and the same for the
    follow-up `state` if any."""

    median: float
    last: float
    first: float
    missing: int
    answered: float
    pings: int
    follow_median: float | None = None
    follow_last: float | None = None


def memory(pid: int) -> dict[str, int]:
    """The process's resident memory (KiB, VmRSS) and open file descriptors."""
    with open(f"/proc/{pid}/status") as fh:
        rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    return {"rss_kib": rss, "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def cpu_sample(pid: int) -> dict[str, float]:
    """CPU seconds so far: the server, this process, the whole machine; and the wall clock."""
    return {"wall": time.perf_counter(), "server": process_cpu_seconds(pid), "client": own_cpu_seconds(),
            "machine": machine_busy_seconds()}


def cpu_used(start: dict[str, float], end: dict[str, float], calls: int) -> dict[str, float]:
    """Cores used between two samples by the server, this load generator and everything else; server CPU
    milliseconds per call."""
    wall = end["wall"] - start["wall"]
    used = {k: (end[k] - start[k]) / wall for k in ("server", "client", "machine")}
    return {"server": used["server"], "client": used["client"],
            "other": max(0.0, used["machine"] - used["server"] - used["client"]),
            "server_ms_per_call": (end["server"] - start["server"]) * 1000 / max(calls, 1)}


async def one_call(arrivals: Arrivals, trigger, clients: int, timeout: float, follow_timeout: float) -> Call:
    """Trigger one call and wait until every client has its ticket_called (and the follow-up event, if the
    server still sends one: a follow-up that no client got is not awaited again)."""
    called = arrivals.expect("ticket_called", clients)
    follows = [arrivals.expect(name, clients) for name in trigger.follow]
    start, answered = await trigger.fire()
    times = sorted(t - start for t in await arrivals.wait(called, timeout))
    nan = float("nan")
    end = start + (times[-1] if times else timeout)
    pings = sum(1 for t in arrivals.pings[-2 * clients:] if start <= t <= end)
    call = Call(median=statistics.median(times) if times else nan, last=times[-1] if times else nan,
                first=times[0] if times else nan, missing=clients - len(times), answered=answered, pings=pings)
    for exp in follows:
        later = sorted(t - start for t in await arrivals.wait(exp, follow_timeout))
        if later:
            call.follow_median, call.follow_last = statistics.median(later), later[-1]
        else:
            trigger.follow = tuple(name for name in trigger.follow if name != exp.name)
    return call


async def calls(arrivals: Arrivals, swarm: Swarm, trigger, count: int, args: argparse.Namespace) -> list[Call]:
    """`count` calls, started --interval seconds apart (or right after the previous one, if that took longer)."""
    done: list[Call] = []
    next_at = time.perf_counter()
    for _ in range(count):
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        next_at = time.perf_counter() + args.interval
        done.append(await one_call(arrivals, trigger, swarm.alive, args.call_timeout, args.follow_timeout))
    return done


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """No cyclic garbage collection in this process while measuring: a full pass over a thousand connections'
    objects would stall every client at once and show up as fan-out latency."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def log(args: argparse.Namespace, text: str) -> None:
    """A progress line on stderr."""
    print(f"  [{args.target} {args.clients}] {text}", file=sys.stderr, flush=True)


async def connect(args: argparse.Namespace, swarm: Swarm) -> dict:
    """Connect a few warm-up clients, read the server's memory, connect the rest, read it again."""
    await swarm.grow(args.warm_clients)
    await asyncio.sleep(args.settle)
    before = memory(args.pid)
    started = time.perf_counter()
    await swarm.grow(args.clients, deadline=args.connect_deadline)
    seconds = time.perf_counter() - started
    await asyncio.sleep(args.settle)
    after = memory(args.pid)
    log(args, f"{len(swarm.clients)}/{args.clients} connected in {seconds:.1f} s; RSS {before['rss_kib']} -> "
              f"{after['rss_kib']} KiB; {len(swarm.errors)} errors")
    return {"connected": len(swarm.clients), "connect_seconds": seconds, "memory_before": before,
            "memory_with": after, "added": len(swarm.clients) - min(args.warm_clients, len(swarm.clients))}


async def run(args: argparse.Namespace) -> dict:
    """The whole phase; clients and trigger are closed however it ends."""
    arrivals = Arrivals()
    swarm = Swarm(args.url, args.namespace, {"token": args.token} if args.token else {}, arrivals, args.deflate)
    trigger = (HttpTrigger(args.host, args.http_port, args.clerk_token) if args.target == "civicqueue"
               else ControlTrigger(args.host, args.control_port))
    try:
        await trigger.prepare(args.warmup + args.calls)
        result = await connect(args, swarm)
        await calls(arrivals, swarm, trigger, args.warmup, args)
        with sampled(args.pid, args.profile), no_gc():
            before = cpu_sample(args.pid)
            measured = await calls(arrivals, swarm, trigger, args.calls, args)
            result["cpu"] = cpu_used(before, cpu_sample(args.pid), args.calls)
        result["calls"] = [asdict(c) for c in measured]
        result["alive_at_end"] = swarm.alive
        result["errors"] = swarm.errors[:5]
        log(args, f"{len(measured)} calls; last client p50 {statistics.median(c.last for c in measured) * 1000:.1f}"
                  f" ms; server CPU {result['cpu']['server']:.2f} cores")
        return result
    finally:
        await swarm.close()
        await trigger.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (bench.fanout writes it)."""
    p = argparse.ArgumentParser(prog="python -m bench.fanout_load", description=__doc__.split("\n")[0])
    p.add_argument("--target", choices=["civicqueue", "baseline"], required=True)
    p.add_argument("--url", required=True, help="ws://HOST:PORT/socket.io/?EIO=4&transport=websocket")
    p.add_argument("--namespace", default="/display")
    p.add_argument("--token", help="display device token (connect auth)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--http-port", type=int, help="CivicQueue's HTTP port (civicqueue)")
    p.add_argument("--clerk-token", help="clerk token for issue and call-next (civicqueue)")
    p.add_argument("--control-port", type=int, help="the baseline's control port (baseline)")
    p.add_argument("--pid", type=int, required=True, help="the server process, for memory and CPU")
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--warm-clients", type=int, default=10, help="connected before the 'before' memory reading")
    p.add_argument("--calls", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3, help="calls before the measured ones")
    p.add_argument("--interval", type=float, default=0.3, help="seconds from one call to the next")
    p.add_argument("--call-timeout", type=float, default=5.0, help="longest wait for all clients, per call")
    p.add_argument("--follow-timeout", type=float, default=1.0, help="longest wait for the follow-up `state`")
    p.add_argument("--settle", type=float, default=1.0, help="pause before each memory reading")
    p.add_argument("--connect-deadline", type=float, default=180.0)
    p.add_argument("--time-limit", type=float, default=600.0, help="the whole phase, closing included")
    p.add_argument("--deflate", action="store_true", help="offer permessage-deflate, as browsers do")
    p.add_argument("--profile", type=Path, help="sample the server with py-spy during the measured calls")
    args = p.parse_args(argv)
    needed = ("http_port", "clerk_token") if args.target == "civicqueue" else ("control_port",)
    if missing := [n for n in needed if getattr(args, n) is None]:
        p.error(f"--target {args.target} needs --{', --'.join(n.replace('_', '-') for n in missing)}")
    return args


async def bounded(args: argparse.Namespace) -> dict:
    """run() within --time-limit."""
    return await asyncio.wait_for(run(args), args.time_limit)


def main(argv: list[str] | None = None) -> int:
    """Run one phase and print its result as JSON."""
    args = parse_args(argv)
    raise_nofile(2 * args.clients + 256)
    try:
        result = asyncio.run(bounded(args))
    except (Exception, TimeoutError) as exc:  # report any failure to bench.fanout as JSON
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:500]}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
