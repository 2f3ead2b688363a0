"""Staff sign-in with Flask-Login: users made with `python -m server user add`, passwords checked with argon2.

Sessions live on the server (server/auth/sessions.py): signing out ends one for good. Failed sign-ins are
rate-limited per address (Flask-Limiter); sign-ins, failures and sign-outs go to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from server.auth import sessions
from server.auth.users import MIN_PASSWORD, check_password, set_password
from server.db.models import User
from server.services import audit
from server.services.errors import ServiceError
from server.services.uow import Actor

bp = Blueprint("staff", __name__)
login_manager = LoginManager()
# Counted per address, and only failed attempts count: staff who sign in correctly are never slowed down.
limiter = Limiter(get_remote_address, default_limits=[], headers_enabled=False)
LIMITED_API_ENDPOINTS = frozenset({"api.redeem_pairing_code"})  # the JSON API's only rate-limited route


@limiter.request_filter
def _has_no_limits() -> bool:
    """The JSON API's routes have no rate limit, but redeeming a pairing code (sign-in and pairing pages have
    theirs). Without this filter the limiter still resolved, for every API request, which limits might apply:
    5.6 % of a ticket issue's CPU in bench.api's profile."""
    return request.blueprint == "api" and request.endpoint not in LIMITED_API_ENDPOINTS


@dataclass(frozen=True)
class StaffUser(UserMixin):
    id: int
    name: str
    role: str
    office_ids: frozenset[int] | None
    office_slugs: tuple[str, ...]

    def get_id(self) -> str:
        return str(self.id)

    def actor(self) -> Actor:
        return Actor(role=self.role, name=self.name, user_id=self.id, office_ids=self.office_ids)


def _staff(user: User) -> StaffUser:
    ids = frozenset(o.id for o in user.offices)
    city_wide = user.role in ("admin", "agent") and not ids
    return StaffUser(id=user.id, name=user.name, role=user.role, office_ids=None if city_wide else ids,
                     office_slugs=tuple(o.slug for o in user.offices))


@login_manager.user_loader
def _load(user_id: str) -> StaffUser | None:
    """The signed-in user, if the session the cookie names is still live on the server."""
    if not user_id.isdigit():
        return None
    user = sessions.user_of(_ctx(), session.get("sid"), int(user_id))
    return _staff(user) if user else None


def _ctx():
    return current_app.extensions["civicqueue"]


def _login_limit() -> str:
    return current_app.config["QMS_LOGIN_LIMIT"]


class LoginForm(FlaskForm):
    name = StringField("name", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a signed-in clerk to another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("counter.index")


def _too_many(_limit):
    """The sign-in page again, saying why (429), instead of a bare error page."""
    error = _("Too many failed sign-ins from this computer. Please wait a few minutes and try again.")
    return make_response(render_template("login.html", form=LoginForm(), error=error), 429)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 401,
               on_breach=_too_many)
def login():
    """The staff sign-in form."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        with _ctx().db.read_session() as s:
            user = s.scalars(select(User).where(User.name == form.name.data)).one_or_none()
            ok = user is not None and user.active and check_password(user, form.password.data)
            staff = _staff(user) if ok else None
        if staff:
            _sign_in(staff)
            return redirect(_safe_next(request.args.get("next")))
        audit.record(_ctx(), None, "login_failed", name=form.name.data, ip=request.remote_addr)
        error = _("Name or password is wrong.")
    elif request.method == "POST":
        error = _("Please fill in both fields and try again.")
    status = 401 if error else 200
    return render_template("login.html", form=form, error=error), status


def _sign_in(staff: StaffUser) -> None:
    lifetime = current_app.permanent_session_lifetime
    sid = sessions.start(_ctx(), staff.id, lifetime if isinstance(lifetime, timedelta) else
                         timedelta(seconds=lifetime), request.remote_addr)
    session.clear()  # a fresh session on sign-in: no fixation
    session.permanent = True
    session["sid"] = sid
    login_user(staff)
    audit.record(_ctx(), staff.actor(), "login", ip=request.remote_addr)


@bp.post("/logout")
def logout():
    """Sign out; the session ends on the server, so even a copy of the old cookie is worthless."""
    staff = signed_in()
    sessions.end(_ctx(), session.get("sid"))
    if staff:
        audit.record(_ctx(), staff.actor(), "logout", ip=request.remote_addr)
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


class PasswordForm(FlaskForm):
    current = PasswordField("current", validators=[DataRequired(), Length(max=200)])
    new = PasswordField("new", validators=[DataRequired(), Length(max=200)])
    repeat = PasswordField("repeat", validators=[DataRequired(), Length(max=200)])


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 401)
def change_password():
    """A signed-in user sets a new password; every other session of the user ends."""
    form, error, status = PasswordForm(), None, 200
    if form.validate_on_submit():
        error, status = _change_password(form)
        if error is None:
            return render_template("password.html", form=PasswordForm(formdata=None), done=True)
    elif request.method == "POST":
        error, status = _("Please fill in all three fields."), 422
    return render_template("password.html", form=form, error=error, min_length=MIN_PASSWORD), status


def _change_password(form: PasswordForm) -> tuple[str | None, int]:
    staff = signed_in()
    with _ctx().db.read_session() as s:
        user = s.get(User, staff.id)
        if not check_password(user, form.current.data):
            return _("The current password is wrong."), 401
    if form.new.data != form.repeat.data:
        return _("The two new passwords differ."), 422
    try:
        set_password(_ctx(), staff.name, form.new.data)
    except ServiceError:
        return _("The new password needs at least %(n)d characters.", n=MIN_PASSWORD), 422
    ended = sessions.end_all(_ctx(), staff.id, keep=session.get("sid"))
    audit.record(_ctx(), staff.actor(), "password_changed", details={"other_sessions_ended": ended},
                 ip=request.remote_addr)
    return None, 200


def init_app(app: Flask, login_limit: str, storage_uri: str) -> None:
    from flask_wtf.csrf import CSRFProtect

    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    CSRFProtect(app)
    app.config.update(QMS_LOGIN_LIMIT=login_limit, RATELIMIT_STORAGE_URI=storage_uri)
    limiter.init_app(app)


def signed_in() -> StaffUser | None:
    return current_user if current_user.is_authenticated else None
