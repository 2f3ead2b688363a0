"""A light Socket.IO v5 client (Engine.IO v4, websocket transport only) over the `websockets` asyncio library,
and a swarm of them that share one record of when each event arrived.

Only what a waiting-room display needs: the open packet, the namespace connect with an auth object, ping/pong
and text events. Each packet is stamped with time.perf_counter() as soon as it is taken from the socket, and
events are decoded only as far as their name and `seq`, so a thousand clients fit in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

EIO_OPEN, EIO_PING, EIO_PONG = "0", "2", "3"
# '["ticket_called", {"seq": 12, ...' -- python-socketio writes the event name first, and CivicQueue's payloads
# start with their seq; anything else falls back to json.loads.
HEAD = re.compile(r'\["([^"]+)",\s*\{"seq":\s*(\d+)')


class ConnectRefused(Exception):
    """The server answered the namespace connect with CONNECT_ERROR (packet 44)."""


def event_head(body: str) -> tuple[str, int | None]:
    """(name, seq) of an event packet's JSON body '["name", {"seq": 7, ...}]'; seq is None when there is none."""
    match = HEAD.match(body)
    if match:
        return match[1], int(match[2])
    data = json.loads(body)
    payload = data[1] if len(data) > 1 else None
    seq = payload.get("seq") if isinstance(payload, dict) else None
    return str(data[0]), seq if isinstance(seq, int) else None


@dataclass
class Expectation:
    """Waiting until `count` clients have received the first `name` event whose seq is above `after`."""

    name: str
    count: int
    after: int
    seq: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Arrivals:
    """When each client received each (event name, seq): shared by all clients of a swarm, one event loop."""

    def __init__(self) -> None:
        self.times: dict[tuple[str, int | None], list[float]] = defaultdict(list)
        self.pings: list[float] = []  # when any client got an Engine.IO ping
        self.latest: dict[str, int] = {}
        self._pending: dict[str, Expectation] = {}

    def record(self, name: str, seq: int | None, at: float) -> None:
        """Note that one client received event `name` with `seq` at perf_counter time `at`."""
        times = self.times[(name, seq)]
        times.append(at)
        if seq is not None and seq > self.latest.get(name, -1):
            self.latest[name] = seq
        exp = self._pending.get(name)
        if exp is None:
            return
        if exp.seq is None and seq is not None and seq > exp.after:
            exp.seq = seq
        if exp.seq == seq and len(times) >= exp.count:
            exp.done.set()

    def expect(self, name: str, count: int) -> Expectation:
        """Start waiting for the next new `name` event (register before triggering it)."""
        exp = Expectation(name, count, self.latest.get(name, -1))
        self._pending[name] = exp
        return exp

    async def wait(self, exp: Expectation, timeout: float) -> list[float]:
        """The arrival times of the expected event: all of them, or those seen within `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(exp.done.wait(), timeout)
        if self._pending.get(exp.name) is exp:
            del self._pending[exp.name]
        return list(self.times.get((exp.name, exp.seq), ())) if exp.seq is not None else []


class SioClient:
    """One Socket.IO client on one namespace; every event it receives is recorded in the shared Arrivals."""

    def __init__(self, url: str, namespace: str, auth: dict, arrivals: Arrivals, deflate: bool = False):
        self.url, self.namespace, self.auth, self.arrivals = url, namespace, auth, arrivals
        self.compression = "deflate" if deflate else None  # browsers offer permessage-deflate
        self.event_prefix = f"42{namespace},"
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task | None = None

    async def connect(self) -> None:
        """Open the websocket, join the namespace and wait for its acknowledgement and first event (snapshot)."""
        self.ws = await connect(self.url, compression=self.compression, proxy=None, ping_interval=None,
                                open_timeout=None, close_timeout=1, max_size=2**24)
        opening = await self.ws.recv()
        if not opening.startswith(EIO_OPEN):
            raise ConnectionError(f"expected an Engine.IO open packet, got {opening[:60]!r}")
        await self.ws.send(f"40{self.namespace},{json.dumps(self.auth)}")
        acked = first_event = False
        while not (acked and first_event):
            message = await self.ws.recv()
            at = time.perf_counter()
            if message.startswith(f"44{self.namespace},"):
                raise ConnectRefused(message[len(self.namespace) + 3:])
            acked = acked or message.startswith(f"40{self.namespace},")
            first_event = await self._handle(message, at) or first_event
        self.task = asyncio.create_task(self._listen())

    async def _handle(self, message: str, at: float) -> bool:
        """Record an event (True); answer a ping; ignore anything else."""
        if message.startswith(self.event_prefix):
            name, seq = event_head(message[len(self.event_prefix):])
            self.arrivals.record(name, seq, at)
            return True
        if message == EIO_PING:
            self.arrivals.pings.append(at)
            await self.ws.send(EIO_PONG)
        return False

    async def _listen(self) -> None:
        """Stamp and record every packet until the connection closes."""
        with contextlib.suppress(ConnectionClosed):
            async for message in self.ws:
                await self._handle(message, time.perf_counter())

    @property
    def alive(self) -> bool:
        """Connected and still listening."""
        return self.task is not None and not self.task.done()

    async def close(self) -> None:
        """Close the websocket (waiting at most its close_timeout) and stop listening."""
        if self.ws is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail in many ways
                await self.ws.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class Swarm:
    """Many clients of one namespace and auth, connected with bounded concurrency and time."""

    def __init__(self, url: str, namespace: str, auth: dict, arrivals: Arrivals, deflate: bool = False):
        self.url, self.namespace, self.auth, self.arrivals, self.deflate = url, namespace, auth, arrivals, deflate
        self.clients: list[SioClient] = []
        self.errors: list[str] = []

    @property
    def alive(self) -> int:
        """How many clients are still connected."""
        return sum(1 for c in self.clients if c.alive)

    async def grow(self, total: int, *, concurrency: int = 50, timeout: float = 15.0, deadline: float = 180.0
                   ) -> int:
        """Connect new clients until `total` were tried (failures are counted in `errors`, not retried), each
        within `timeout` seconds and all within `deadline`; return how many are connected."""
        gate = asyncio.Semaphore(concurrency)
        tasks = [asyncio.create_task(self._join(gate, timeout)) for _ in range(total - len(self.clients))]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=deadline)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            self.errors += [f"connect deadline of {deadline:g} s passed"] if late else []
        return len(self.clients)

    async def _join(self, gate: asyncio.Semaphore, timeout: float) -> None:
        client = SioClient(self.url, self.namespace, self.auth, self.arrivals, self.deflate)
        async with gate:
            try:
                async with asyncio.timeout(timeout):
                    await client.connect()
            except Exception as exc:  # any failure is one failed connection, reported with the results
                self.errors.append(f"connect: {exc!r}"[:200])
                await client.close()
                return
        self.clients.append(client)

    async def close(self, timeout: float = 20.0) -> None:
        """Close every client, all at once, giving up after `timeout` seconds."""
        tasks = [asyncio.create_task(c.close()) for c in self.clients]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout)
            for task in late:
                task.cancel()
