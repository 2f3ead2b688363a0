"""Staff users and kiosk printers, as admins manage them from the admin pages (or any API client)."""

from __future__ import annotations

from flask import jsonify

from server.auth import roles
from server.realtime.agents import push_config
from server.services import print_reads, printing, staff_admin
from server.services.errors import NotFound

from . import api
from .auth import current_actor, requires
from .context import context
from .schemas import MAX_INT, parse
from .staff_schemas import PasswordIn, PrinterIn, UserIn, UserPatch


def _user_id(value: int) -> int:
    if value > MAX_INT:  # no such row can exist; the driver would overflow on it
        raise NotFound("user", value)
    return value


@api.get("/users")
@requires(*roles.CONFIGURE)
def list_users():
    """The staff users the admin may see: all (city-wide admin), else those sharing one of the admin's offices."""
    return jsonify(staff_admin.list_users(context(), current_actor()))


@api.post("/users")
@requires(*roles.CONFIGURE)
def create_user():
    """A new staff user with a first password (the CLI's rules), within the admin's offices."""
    body = parse(UserIn)
    user = staff_admin.create_user(context(), current_actor(), body.name, body.role, body.offices, body.password)
    return jsonify(user), 201


@api.patch("/users/<int:user_id>")
@requires(*roles.CONFIGURE)
def update_user(user_id: int):
    """Change a user's role, offices or active flag; deactivating signs the user out everywhere."""
    body = parse(UserPatch)
    change = staff_admin.UserChange(role=body.role, offices=body.offices, active=body.active)
    return jsonify(staff_admin.update_user(context(), current_actor(), _user_id(user_id), change))


@api.post("/users/<int:user_id>/password")
@requires(*roles.CONFIGURE)
def set_user_password(user_id: int):
    """Give someone else a new password; their sessions end (one's own: /account/password)."""
    body = parse(PasswordIn)
    return jsonify(staff_admin.reset_password(context(), current_actor(), _user_id(user_id), body.password))


@api.put("/offices/<office>/devices/<device>/printer")
@requires(*roles.CONFIGURE)
def set_printer(office: str, device: str):
    """Set a kiosk's ticket printer; a connected printer agent gets the new settings at once."""
    printer = parse(PrinterIn).model_dump()
    ctx, actor = context(), current_actor()
    printing.set_printer(ctx, office, device, printer, actor=actor)
    view, device_id = print_reads.get_device(ctx, actor, office, device)
    push_config(device_id, {"device": device, "office": office, "printer": printer})
    return jsonify(view)
