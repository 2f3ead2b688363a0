"""The users page: admins list staff users, add them, change role, offices and active, and set passwords.

Like the setup pages it is thin: a JSON config (strings, roles, the admin's offices) and admin/static/admin/users.js,
which reads and changes everything through the REST API (/api/v1/users), so the API's rules are the only ones.
"""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from server.auth import roles
from server.auth.users import MIN_PASSWORD
from server.services import queries

from . import bp


@bp.get("/<office>/users")
@login_required
def users(office: str):
    """Every staff user the admin may see, with forms to add users and change them (admins only)."""
    actor = current_user.actor()
    if actor.role not in roles.CONFIGURE:
        abort(403)
    offices = queries.list_offices(current_app.extensions["civicqueue"], actor)
    current = next((o for o in offices if o["slug"] == office), None)
    if current is None:
        abort(404)
    config = {"office": office, "lang": str(get_locale()), "timezone": current["timezone"], "me": actor.user_id,
              "offices": {o["slug"]: o["name"] for o in offices}, "officeBound": list(roles.OFFICE_BOUND),
              "strings": user_strings()}
    return render_template("admin/users.html", office=current, offices=offices, roles=role_names(),
                           city_wide=actor.office_ids is None, min_password=MIN_PASSWORD, config=config,
                           section="users")


def role_names() -> dict[str, str]:
    return {"clerk": _("Clerk"), "supervisor": _("Supervisor"), "admin": _("Administrator"),
            "agent": _("Phone-centre agent")}


def user_strings() -> dict[str, str]:
    """The texts of users.js; {name} and {message} are filled in there."""
    return {
        **{f"role_{key}": name for key, name in role_names().items()},
        "city_wide": _("all offices (city-wide)"),
        "active": _("active"),
        "inactive": _("deactivated"),
        "never": _("never"),
        "you": _("{name} (you)"),
        "edit": _("Edit"),
        "edit_user": _("Edit {name}"),
        "set_password": _("Set password"),
        "set_password_for": _("Set a new password for {name}"),
        "own_password": _("Change your own password"),
        "out_of_reach": _("Also works for offices you do not administer"),
        "added": _("{name} was added and can sign in now."),
        "saved": _("{name} was saved."),
        "deactivated": _("{name} was deactivated and signed out everywhere."),
        "password_set": _("{name} has a new password and was signed out everywhere."),
        "mismatch": _("The two passwords differ."),
        "error": _("That did not work: {message}"),
        "fix_fields": _("Please correct the marked fields."),
        # error codes the API gives, in the user's language (else the API's English message is shown)
        "weak_password": _("The password needs at least %(n)d characters.", n=MIN_PASSWORD),
        "already_exists": _("This name is already taken."),
        "office_required": _("Clerks and supervisors need at least one office."),
        "own_active": _("You cannot deactivate your own account; another administrator can."),
        "own_role": _("You cannot take the administrator role from your own account; another administrator can."),
        "own_offices": _("Your own account keeps at least one office, and a city-wide account stays city-wide; "
                         "another administrator can change this."),
        "network": _("The server cannot be reached. Please try again."),
    }
