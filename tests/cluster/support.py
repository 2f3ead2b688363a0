"""Live CivicQueue processes under gunicorn (as deployed), a failover proxy standing in for nginx, display
clients, and a private Redis server the tests may stop."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import socketio

from server.config import ROOT
from tests.support.server_proc import free_port

GUNICORN = ["-m", "gunicorn", "-c", str(ROOT / "config" / "deploy" / "gunicorn.conf.py")]


class Gunicorn:
    """One server process of the cluster: gunicorn's arbiter and its one gevent worker, in their own session."""

    def __init__(self, env: dict[str, str], log_dir: Path, port: int | None = None, python: str = sys.executable):
        self.env, self.port, self.python = env, port or free_port(), python
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"gunicorn-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        with open(self.log_path, "ab") as log:
            command = [self.python, *GUNICORN, "-b", f"127.0.0.1:{self.port}", "server.wsgi:application"]
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}: {self.log_text()}")
            with contextlib.suppress(requests.RequestException):
                resp = requests.get(self.url + "/healthz", timeout=2)
                if resp.status_code == 200:
                    return resp.json()
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn on {self.port} not ready after {timeout}s: {self.log_text()}")

    def health(self) -> dict:
        return requests.get(self.url + "/healthz", timeout=5).json()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def kill9(self) -> None:
        """The whole process (arbiter and worker) dies at once, as in a crash."""
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> None:
        """SIGTERM, without waiting: gunicorn finishes running requests and exits."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()

    def stop(self, grace: float = 5) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill9()
        with contextlib.suppress(ProcessLookupError, PermissionError):  # a worker left behind by a crash
            if self.proc:
                os.killpg(self.proc.pid, signal.SIGKILL)


class Display:
    """A display's Socket.IO client: every event in order, reconnecting like the browser client does."""

    namespace = "/display"

    def __init__(self, url: str, token: str, *, reconnection: bool = False):
        self.inbox: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=reconnection, reconnection_delay=1, reconnection_delay_max=5)
        self.client.on("*", lambda event, data: self.inbox.put((event, data, time.monotonic())),
                       namespace=self.namespace)
        self.client.connect(url, namespaces=[self.namespace], auth=self.auth(token), transports=["websocket"],
                            wait_timeout=5)

    @staticmethod
    def auth(token: str) -> dict:
        return {"token": token}

    def next(self, name: str, timeout: float = 5.0, where=lambda data: True):
        """The next `name` event matching `where`: (data, monotonic arrival time); earlier events are dropped."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event, data, at = self.inbox.get(timeout=left)
            except queue.Empty:
                break
            if event == name and where(data):
                return data, at
        raise AssertionError(f"no {name} within {timeout} s")

    def drain(self) -> list[tuple[str, dict, float]]:
        out = []
        with contextlib.suppress(queue.Empty):
            while True:
                out.append(self.inbox.get_nowait())
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()


class StatusPage(Display):
    """A citizen's phone following one ticket (`token` is the ticket's public token)."""

    namespace = "/status"

    @staticmethod
    def auth(token: str) -> dict:
        return {"ticket": token}


class FailoverProxy:
    """A TCP proxy that sends each new connection to the first backend that accepts it: what nginx does for
    a client whose sticky backend is down. A connection ends on both sides when either side closes."""

    def __init__(self, backends: list[int]):
        self.backends = backends
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        for port in self.backends:
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=2)
                break
            except OSError:
                continue
        else:
            client.close()
            return
        upstream.settimeout(None)
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)

    def close(self) -> None:
        self._closed = True
        self.listener.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class PrivateRedis:
    """A redis-server of the test's own on a free port, so stopping it disturbs nobody else."""

    BINARY = "/usr/bin/redis-server"

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([self.BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly", "no"], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start: {self.log_path.read_text()}")

    def terminate(self) -> None:
        """SIGTERM, without waiting: gunicorn finishes running requests and exits."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
