"""The Redis message queue between server processes (QMS_MESSAGE_QUEUE), made to ride out a Redis outage.

python-socketio's RedisManager as it comes drops every event while Redis is away (even those for this process's
own clients), waits up to 60 s between reconnects, and has no connect timeout (a Redis host that is unreachable
rather than refusing would hang the publisher). Here: a 2 s connect timeout and reconnects at most 2 s apart.
While Redis is away each event still reaches this process's own clients (python-socketio delivers locally before
it publishes); clients on other processes miss it, see a gap in `seq` at the next event and ask for a snapshot
(DESIGN rule 4).

The channel also carries one message of our own, STATE_DUE: "these offices changed". Each process then builds the
`state` snapshots its own clients need and sends them to those clients only, so no process builds snapshots for
namespaces nobody watches, and every process's status pages get theirs (see realtime/publisher.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import redis
import socketio

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 2.0
MAX_RETRY_SECONDS = 2.0
PING_TIMEOUT = 0.5
STATE_DUE = "civicqueue:state-due"  # between server processes only; never an event a client receives


class ClusterRedisManager(socketio.RedisManager):
    """RedisManager with timeouts, quick reconnects and local delivery while Redis is away."""

    def __init__(self, url: str, channel: str):
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": CONNECT_TIMEOUT,
                                                              "socket_keepalive": True})
        self._outage_logged = False
        self.on_state_due: Callable[[list[str]], None] | None = None  # another process changed these offices
        self.on_resubscribed: Callable[[], None] | None = None  # back after an outage: events may have been missed

    def state_due(self, offices: Iterable[str]) -> None:
        """Tell the other processes that these offices changed (their clients need a fresh `state`)."""
        self._publish({"method": "emit", "event": STATE_DUE, "data": sorted(offices), "namespace": "/",
                       "room": None, "skip_sid": None, "callback": None, "host_id": self.host_id})

    def _handle_emit(self, message):
        if message.get("event") == STATE_DUE:
            if message.get("host_id") != self.host_id and self.on_state_due is not None:
                self.on_state_due([str(o) for o in message.get("data") or []])
            return
        super()._handle_emit(message)

    def _publish(self, data):
        for _attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                result = self.redis.publish(self.channel, self.json.dumps(data))
                if self._outage_logged:
                    log.warning("the message queue is back; publishing to every process again")
                    self._outage_logged = False
                return result
            except Exception as exc:  # any Redis failure: reconnect once, then fall back to local delivery
                self.connected = False
                error = exc
        if not self._outage_logged:
            log.error("cannot publish to the message queue (%s); only this process's clients get events", error)
            self._outage_logged = True
        return None

    def _redis_listen_with_retries(self):
        retry = 0.25
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    if retry > 0.25:
                        log.warning("receiving from the message queue again")
                        if self.on_resubscribed is not None:
                            self.on_resubscribed()
                    retry = 0.25
                yield from self.pubsub.listen()
                subscribed = False  # listen() ends only when the subscription did
            except Exception as exc:  # Redis went away: subscribe again once it is back
                if retry == 0.25:
                    log.error("cannot receive from the message queue (%s); retrying", exc)
                subscribed = False
                time.sleep(retry)
                retry = min(retry * 2, MAX_RETRY_SECONDS)


def client_manager(url: str | None, channel: str) -> socketio.Manager | None:
    """The Socket.IO client manager for QMS_MESSAGE_QUEUE: ours for Redis URLs; None (one process) without one."""
    if not url:
        return None
    if url.startswith(("redis://", "rediss://", "unix://")):
        return ClusterRedisManager(url, channel)
    other = (socketio.KafkaManager if url.startswith("kafka://") else
             socketio.ZmqManager if url.startswith("zmq") else socketio.KombuManager)  # as Flask-SocketIO picks
    return other(url, channel=channel)


class RedisProbe:
    """PING with a short timeout, for the health check (one small connection pool, reused)."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_connect_timeout=PING_TIMEOUT, socket_timeout=PING_TIMEOUT)

    def __call__(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError as exc:
            log.warning("health check: message queue down: %s", exc)
            return False
