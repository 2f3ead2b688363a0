"""A fresh PostgreSQL database with the demo office, and CivicQueue processes under gunicorn sharing it and a
Redis message queue. Without PostgreSQL or Redis these tests skip, except under CI=true, where they fail."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from server.config import ROOT
from tests.support import databases

from .support import Gunicorn, PrivateRedis

SHARED_REDIS = ("127.0.0.1", 6379)


def _unavailable(message: str):
    if databases.IN_CI:
        pytest.fail(message + " -- CI=true, so this is an error, not a skip")
    pytest.skip(message)


def require_redis() -> None:
    try:
        with socket.create_connection(SHARED_REDIS, timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if not sock.recv(16).startswith(b"+PONG"):
                raise OSError("no PONG")
    except OSError as exc:
        _unavailable(f"Redis not reachable at {SHARED_REDIS[0]}:{SHARED_REDIS[1]} ({exc}); start redis-server")


@dataclass
class Cluster:
    """The processes, their shared database and the demo tokens (ADMIN, CLERK, KIOSK, DISPLAY)."""

    database_url: str
    env: dict[str, str]
    tokens: dict[str, str]
    workdir: Path
    processes: list[Gunicorn] = field(default_factory=list)

    def add(self, **env) -> Gunicorn:
        process = Gunicorn({**self.env, **env}, self.workdir).start()
        self.processes.append(process)
        return process

    def post(self, process: Gunicorn, path: str, token: str, timeout: float = 10, **body) -> requests.Response:
        return requests.post(f"{process.url}/api/v1{path}", json=body or None, timeout=timeout,
                             headers={"Authorization": f"Bearer {self.tokens[token]}"})

    def get(self, process: Gunicorn, path: str, token: str) -> requests.Response:
        return requests.get(f"{process.url}/api/v1{path}", timeout=10,
                            headers={"Authorization": f"Bearer {self.tokens[token]}"})


@pytest.fixture
def make_cluster(tmp_path):
    """make_cluster(n, message_queue=None) -> Cluster with n ready processes (shared Redis unless given)."""
    databases.require_postgres()
    made: list[tuple[Cluster, str]] = []

    def make(n: int = 2, message_queue: str | None = None) -> Cluster:
        if message_queue is None:
            require_redis()
            message_queue = f"redis://{SHARED_REDIS[0]}:{SHARED_REDIS[1]}/0"
        url = databases.new_postgres_url()
        env = {k: v for k, v in os.environ.items() if not k.startswith("QMS_")}
        env.update(QMS_INSTANCE=str(tmp_path), QMS_DATABASE_URL=url, QMS_SECRET_KEY="cluster-test",
                   QMS_MESSAGE_QUEUE=message_queue, QMS_MESSAGE_QUEUE_CHANNEL=f"cq-test-{uuid.uuid4().hex[:10]}",
                   QMS_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
        done = subprocess.run([sys.executable, "-m", "server", "init", "--demo"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        tokens = dict(line.split("=", 1) for line in (tmp_path / "demo-tokens.txt").read_text().split())
        cluster = Cluster(url, env, tokens, tmp_path)
        made.append((cluster, url))
        for _ in range(n):
            cluster.add()
        for process in cluster.processes:
            process.wait_ready()
        return cluster

    yield make
    for cluster, url in made:
        for process in cluster.processes:
            process.terminate()
        for process in cluster.processes:
            process.stop()
        databases.drop_postgres(url)


@pytest.fixture
def private_redis(tmp_path):
    if not os.access(PrivateRedis.BINARY, os.X_OK):
        _unavailable(f"{PrivateRedis.BINARY} not found (apt-get install redis-server)")
    redis = PrivateRedis(tmp_path).start()
    yield redis
    redis.stop()
