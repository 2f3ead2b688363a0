"""One use case, one transaction: events are published only after the commit succeeds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from server.db.models import Event, Office


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user, an API token or a device, with its role and offices (None = all)."""

    role: str
    name: str = ""
    office_ids: frozenset[int] | None = None
    user_id: int | None = None
    token_id: int | None = None
    device_id: int | None = None

    def covers(self, office_id: int) -> bool:
        return self.office_ids is None or office_id in self.office_ids


SYSTEM = Actor(role="admin", name="system")


@dataclass(frozen=True)
class DomainEvent:
    """A committed change, as the realtime layer needs it."""

    office: str
    seq: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


Publisher = Callable[[list[DomainEvent]], None]


def _discard(_events: list[DomainEvent]) -> None:
    pass


_NEXT_SEQ = update(Office).where(Office.id == bindparam("office_id")).values(seq=Office.seq + 1).returning(Office.seq)


_INSERT_EVENT = insert(Event)
_EVENT_COLUMNS = ("office_id", "kind", "at", "ticket_id", "service_id", "counter_id", "user_id", "token_id", "details")
_bumped = _NEXT_SEQ.cte("bumped")
_RECORD_PG = insert(Event).from_select(
    ["seq", *_EVENT_COLUMNS],
    select(_bumped.c.seq, *(bindparam(c, type_=Event.__table__.c[c].type) for c in _EVENT_COLUMNS)),
).returning(Event.seq)


# Events that leave an office's counters and queues as they were, apart from one more waiting ticket.
LOAD_NEUTRAL = frozenset({"issued", "refused", "printed", "print_failed", "print_retried", "reprint",
                          "printer_status", "printer_set", "device_paired"})


class UnitOfWork:
    """A write session; commit on success, roll back on any exception, then publish."""

    def __init__(self, db, publish: Publisher | None = None):
        self.db = db
        self.publish = publish or _discard
        self.events: list[DomainEvent] = []
        self.changed_offices: set[int] = set()  # offices whose counters or queues changed beyond a new ticket

    def __enter__(self) -> UnitOfWork:
        if self.db.write_gate is not None:
            self.db.write_gate.acquire()
        self.session: Session = self.db.write_session()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.session.commit()
            else:
                self.session.rollback()
                self.events.clear()
        finally:
            self.session.close()
            if self.db.write_gate is not None:
                self.db.write_gate.release()
        if exc_type is None and self.changed_offices:
            from .estimates import changed  # the estimates' shared live loads of these offices are stale now

            changed(self.changed_offices)
        if exc_type is None and self.events:
            self.publish(self.events)

    def record(self, office: Office, kind: str, at: datetime, actor: Actor, *, data: dict | None = None,
               ticket_id=None, service_id=None, counter_id=None, details: dict | None = None) -> int:
        """Append an event with the office's next seq; queue a domain event for after the commit."""
        if kind not in LOAD_NEUTRAL:
            self.changed_offices.add(office.id)
        # Plain Core on the session's connection: no ORM bookkeeping on the hottest statements.
        conn = self.session.connection()
        values = {"office_id": office.id, "kind": kind, "at": at, "ticket_id": ticket_id, "service_id": service_id,
                  "counter_id": counter_id, "user_id": actor.user_id, "token_id": actor.token_id,
                  "details": details or {}}
        if conn.dialect.name == "postgresql":
            # One round trip, last before COMMIT: the office row's lock is held as briefly as possible.
            seq = conn.execute(_RECORD_PG, values).scalar_one()
        else:
            seq = conn.execute(_NEXT_SEQ, {"office_id": office.id}).scalar_one()
            conn.execute(_INSERT_EVENT, values | {"seq": seq})
        self.events.append(DomainEvent(office=office.slug, seq=seq, kind=kind, data=data or {}))
        return seq
