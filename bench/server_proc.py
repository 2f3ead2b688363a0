"""A real CivicQueue server process on a throw-away database: set up, start, wait for health, always stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from .cpu import no_backends, postgres_backends

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("QMS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")



@dataclass
class Server:
    """A running server: where to reach it, its tokens and the process to measure and stop."""

    database: str
    host: str
    port: int
    tokens: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    workdir: Path
    backends: Callable[[], list[int]] = no_backends

    @property
    def base_url(self) -> str:
        """http://host:port of the server."""
        return f"http://{self.host}:{self.port}"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def sqlite_database(workdir: Path) -> Iterator[str]:
    """A fresh SQLite file inside the temporary directory (removed with it)."""
    yield f"sqlite:///{workdir / 'civicqueue.db'}"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh cq_bench_* PostgreSQL database, dropped (even with open connections) at the end."""
    name = f"cq_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def database_for(kind: str, workdir: Path) -> contextlib.AbstractContextManager[str]:
    """The database context manager for 'sqlite' or 'postgres'."""
    return sqlite_database(workdir) if kind == "sqlite" else postgres_database()


def server_env(url: str, instance: Path | None = None) -> dict[str, str]:
    """The environment of every CLI call and of the server: our database, a fixed secret, no QMS_* settings of
    the caller, and (given `instance`) local state such as init --demo's demo-tokens.txt kept out of the repo."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QMS_")}
    env.update(QMS_DATABASE_URL=url, QMS_SECRET_KEY="bench-secret-" + uuid.uuid4().hex, PYTHONUNBUFFERED="1")
    if instance is not None:
        env["QMS_INSTANCE"] = str(instance)
    return env


# Server processes run from a venv of requirements.txt alone, as installed in production (`make bench` builds it).
# Without it, the benchmark's own venv: its development packages are then loaded by the server and counted in its
# memory (requests, about 5 MiB, which python-engineio's client imports when it is installed).
RUNTIME_PYTHON = ROOT / ".venv-server" / "bin" / "python"


def server_python() -> str:
    """The interpreter server processes run with: the runtime-only venv's when there is one."""
    return str(RUNTIME_PYTHON) if RUNTIME_PYTHON.exists() else sys.executable


def server_venv() -> str:
    """Which venv the server processes run from, for the reports."""
    if RUNTIME_PYTHON.exists():
        return "requirements.txt only (.venv-server)"
    return f"{Path(sys.prefix).name} (with the development packages)"


def cli(args: list[str], env: dict[str, str]) -> str:
    """Run `python -m server ARGS` from the repository root; return stdout, raise with stderr on failure."""
    return _run([server_python(), "-m", "server", *args], env)


def _run(cmd: list[str], env: dict[str, str]) -> str:
    """Run a command in the repository root; its stdout, or a RuntimeError with its stderr."""
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def init_demo(env: dict[str, str]) -> None:
    """`python -m server init --demo` (set QMS_INSTANCE in env, or its demo tokens land in the repo's instance/)."""
    cli(["init", "--demo"], env)


def make_tokens(env: dict[str, str]) -> dict[str, str]:
    """An admin token, a kiosk token and a clerk token for the demo office, made with `token add`."""
    return {
        "admin": cli(["token", "add", "bench-admin", "--role", "admin"], env).strip(),
        "kiosk": cli(["token", "add", "bench-kiosk", "--device", "kiosk", "--office", "mitte"], env).strip(),
        "clerk": cli(["token", "add", "bench-clerk", "--role", "clerk", "--office", "mitte"], env).strip(),
    }


def start(env: dict[str, str], host: str, port: int, log_path: Path) -> subprocess.Popen:
    """Start `python -m server run` in its own session (a Ctrl-C reaches us, and we stop it)."""
    with open(log_path, "wb") as log:
        return subprocess.Popen([server_python(), "-m", "server", "run", "--host", host, "--port", str(port)],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(proc: subprocess.Popen, base_url: str, log_path: Path, timeout: float = 30.0) -> dict:
    """Poll /healthz until it answers ok; fail early if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as resp:
                body = json.loads(resp.read())
                if body.get("status") == "ok":
                    return body
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {timeout:.0f} s:\n{tail(log_path)}")


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM (the server drains requests), then SIGKILL after `grace` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def running_server(kind: str, host: str = "127.0.0.1",
                   setup: Callable[[dict[str, str]], None] | None = None) -> Iterator[Server]:
    """A demo server on a fresh `kind` database; stopped and its database removed however the block ends.
    `setup(env)` runs CLI commands of its own before the server starts (e.g. `printer set`)."""
    with tempfile.TemporaryDirectory(prefix=f"cq-bench-{kind}-") as tmp:
        workdir = Path(tmp)
        with database_for(kind, workdir) as url:
            env = server_env(url, instance=workdir)
            init_demo(env)
            tokens = make_tokens(env)
            if setup is not None:
                setup(env)
            port, log_path = free_port(host), workdir / "server.log"
            proc = start(env, host, port, log_path)
            try:
                backends = postgres_backends(PG_ADMIN_URL, url.rsplit("/", 1)[1]) if kind == "postgres" else no_backends
                server = Server(kind, host, port, tokens, proc, log_path, workdir, backends)
                wait_healthy(proc, server.base_url, log_path)
                yield server
            finally:
                stop(proc)
