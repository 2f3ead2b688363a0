"""A real CivicQueue server process for end-to-end tests: init, tokens, start, kill -9, restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from server.config import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, instance: Path, database_url: str, port: int | None = None, extra_env: dict | None = None):
        self.instance, self.port = instance, port or free_port()
        self.env = {**os.environ, "QMS_INSTANCE": str(instance), "QMS_DATABASE_URL": database_url,
                    "QMS_SECRET_KEY": "test-secret", "QMS_LOG_LEVEL": "WARNING", **(extra_env or {})}
        self.env.pop("QMS_CONFIG", None)
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"server {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def start(self, timeout: float = 20) -> ServerProcess:
        log = open(self.instance / f"server-{self.port}.log", "ab")  # noqa: SIM115 (kept open while it runs)
        self.proc = subprocess.Popen([sys.executable, "-m", "server", "run", "--port", str(self.port)], cwd=ROOT,
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {timeout}s: {self.log_text()}")

    def log_text(self) -> str:
        path = self.instance / f"server-{self.port}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()
