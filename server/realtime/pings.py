"""Engine.IO's heartbeat on the gevent loop's timers instead of one sleeping greenlet per connection.

python-engineio 4.15 keeps the heartbeat with a background task per connection: it sleeps `ping_interval`
(25 s), queues a PING, and is started again by every PONG. Under gevent each such task is a greenlet that spends
its whole life asleep, and costs about 9 KiB (measured with 500 displays: 77 KiB per connection with the
tasks, 68 KiB without). A libev timer with a callback does the same job without a stack.

The callback does exactly what engineio's task does after its sleep. That never blocks: the socket was closed
(nothing to do), or its `send` finds no ping outstanding (`last_ping` was cleared when the ping was scheduled)
and puts the packet on an unbounded queue. So it may run in the hub. The ping *timeout* is untouched: engineio's
service task and the writer's poll timeout still close a client that stops answering.

Only `prepare` (the gevent serving path of `python -m server run` and gunicorn) installs it; the threading mode of
the tests keeps engineio's own task. Installing checks that engineio still has the method this replaces, so an
engineio upgrade that reworks the heartbeat fails at start, not silently.
"""

from __future__ import annotations

import time

import gevent
from engineio import packet
from engineio import socket as engineio_socket

_original_schedule_ping = engineio_socket.Socket.schedule_ping


def _ping_due(sock: engineio_socket.Socket, timer) -> None:
    """engineio's `Socket._send_ping` after its sleep, run by the timer in the hub."""
    timer.close()
    if not sock.closing and not sock.closed:
        sock.last_ping = time.time()
        sock.send(packet.Packet(packet.PING))


def _schedule_ping_on_timer(self: engineio_socket.Socket) -> None:
    """engineio's `Socket.schedule_ping`, with a loop timer for the background task."""
    if self.last_ping:  # only after the previous ping was answered (engineio clears it while one is due)
        self.last_ping = None
        timer = gevent.get_hub().loop.timer(self.server.ping_interval)
        timer.start(_ping_due, self, timer)


def use_loop_timers() -> None:
    """Schedule every Engine.IO ping of this (gevent) process on a loop timer. Safe to call again."""
    if not callable(getattr(engineio_socket.Socket, "_send_ping", None)):
        raise RuntimeError("python-engineio no longer has Socket._send_ping; "
                           "check server/realtime/pings.py against its heartbeat before upgrading")
    engineio_socket.Socket.schedule_ping = _schedule_ping_on_timer


def use_engineio_tasks() -> None:
    """Undo use_loop_timers (for tests)."""
    engineio_socket.Socket.schedule_ping = _original_schedule_ping
