"""Staff sign-in with Flask-Login: users made with `python -m server user add`, passwords checked with argon2."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from server.auth.users import check_password
from server.db.models import User
from server.services.uow import Actor

bp = Blueprint("staff", __name__)
login_manager = LoginManager()


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
    if not user_id.isdigit():
        return None
    with current_app.extensions["civicqueue"].db.read_session() as s:
        user = s.get(User, int(user_id))
        return _staff(user) if user and user.active else None


class LoginForm(FlaskForm):
    name = StringField("name", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a signed-in clerk to another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("counter.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The staff sign-in form."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        with current_app.extensions["civicqueue"].db.read_session() as s:
            user = s.scalars(select(User).where(User.name == form.name.data)).one_or_none()
            ok = user is not None and user.active and check_password(user, form.password.data)
            staff = _staff(user) if ok else None
        if staff:
            session.clear()  # a fresh session on sign-in: no fixation
            session.permanent = True
            login_user(staff)
            return redirect(_safe_next(request.args.get("next")))
        error = _("Name or password is wrong.")
    elif request.method == "POST":
        error = _("Please fill in both fields and try again.")
    status = 401 if error else 200
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    """Sign out; the old session cookie is worthless afterwards."""
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


def init_app(app: Flask) -> None:
    from flask_wtf.csrf import CSRFProtect

    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    CSRFProtect(app)


def signed_in() -> StaffUser | None:
    return current_user if current_user.is_authenticated else None
