"""The Redis message queue between server processes (QMS_MESSAGE_QUEUE), made to ride out a Redis outage.

python-socketio's RedisManager as it comes drops every event while Redis is away (even those for this process's
own clients), waits up to 60 s between reconnects, and has no connect timeout (a Redis host that is unreachable
rather than refusing would hang the publisher). Here: a 2 s connect timeout, reconnects at most 2 s apart,
and events that cannot be published are still delivered to this process's own clients. Clients on other
processes miss them, see a gap in `seq` at the next event and ask for a snapshot (DESIGN rule 4).
"""

from __future__ import annotations

import logging
import time

import redis
import socketio

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 2.0
MAX_RETRY_SECONDS = 2.0
PING_TIMEOUT = 0.5


class ClusterRedisManager(socketio.RedisManager):
    """RedisManager with timeouts, quick reconnects and local delivery while Redis is away."""

    def __init__(self, url: str, channel: str):
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": CONNECT_TIMEOUT,
                                                              "socket_keepalive": True})
        self._outage_logged = False

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
            log.error("cannot publish to the message queue (%s); delivering to this process's clients only", error)
            self._outage_logged = True
        if isinstance(data, dict) and data.get("method") == "emit":
            self._handle_emit(data)
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
