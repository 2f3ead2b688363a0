"""Pairing kiosks and displays: an admin adds a device and gets a one-time code; the device trades the code
for its own long-lived token; revoking the device ends every token it has. One use case, one transaction."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from server.auth.roles import DEVICE_KINDS
from server.auth.tokens import PREFIX, forget_tokens, hash_token
from server.db.models import ApiToken, AuditEntry, Device, Office, PairingCode

from .context import Context
from .errors import Conflict, Invalid, NotFound, ServiceError
from .lookup import office_by_slug
from .print_reads import device_view
from .uow import Actor, UnitOfWork
from .views import iso

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: nothing to mistake on a screen or a sticker
CODE_LENGTH = 8
MINUTES = 15
SEEN_EVERY = timedelta(minutes=1)


class CodeNotFound(ServiceError):
    status = 404
    code = "pairing_code_not_found"


class CodeExpired(ServiceError):
    status = 410
    code = "pairing_code_expired"


def normalize(code: str) -> str | None:
    """'abcd-efgh' and 'ABCDEFGH' are the same code; None for anything that cannot be one."""
    raw = "".join(code.split()).replace("-", "").upper() if isinstance(code, str) else ""
    return raw if len(raw) == CODE_LENGTH and all(c in ALPHABET for c in raw) else None


def display_code(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:]}"


def hash_code(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def is_valid(ctx: Context, raw: str) -> bool:
    """Whether a (normalized) code can still be redeemed."""
    with ctx.db.read_session() as session:
        return session.scalar(select(PairingCode.id).where(
            PairingCode.code_hash == hash_code(raw), PairingCode.used_at.is_(None),
            PairingCode.expires_at > ctx.clock())) is not None


def peek(ctx: Context, code: str) -> dict:
    """What a valid code would pair (device name, kind, office name), without using it; else why not."""
    raw = normalize(code)
    if raw is None:
        raise CodeNotFound("no such pairing code; check it and type it again")
    with ctx.db.read_session() as session:
        device = session.scalar(select(Device).join(PairingCode, PairingCode.device_id == Device.id).where(
            PairingCode.code_hash == hash_code(raw), PairingCode.used_at.is_(None),
            PairingCode.expires_at > ctx.clock()))
        if device is None:
            _refuse(session, raw)
        return {"device": device.name, "kind": device.kind, "office": device.office.slug,
                "office_name": device.office.name, "code": display_code(raw)}


def create_device(ctx: Context, actor: Actor, office_slug: str, name: str, kind: str) -> dict:
    """Add a kiosk or display to an office (it has no token until it is paired)."""
    name = _valid_name(name)
    if kind not in DEVICE_KINDS:
        raise Invalid(f"kind must be one of {', '.join(DEVICE_KINDS)}", "invalid_kind")
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        office = office_by_slug(session, office_slug, actor)
        if session.scalar(select(Device.id).where(Device.office_id == office.id, Device.name == name)):
            raise Conflict(f"office '{office.slug}' already has a device named '{name}'", "device_exists")
        device = Device(office=office, kind=kind, name=name, created_at=now)
        session.add(device)
        session.flush()
        uow.record(office, "device_created", now, actor, details={"device": name, "kind": kind})
        return view(session, device)


def new_code(ctx: Context, actor: Actor, office_slug: str, device_name: str, minutes: int = MINUTES) -> dict:
    """A fresh one-time code for a device; any earlier unused code of the device stops working."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        office, device = _office_device(session, office_slug, device_name, actor)
        _expire_codes(session, device.id, now)
        expires = now + timedelta(minutes=minutes)
        session.add(PairingCode(device_id=device.id, code_hash=hash_code(raw), created_at=now, expires_at=expires,
                                user_id=actor.user_id, token_id=actor.token_id))
        uow.record(office, "device_pairing_code", now, actor, details={"device": device.name})
    code = display_code(raw)
    return {"code": code, "expires_at": iso(expires), "url": f"{ctx.base_url}/pair/{code}",
            "qr_svg": f"/pair/{code}/qr.svg", "device": device.name, "kind": device.kind, "office": office.slug}


def redeem(ctx: Context, code: str, ip: str | None) -> tuple[str, dict]:
    """Trade a valid code for a new device token, returned in clear this once (stored hashed)."""
    raw = normalize(code)
    if raw is None:
        raise CodeNotFound("no such pairing code; check it and type it again")
    token = PREFIX + secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        device_id = session.scalar(
            update(PairingCode).where(PairingCode.code_hash == hash_code(raw), PairingCode.used_at.is_(None),
                                      PairingCode.expires_at > now)
            .values(used_at=now).returning(PairingCode.device_id))
        if device_id is None:
            _refuse(session, raw)
        device = session.get(Device, device_id)
        row = ApiToken(name=device.name, token_hash=hash_token(token), role=device.kind,
                       office_id=device.office_id, device_id=device.id, created_at=now)
        session.add(row)
        session.flush()
        me = Actor(role=device.kind, name=device.name, token_id=row.id, device_id=device.id,
                   office_ids=frozenset({device.office_id}))
        uow.record(device.office, "device_paired", now, me, details={"device": device.name})
        _audit(uow, me, device, now, ip)
        return token, view(session, device)


def revoke(ctx: Context, actor: Actor, office_slug: str, device_name: str) -> tuple[dict, list[int]]:
    """End every token (and unused code) of a device; returns its view and the device ids to cut off live."""
    with ctx.uow() as uow:
        session, now = uow.session, ctx.clock()
        office, device = _office_device(session, office_slug, device_name, actor)
        ended = session.execute(update(ApiToken).where(ApiToken.device_id == device.id,
                                                       ApiToken.revoked_at.is_(None)).values(revoked_at=now))
        _expire_codes(session, device.id, now)
        uow.record(office, "device_revoked", now, actor, details={"device": device.name, "tokens": ended.rowcount})
        result = view(session, device), [device.id]
    forget_tokens(ctx.db)  # after the commit, so no request reads the tokens as live again
    return result


def mark_seen(ctx: Context, device_id: int) -> None:
    """Last contact of a device, at most once a minute (one conditional UPDATE). While its printer agent is
    connected the agent's own mark stands: it tells that connection apart from a newer one."""
    now = ctx.clock()
    with ctx.uow() as uow:
        uow.session.execute(update(Device).where(
            Device.id == device_id, Device.agent_connected.is_(False),
            or_(Device.last_seen_at.is_(None), Device.last_seen_at < now - SEEN_EVERY)).values(last_seen_at=now))


def view(session: Session, device: Device) -> dict:
    """The device as staff see it, plus whether it holds a live token."""
    live = session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.device_id == device.id, ApiToken.revoked_at.is_(None)))
    return {**device_view(session, device), "office": device.office.slug, "paired": bool(live)}


def _valid_name(name) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= 100 or not name.isprintable() or "/" in name:
        raise Invalid("name must be 1 to 100 printable characters without '/'", "invalid_name")
    return name


def _office_device(session: Session, office_slug: str, name: str, actor: Actor) -> tuple[Office, Device]:
    office = office_by_slug(session, office_slug, actor)
    device = session.scalars(select(Device).where(Device.office_id == office.id, Device.name == name)).one_or_none()
    if device is None:
        raise NotFound("device", name)
    return office, device


def _expire_codes(session: Session, device_id: int, now: datetime) -> None:
    session.execute(update(PairingCode).where(PairingCode.device_id == device_id, PairingCode.used_at.is_(None),
                                              PairingCode.expires_at > now).values(expires_at=now))


def _refuse(session: Session, raw: str):
    """Why a code did not work: unknown or already used (404), or expired or replaced (410)."""
    used_at = session.execute(select(PairingCode.used_at).where(PairingCode.code_hash == hash_code(raw))).first()
    if used_at is not None and used_at[0] is None:
        raise CodeExpired("this pairing code has expired or was replaced; ask an administrator for a new one")
    raise CodeNotFound("no such pairing code, or it has been used already; ask an administrator for a new one")


def _audit(uow: UnitOfWork, device_actor: Actor, device: Device, now: datetime, ip: str | None) -> None:
    """"device.paired" in the same transaction: /pair is public, so the API's audit hook has no actor for it."""
    uow.session.execute(insert(AuditEntry).values(
        at=now, token_id=device_actor.token_id, actor=device_actor.name[:100], role=device_actor.role,
        office_id=device.office_id, action="device.paired", target=f"{device.office.slug}/{device.name}"[:200],
        details={"kind": device.kind}, ip=ip))
