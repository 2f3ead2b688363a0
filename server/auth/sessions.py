"""Staff sessions kept on the server: the cookie holds a random id whose hash names a row here, so a session
ends for good when its user signs out, changes the password or is deactivated."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from server.db.models import StaffSession, User
from server.services.context import Context


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start(ctx: Context, user_id: int, lifetime: timedelta, ip: str | None) -> str:
    """A new session for this user; returns the id for the cookie (shown only here)."""
    sid = secrets.token_urlsafe(32)
    now = ctx.clock()
    with ctx.uow() as uow:
        uow.session.add(StaffSession(id=_hash(sid), user_id=user_id, created_at=now, expires_at=now + lifetime,
                                     ip=ip))
    return sid


_LIVE = (select(User).join(StaffSession, StaffSession.user_id == User.id)
         .where(StaffSession.ended_at.is_(None), User.active.is_(True)))


def user_of(ctx: Context, sid: str | None, user_id: int) -> User | None:
    """The user of a live session (not ended, not expired, user active), with its offices loaded; else None."""
    if not sid:
        return None
    with ctx.db.read_session() as session:
        user = session.scalars(_LIVE.where(StaffSession.id == _hash(sid), User.id == user_id,
                                           StaffSession.expires_at > ctx.clock())).one_or_none()
        if user is not None:
            user.offices  # noqa: B018 (load them while the session is open)
        return user


def end(ctx: Context, sid: str | None) -> None:
    if sid:
        with ctx.uow() as uow:
            uow.session.execute(update(StaffSession).where(StaffSession.id == _hash(sid),
                                                           StaffSession.ended_at.is_(None))
                                .values(ended_at=ctx.clock()))


def end_all(ctx: Context, user_id: int, keep: str | None = None) -> int:
    """End every session of a user (all but `keep`); returns how many were live."""
    with ctx.uow() as uow:
        query = update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        if keep:
            query = query.where(StaffSession.id != _hash(keep))
        return uow.session.execute(query.values(ended_at=ctx.clock())).rowcount
