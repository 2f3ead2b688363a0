"""The audit log: who did what, when and from where (staff and admin actions; devices are in the event log)."""

from __future__ import annotations

from sqlalchemy import insert

from server.db.models import AuditEntry

from .context import Context
from .uow import Actor

_INSERT = insert(AuditEntry)


def record(ctx: Context, actor: Actor | None, action: str, *, office_id: int | None = None,
           target: str | None = None, details: dict | None = None, ip: str | None = None,
           name: str | None = None) -> None:
    """Append one entry in its own transaction. `name` stands in for an actor that is not known (a failed login)."""
    with ctx.uow() as uow:
        uow.session.connection().execute(_INSERT, dict(
            at=ctx.clock(), user_id=actor.user_id if actor else None, token_id=actor.token_id if actor else None,
            actor=(actor.name if actor else name or "anonymous")[:100], role=actor.role if actor else "anonymous",
            office_id=office_id, action=action[:64], target=target[:200] if target else None,
            details=details or {}, ip=ip))
