"""Live servers for the realtime tests: a real server process with the demo office and its demo tokens."""

from __future__ import annotations

import contextlib

import pytest

from tests.support import databases
from tests.support.server_proc import ServerProcess


@contextlib.contextmanager
def demo_server(tmp_path, *setup: tuple[str, ...]):
    """`init --demo`, then each `setup` CLI command, then the server; stopped however the block ends."""
    proc = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    proc.cli("init", "--demo")
    for args in setup:
        proc.cli(*args)
    proc.tokens = dict(line.split("=", 1) for line in (tmp_path / "demo-tokens.txt").read_text().split())
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def server(tmp_path):
    with demo_server(tmp_path) as proc:
        yield proc
