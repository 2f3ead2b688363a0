"""Staff users as an admin manages them: list, create, change role, offices or active, set a new password.

An admin's power ends at their offices. A scoped admin sees the users who share one of their offices, changes
only users who work for none but their offices, and never makes anyone city-wide. No admin can lock themselves
out: their own account cannot be deactivated, demoted or re-scoped from the admin page.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.auth import sessions
from server.auth.roles import OFFICE_BOUND, STAFF_ROLES
from server.auth.users import hash_password, require_strong
from server.db.models import Office, StaffSession, User, UserOffice

from .context import Context
from .errors import Conflict, Forbidden, Invalid, NotFound
from .lookup import office_by_slug
from .uow import Actor
from .views import iso


@dataclass(frozen=True)
class UserChange:
    """What a PATCH changes; None leaves a field as it is."""

    role: str | None = None
    offices: list[str] | None = None
    active: bool | None = None


# --- reading -------------------------------------------------------------------------------------------------

def list_users(ctx: Context, actor: Actor) -> list[dict]:
    """The users the admin may see: everyone (city-wide admin) or those sharing one of the admin's offices."""
    with ctx.db.read_session() as session:
        query = select(User).options(selectinload(User.offices)).order_by(func.lower(User.name), User.id)
        if actor.office_ids is not None:
            shared = select(UserOffice.user_id).where(UserOffice.office_id.in_(actor.office_ids))
            query = query.where(User.id.in_(shared))
        users = session.scalars(query).all()
        logins = _last_logins(session, [u.id for u in users])
        return [user_view(u, logins.get(u.id), actor) for u in users]


def user_view(user: User, last_login, actor: Actor) -> dict:
    """A user as the admin page shows it (never the password hash)."""
    return {"id": user.id, "name": user.name, "role": user.role, "offices": sorted(o.slug for o in user.offices),
            "active": user.active, "created_at": iso(user.created_at), "last_login": iso(last_login),
            "editable": _out_of_reach(actor, user) is None}


def _last_logins(session: Session, user_ids: list[int]) -> dict:
    if not user_ids:
        return {}
    rows = session.execute(select(StaffSession.user_id, func.max(StaffSession.created_at))
                           .where(StaffSession.user_id.in_(user_ids)).group_by(StaffSession.user_id))
    return dict(rows.all())


# --- changing ------------------------------------------------------------------------------------------------

def create_user(ctx: Context, actor: Actor, name: str, role: str, office_slugs: list[str], password: str) -> dict:
    """A new staff user with the CLI's rules (role, office, password), within the admin's offices."""
    _check_role(role)
    _check_offices_for(role, office_slugs)
    require_strong(password)
    with ctx.uow() as uow:
        session = uow.session
        _check_not_city_wide(actor, office_slugs)
        offices = _offices(session, actor, office_slugs)
        if session.scalars(select(User.id).where(User.name == name)).first() is not None:
            raise _name_taken(name)
        user = User(name=name, role=role, password_hash=hash_password(password), offices=offices, active=True,
                    created_at=ctx.clock())
        session.add(user)
        try:
            session.flush()
        except IntegrityError:  # the same name, created a moment ago by someone else
            raise _name_taken(name) from None
        return user_view(user, None, actor)


def update_user(ctx: Context, actor: Actor, user_id: int, change: UserChange) -> dict:
    """Change a user's role, offices or active flag; deactivating ends every session of the user."""
    with ctx.uow() as uow:
        session = uow.session
        user = _user(session, user_id)
        if actor.user_id == user.id:
            _check_own_change(user, change)
        _require_reach(actor, user)
        role = user.role if change.role is None else change.role
        _check_role(role)
        if change.offices is not None:
            _check_not_city_wide(actor, change.offices)
            user.offices = _offices(session, actor, change.offices)
        _check_offices_for(role, [o.slug for o in user.offices])
        user.role = role
        if change.active is not None:
            user.active = change.active
        session.flush()
        view = user_view(user, _last_logins(session, [user.id]).get(user.id), actor)
    if change.active is False:
        sessions.end_all(ctx, user_id)
    return view


def reset_password(ctx: Context, actor: Actor, user_id: int, password: str) -> dict:
    """An admin gives someone else a new password; every session of that user ends."""
    with ctx.uow() as uow:
        session = uow.session
        user = _user(session, user_id)
        if actor.user_id == user.id:
            raise Conflict("change your own password on your account page (/account/password): it asks for the "
                           "current one first", "own_password")
        _require_reach(actor, user)
        require_strong(password)
        user.password_hash = hash_password(password)
        session.flush()
        view = user_view(user, _last_logins(session, [user.id]).get(user.id), actor)
    sessions.end_all(ctx, user_id)
    return view


# --- the rules -----------------------------------------------------------------------------------------------

def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def _name_taken(name: str) -> Conflict:
    return Conflict(f"name: a user '{name}' already exists", "already_exists")


def _check_role(role: str) -> None:
    if role not in STAFF_ROLES:
        raise Invalid(f"role: unknown role '{role}' (one of: {', '.join(STAFF_ROLES)})", "invalid_role")


def _check_offices_for(role: str, office_slugs: list[str]) -> None:
    if role in OFFICE_BOUND and not office_slugs:
        raise Invalid(f"offices: a {role} needs at least one office", "office_required")


def _check_not_city_wide(actor: Actor, office_slugs: list[str]) -> None:
    """A scoped admin never makes a user city-wide (no offices = every office, for admins and agents)."""
    if actor.office_ids is not None and not office_slugs:
        raise Forbidden("offices: your account covers only some offices, so choose at least one of them "
                        "(a user without offices would be city-wide)", "wrong_office")


def _offices(session: Session, actor: Actor, slugs: list[str]) -> list[Office]:
    """The named offices, each existing (404) and within the admin's offices (403)."""
    return [office_by_slug(session, slug, actor) for slug in dict.fromkeys(slugs)]


def _out_of_reach(actor: Actor, user: User) -> str | None:
    """Why this admin may not change this user, or None."""
    if actor.office_ids is None:
        return None
    if not user.offices:
        return f"'{user.name}' is city-wide; only a city-wide admin may change this account"
    outside = sorted(o.slug for o in user.offices if o.id not in actor.office_ids)
    if outside:
        return f"'{user.name}' also works for office '{outside[0]}', which your account does not cover"
    return None


def _require_reach(actor: Actor, user: User) -> None:
    reason = _out_of_reach(actor, user)
    if reason:
        raise Forbidden(reason, "wrong_office")


def _check_own_change(user: User, change: UserChange) -> None:
    """An admin's own account: no deactivating, demoting or re-scoping it (another admin can)."""
    if change.active is False:
        raise Conflict("active: you cannot deactivate your own account; another admin can", "own_active")
    if change.role is not None and change.role != user.role:
        raise Conflict(f"role: you cannot take the {user.role} role from your own account; another admin can",
                       "own_role")
    if change.offices is None:
        return
    if user.offices and not change.offices:
        raise Conflict("offices: you cannot remove your own last office; another admin can", "own_offices")
    if not user.offices and change.offices:
        raise Conflict("offices: your account is city-wide; only another city-wide admin can limit it to some "
                       "offices", "own_offices")
