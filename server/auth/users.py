"""Staff users: passwords hashed with argon2."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select

from server.db.models import Office, User
from server.services.context import Context
from server.services.errors import Conflict, Invalid, NotFound

from .roles import OFFICE_BOUND, STAFF_ROLES

_hasher = PasswordHasher()
MIN_PASSWORD = 10


def require_strong(password: str) -> None:
    """The password rules, the same for the CLI and the admin page: 422 weak_password naming the rule."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password needs at least {MIN_PASSWORD} characters", "weak_password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(ctx: Context, name: str, role: str, password: str, office_slugs: list[str]) -> int:
    """Create a staff user; return its id."""
    if role not in STAFF_ROLES:
        raise Invalid(f"unknown role '{role}' (one of: {', '.join(STAFF_ROLES)})", "invalid_role")
    if role in OFFICE_BOUND and not office_slugs:
        raise Invalid(f"a {role} needs --office", "office_required")
    require_strong(password)
    with ctx.uow() as uow:
        session = uow.session
        if session.scalars(select(User.id).where(User.name == name)).first():
            raise Conflict(f"a user '{name}' already exists", "already_exists")
        offices = []
        for slug in office_slugs:
            office = session.scalars(select(Office).where(Office.slug == slug)).one_or_none()
            if office is None:
                raise NotFound("office", slug)
            offices.append(office)
        user = User(name=name, role=role, password_hash=hash_password(password), offices=offices,
                    active=True, created_at=ctx.clock())
        session.add(user)
        session.flush()
        return user.id


def set_password(ctx: Context, name: str, password: str) -> int:
    """Give a user a new password (the CLI, or the user after checking the old one); returns the user's id."""
    require_strong(password)
    with ctx.uow() as uow:
        user = uow.session.scalars(select(User).where(User.name == name)).one_or_none()
        if user is None:
            raise NotFound("user", name)
        user.password_hash = hash_password(password)
        return user.id


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False
