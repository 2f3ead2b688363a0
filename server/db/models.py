"""SQLAlchemy 2 models: the layout of offices, the people and devices, tickets and their events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from server.queue import TicketState

from .types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16), default="de")
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    issuing: Mapped[bool] = mapped_column(Boolean, default=True)
    # Weekday ("mon".."sun") -> list of ["HH:MM", "HH:MM"] opening periods, in the office's time zone.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    # The languages its kiosks offer (codes); empty means every language of the deployment.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # Retention: ticket details of days before this office-local date are gone; their statistics are in
    # daily_stats.
    details_purged_before: Mapped[date | None] = mapped_column(Date)
    # The last event's sequence number; every committed change takes the next one.
    seq: Mapped[int] = mapped_column(BigInteger, default=0)

    services: Mapped[list[Service]] = relationship(back_populates="office", order_by="Service.sort_order")
    counters: Mapped[list[Counter]] = relationship(back_populates="office", order_by="Counter.sort_order")


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (
        UniqueConstraint("office_id", "slug"),
        CheckConstraint("range_start >= 0 AND range_end >= range_start", name="number_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    slug: Mapped[str] = mapped_column(String(64))
    names: Mapped[dict[str, Any]] = mapped_column()  # language code -> name
    prefix: Mapped[str] = mapped_column(String(4), default="")
    range_start: Mapped[int] = mapped_column(Integer, default=1)
    range_end: Mapped[int] = mapped_column(Integer, default=999)
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    target_wait_minutes: Mapped[int | None] = mapped_column(Integer)
    service_minutes: Mapped[float] = mapped_column(default=5.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    issuing: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    pictogram: Mapped[str | None] = mapped_column(String(32))  # a name from server/web/pictograms.py

    office: Mapped[Office] = relationship(back_populates="services")

    def name_in(self, lang: str, fallback: str = "de") -> str:
        return name_in(self.names, self.slug, lang, fallback)


def name_in(names: dict[str, str], slug: str, lang: str, fallback: str = "de") -> str:
    """A service's name in a language, else in the fallback, else any, else its slug."""
    return names.get(lang) or names.get(fallback) or next(iter(names.values()), slug)


class Counter(Base):
    __tablename__ = "counters"
    __table_args__ = (
        UniqueConstraint("office_id", "slug"),
        CheckConstraint("state IN ('open', 'paused', 'closed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="closed")
    # When the state last changed (the time of its counter_opened/paused/closed event); None before the first.
    state_since: Mapped[datetime | None] = mapped_column(default=None)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    office: Mapped[Office] = relationship(back_populates="counters")
    links: Mapped[list[CounterService]] = relationship(
        order_by="CounterService.level", cascade="all, delete-orphan"
    )


class CounterService(Base):
    """A service a counter serves; level 0 is served before level 1, and so on."""

    __tablename__ = "counter_services"

    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, default=0)

    service: Mapped[Service] = relationship()


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("office_id", "name"),
        CheckConstraint("kind IN ('kiosk', 'display')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column()
    # The ticket printer's settings (config.PrinterConfig as a dict); None or backend "none": screen only.
    printer: Mapped[dict[str, Any] | None] = mapped_column()
    printer_status: Mapped[str] = mapped_column(String(16), default="unknown", server_default="unknown")
    printer_detail: Mapped[str | None] = mapped_column(String(300))
    printer_checked_at: Mapped[datetime | None] = mapped_column()
    last_seen_at: Mapped[datetime | None] = mapped_column()
    agent_version: Mapped[str | None] = mapped_column(String(32))
    agent_connected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The last time a server process vouched for the agent's connection; last_seen_at marks which connection
    # is current and must not move while it lasts, so liveness needs a column of its own.
    agent_seen_at: Mapped[datetime | None] = mapped_column()

    office: Mapped[Office] = relationship()

    @property
    def printer_backend(self) -> str:
        return (self.printer or {}).get("backend", "none")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('clerk', 'supervisor', 'admin', 'agent')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column()

    offices: Mapped[list[Office]] = relationship(secondary="user_offices")


class UserOffice(Base):
    __tablename__ = "user_offices"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), primary_key=True)


class ApiToken(Base):
    """A bearer token: a role (staff or API client) or a device; only its hash is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(
            "role IN ('clerk', 'supervisor', 'admin', 'agent', 'kiosk', 'display')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    created_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    office: Mapped[Office | None] = relationship()
    device: Mapped[Device | None] = relationship()


class DailySequence(Base):
    """How many tickets a service has issued on a service day: the source of gap-free numbers."""

    __tablename__ = "daily_sequences"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    service_day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # A code is unique per office and service day (within one pass through its number range).
        UniqueConstraint("office_id", "service_day", "code", "cycle", name="uq_tickets_code_per_day"),
        # Numbers are drawn per service as issued; a transfer changes service_id but not the number.
        UniqueConstraint("issued_service_id", "service_day", "seq", name="uq_tickets_seq_per_day"),
        UniqueConstraint("office_id", "request_id", name="uq_tickets_request_id"),
        CheckConstraint(
            "state IN ('waiting', 'called', 'serving', 'parked', 'done', 'no_show', 'cancelled')",
            name="state",
        ),
        Index("ix_tickets_queue", "office_id", "state", "service_id"),
        # The heads of a service's queue, in calling order and by age, straight from the index. Calling order
        # covers only tickets not transferred to a counter (partial): as a column, `IS NULL` would not let
        # PostgreSQL read it in order (migration 0008).
        Index("ix_tickets_fifo", "service_id", "state", text("priority_class DESC"), "enqueued_at", "id",
              "target_counter_id",  # last: SQLite's count of the tickets ahead of a new one stays index-only
              postgresql_where=text("target_counter_id IS NULL"), sqlite_where=text("target_counter_id IS NULL")),
        Index("ix_tickets_age", "service_id", "state", "created_at", "id"),
        Index("ix_tickets_target", "target_counter_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_token: Mapped[str] = mapped_column(String(32), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    issued_service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    service_day: Mapped[date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    priority_class: Mapped[int] = mapped_column(Integer, default=0)
    lang: Mapped[str | None] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(100))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    target_counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()
    enqueued_at: Mapped[datetime] = mapped_column()
    called_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    office: Mapped[Office] = relationship()
    service: Mapped[Service] = relationship(foreign_keys=[service_id])
    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id])
    target_counter: Mapped[Counter | None] = relationship(foreign_keys=[target_counter_id])

    @property
    def state_enum(self) -> TicketState:
        return TicketState(self.state)


class Event(Base):
    """The append-only log of everything that happened in an office; statistics are built from it."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("office_id", "seq", name="uq_events_office_seq"),
        Index("ix_events_ticket", "ticket_id"),
        Index("ix_events_office_kind_at", "office_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column()
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)



class PrintJob(Base):
    """One printing of a ticket on one printer: queued, printing, then printed or failed (with why)."""

    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'printing', 'printed', 'failed')", name="state"),
        Index("ix_print_jobs_ticket", "ticket_id"),
        Index("ix_print_jobs_device_state", "device_id", "state"),
        Index("ix_print_jobs_office_state", "office_id", "state", "id"),
        Index("ix_print_jobs_state_updated", "state", "updated_at"),  # the leader's search for orphaned jobs
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    backend: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    reprint: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(String(300))
    # What the ticket says, fixed when the job is made, so the print and its preview are the same image.
    content: Mapped[dict[str, Any]] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    printed_at: Mapped[datetime | None] = mapped_column()

    ticket: Mapped[Ticket] = relationship()
    device: Mapped[Device] = relationship()


class DailyStats(Base):
    """One service's statistics of one office-local day, kept in aggregated form after retention has deleted
    the day's tickets and events: counts and duration histograms, nothing that points to a ticket."""

    __tablename__ = "daily_stats"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()


class RetentionPurge(Base):
    """Marks a retention purge's own transaction (the row is deleted before its commit): the event log's
    append-only guard lets deletes through only while it can see such a row (migration 0006)."""

    __tablename__ = "retention_purges"

    id: Mapped[int] = mapped_column(primary_key=True)
    txid: Mapped[int | None] = mapped_column(BigInteger)  # PostgreSQL: the purging transaction's id
    office_id: Mapped[int] = mapped_column(Integer)


class StaffSession(Base):
    """A signed-in browser: the session cookie names one row, so signing out ends it for good (a copied cookie
    is worthless afterwards) and staff sessions can be listed and ended."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the random id in the cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    ip: Mapped[str | None] = mapped_column(String(45))


class AuditEntry(Base):
    """Who did what, when and from where: every staff and admin action, append-only like the event log."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_office_at", "office_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    actor: Mapped[str] = mapped_column(String(100))  # the name at the time (a user or token may be renamed)
    role: Mapped[str] = mapped_column(String(16))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "login", "login_failed", "ticket.finish", "printer.set"
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))


class PairingCode(Base):
    """A one-time code that pairs a kiosk or display: only its hash is stored; it works once, until it expires."""

    __tablename__ = "pairing_codes"
    __table_args__ = (Index("ix_pairing_codes_device", "device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who made it
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
