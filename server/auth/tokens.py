"""Bearer tokens: random, shown once, stored as a SHA-256 hash (they are long and random, so a
fast hash is safe; passwords get argon2)."""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server.db.models import ApiToken, Device, Office
from server.services.context import Context
from server.services.errors import Invalid, NotFound
from server.services.uow import Actor

from .roles import ALL_ROLES, DEVICE_KINDS, OFFICE_BOUND

PREFIX = "cq_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ctx: Context, name: str, *, role: str | None = None, device: str | None = None,
                 office_slug: str | None = None) -> str:
    """Make a token for a role or a device (created on first use of its name); return it in clear."""
    role = device or role
    if role not in ALL_ROLES:
        raise Invalid(f"unknown role '{role}' (one of: {', '.join(ALL_ROLES)})", "invalid_role")
    if role in OFFICE_BOUND and not office_slug:
        raise Invalid(f"a {role} token needs --office", "office_required")
    token = PREFIX + secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        office = _office(session, office_slug) if office_slug else None
        dev = _device(session, office, name, role, now) if device else None
        session.add(ApiToken(name=name, token_hash=hash_token(token), role=role, office=office,
                             device=dev, created_at=now))
    return token


def _office(session: Session, slug: str) -> Office:
    office = session.scalars(select(Office).where(Office.slug == slug)).one_or_none()
    if office is None:
        raise NotFound("office", slug)
    return office


def _device(session: Session, office: Office, name: str, kind: str, now) -> Device:
    if kind not in DEVICE_KINDS:
        raise Invalid(f"unknown device kind '{kind}'", "invalid_device")
    dev = session.scalars(select(Device).where(Device.office_id == office.id, Device.name == name)).one_or_none()
    if dev is None:
        dev = Device(office=office, kind=kind, name=name, created_at=now)
        session.add(dev)
    elif dev.kind != kind:
        raise Invalid(f"device '{name}' is a {dev.kind}, not a {kind}", "invalid_device")
    return dev


_BY_HASH = select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.office_id, ApiToken.device_id,
                  ApiToken.revoked_at).where(ApiToken.token_hash == bindparam("hash"))


CACHE_SECONDS = 2.0  # how long a token's actor is trusted without a read (see actor_of)
CACHE_SIZE = 4096
_clock = time.monotonic


def actor_of(db, token: str) -> Actor | None:
    """`actor_for_token`, remembered for CACHE_SECONDS per database.

    Every kiosk tap and every call sends the device's token, and its lookup (a session of its own) took a
    tenth of the request's CPU. Only known, live tokens are remembered, so unknown ones cannot fill the cache.
    A revocation by this process forgets them at once (`forget_tokens`); one made elsewhere (another worker,
    the CLI) is seen within CACHE_SECONDS.
    """
    key, now = hash_token(token), _clock()
    cache: dict[str, tuple[float, Actor]] = db.token_actors
    hit = cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    with db.read_session() as session:
        actor = _actor_by_hash(session, key)
    if actor is None:
        cache.pop(key, None)
    else:
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        cache[key] = (now, actor)
    return actor


def forget_tokens(db) -> None:
    """After a revocation: every token is read again on its next use."""
    db.token_actors.clear()


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The actor a bearer token stands for, or None if it is unknown or revoked (one indexed lookup)."""
    return _actor_by_hash(session, hash_token(token))


def _actor_by_hash(session: Session, key: str) -> Actor | None:
    row = session.execute(_BY_HASH, {"hash": key}).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return Actor(role=row.role, name=row.name, token_id=row.id, device_id=row.device_id,
                 office_ids=None if row.office_id is None else frozenset({row.office_id}))
