"""What every use case needs: the database, the publisher, a clock and the public base URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from server.db import Database
from server.queue.numbering import utc_now

from .uow import Publisher, UnitOfWork


@dataclass(frozen=True)
class Context:
    db: Database
    publish: Publisher | None = None
    clock: Callable[[], datetime] = utc_now
    base_url: str = ""

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.publish)

    def with_base_url(self, base_url: str) -> Context:
        return replace(self, base_url=base_url.rstrip("/"))
