"""A minimal keep-alive JSON client over http.client: one TCP connection, cheap enough for load generation."""

from __future__ import annotations

import http.client
import json
import socket
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, decoded JSON body (or None) and the seconds it took."""

    status: int
    body: Any
    seconds: float


class Client:
    """One persistent HTTP/1.1 connection to the server, authenticated with a bearer token."""

    def __init__(self, host: str, port: int, token: str, timeout: float = 60.0):
        """Remember where to connect; the connection opens on the first request."""
        self.host, self.port, self.timeout = host, port, timeout
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Connection": "keep-alive"}
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        """The open connection, made (with TCP_NODELAY, like the server) on first use or after an error."""
        if self._conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
        return self._conn

    def request(self, method: str, path: str, payload: Any = None) -> Reply:
        """Send one request and read the whole answer. No retries: a POST such as call-next is not idempotent."""
        body = None if payload is None else json.dumps(payload).encode()
        start = time.perf_counter()
        try:
            conn = self._connection()
            conn.request(method, path, body=body, headers=self.headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        seconds = time.perf_counter() - start
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return Reply(resp.status, json.loads(raw) if raw else None, seconds)

    def post(self, path: str, payload: Any = None) -> Reply:
        """POST a JSON body."""
        return self.request("POST", path, payload)

    def get(self, path: str) -> Reply:
        """GET a JSON document."""
        return self.request("GET", path)

    def close(self) -> None:
        """Close the connection (a new one is opened on the next request)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
