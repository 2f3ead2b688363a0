"""Which offices (and tickets) have clients connected to this process, per namespace."""

from __future__ import annotations

import threading
from collections import Counter


class Registry:
    def __init__(self):
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], dict] = {}  # (namespace, sid) -> {"office", "ticket"}
        self._offices: Counter = Counter()  # (namespace, office) -> connections
        self._tickets: Counter = Counter()  # (office, ticket token) -> connections

    def add(self, namespace: str, sid: str, office: str, ticket: str | None = None) -> None:
        with self._lock:
            self._clients[(namespace, sid)] = {"office": office, "ticket": ticket}
            self._offices[(namespace, office)] += 1
            if ticket:
                self._tickets[(office, ticket)] += 1

    def remove(self, namespace: str, sid: str) -> None:
        with self._lock:
            info = self._clients.pop((namespace, sid), None)
            if info is None:
                return
            self._offices[(namespace, info["office"])] -= 1
            if info["ticket"]:
                self._tickets[(info["office"], info["ticket"])] -= 1
            self._offices += Counter()  # drop zero counts
            self._tickets += Counter()

    def client(self, namespace: str, sid: str) -> dict | None:
        with self._lock:
            return self._clients.get((namespace, sid))

    def watched(self, namespace: str, office: str) -> bool:
        with self._lock:
            return self._offices[(namespace, office)] > 0

    def offices(self) -> set[str]:
        """Every office with a client of this process, in any namespace."""
        with self._lock:
            return {office for (_, office), n in self._offices.items() if n > 0} | {
                office for (office, _), n in self._tickets.items() if n > 0}

    def tickets(self, office: str) -> list[str]:
        with self._lock:
            return [t for (o, t), n in self._tickets.items() if o == office and n > 0]

    def count(self) -> int:
        with self._lock:
            return len(self._clients)


registry = Registry()
