"""The processes of bench.fanout: a CivicQueue server on a throw-away SQLite database, the bare websockets
baseline server, and the load generator. Each runs in its own session and is stopped however the block ends.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .server_proc import ROOT, cli, free_port, server_env, server_python, stop, tail, wait_healthy

SOCKET_IO_PATH = "/socket.io/?EIO=4&transport=websocket"


@dataclass
class Target:
    """A running server to measure: what it is, its process and the load generator's arguments for it."""

    name: str
    process: subprocess.Popen
    load_args: list[str]
    log_path: Path


def nofile_for(clients: int) -> int:
    """File descriptors for a server with `clients` websocket connections (two each, plus the rest)."""
    return max(4096, 3 * clients + 512)


def spawn(cmd: list[str], env: dict[str, str] | None, log_path: Path, nofile: int) -> subprocess.Popen:
    """Start `cmd` from the repository root through bench.nofile (the limit raised, the PID kept), in a new
    session so a Ctrl-C reaches only us; output to `log_path`."""
    wrapped = [sys.executable, "-m", "bench.nofile", str(nofile), *cmd]
    with open(log_path, "wb") as log:
        return subprocess.Popen(wrapped, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def civicqueue_env(workdir: Path) -> dict[str, str]:
    """The environment of every CLI call and of the server: a fresh SQLite file and instance folder in
    `workdir`, a fixed secret."""
    return server_env(f"sqlite:///{workdir / 'civicqueue.db'}", workdir) | {"QMS_SECRET_KEY": "bench"}


def tokens(env: dict[str, str]) -> dict[str, str]:
    """A display device token and a clerk token for the demo office, as an operator would make them."""
    return {"display": cli(["token", "add", "wall", "--device", "display", "--office", "mitte"], env).strip(),
            "clerk": cli(["token", "add", "bench-clerk", "--role", "clerk", "--office", "mitte"], env).strip()}


@contextlib.contextmanager
def civicqueue(clients: int, host: str = "127.0.0.1") -> Iterator[Target]:
    """`python -m server run` on a fresh demo database, with room for `clients` connections."""
    with tempfile.TemporaryDirectory(prefix="cq-fanout-") as tmp:
        workdir = Path(tmp)
        env = civicqueue_env(workdir)
        cli(["init", "--demo"], env)
        toks = tokens(env)
        port, log_path = free_port(host), workdir / "server.log"
        cmd = [server_python(), "-m", "server", "run", "--host", host, "--port", str(port)]
        proc = spawn(cmd, env, log_path, nofile_for(clients))
        try:
            wait_healthy(proc, f"http://{host}:{port}", log_path)
            load_args = ["--target", "civicqueue", "--url", f"ws://{host}:{port}{SOCKET_IO_PATH}", "--token",
                         toks["display"], "--host", host, "--http-port", str(port), "--clerk-token", toks["clerk"]]
            yield Target("civicqueue", proc, load_args, log_path)
        finally:
            stop(proc)


def wait_listening(proc: subprocess.Popen, host: str, port: int, log_path: Path, timeout: float = 15.0) -> None:
    """Wait until something accepts TCP connections on `port`; fail early if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"baseline exited with {proc.returncode}:\n{tail(log_path)}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"baseline not listening after {timeout:.0f} s:\n{tail(log_path)}")


@contextlib.contextmanager
def baseline(clients: int, deflate: bool = False, host: str = "127.0.0.1") -> Iterator[Target]:
    """bench.ws_baseline with room for `clients` connections (accepting permessage-deflate if `deflate`)."""
    with tempfile.TemporaryDirectory(prefix="cq-fanout-baseline-") as tmp:
        log_path = Path(tmp) / "baseline.log"
        port, control = free_port(host), free_port(host)
        cmd = [sys.executable, "-m", "bench.ws_baseline", "--host", host, "--port", str(port), "--control-port",
               str(control)] + (["--deflate"] if deflate else [])
        proc = spawn(cmd, None, log_path, nofile_for(clients))
        try:
            wait_listening(proc, host, port, log_path)
            wait_listening(proc, host, control, log_path)
            load_args = ["--target", "baseline", "--url", f"ws://{host}:{port}{SOCKET_IO_PATH}", "--host", host,
                         "--control-port", str(control)]
            yield Target("baseline", proc, load_args, log_path)
        finally:
            stop(proc)


def load_time_limit(clients: int, calls: int, interval: float) -> float:
    """Seconds the load generator may take: connecting, the calls (with warm-up), closing; generous."""
    return 120 + clients * 0.1 + (calls + 3) * (interval + 3)


def run_load(target: Target, clients: int, calls: int, interval: float, options: list[str]) -> dict:
    """Run bench.fanout_load against `target` in a process of its own, with further `options` (e.g. --deflate);
    its JSON result (with "error" on failure). Its progress lines pass through to our stderr; it is killed if it
    outlives its time limit."""
    limit = load_time_limit(clients, calls, interval)
    cmd = [sys.executable, "-m", "bench.fanout_load", *target.load_args, "--pid", str(target.process.pid),
           "--clients", str(clients), "--calls", str(calls), "--interval", str(interval), "--time-limit", str(limit),
           *options]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=limit + 30)
    except subprocess.TimeoutExpired:
        return {"error": f"load generator still running after {limit + 30:.0f} s; killed"}
    finally:
        stop(proc, grace=3)
    lines = out.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else {"error": f"load generator exited {proc.returncode}"}
    except json.JSONDecodeError:
        result = {"error": f"load generator printed no JSON: {lines[-1][:200]}"}
    if target.process.poll() is not None:
        result.setdefault("error", f"{target.name} server died ({target.process.returncode}):\n"
                                   f"{tail(target.log_path, 10)}")
    return result


def interrupt(_signum, _frame) -> None:
    """SIGTERM stops the benchmark like Ctrl-C does, so every process is cleaned up."""
    raise KeyboardInterrupt


def interrupt_on_signals() -> None:
    """Make SIGTERM, and SIGINT even where it was inherited as ignored (a background job), raise
    KeyboardInterrupt in the main thread."""
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
