"""Pairing on the device itself: the QR code's URL /pair/<code>, or the code typed into /pair. Either puts the
new device token into the device cookie and opens the device's page.

Opening the link only shows what it would pair and asks to confirm (a POST): a GET changes nothing, so a link
preview, a prefetch or a virus scanner that fetches the URL cannot use the code up."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from server.services import pairing
from server.services.errors import ServiceError

from .devices import set_device_cookie
from .qr import qr_svg
from .staff import limiter

bp = Blueprint("pairing", __name__)


class PairForm(FlaskForm):
    code = StringField("code", validators=[DataRequired(), Length(max=32)])


def pair_limit() -> str:
    return current_app.config.get("QMS_PAIR_LIMIT", "10/minute")


def failed(response) -> bool:
    return response.status_code >= 400


def _too_many(_limit):
    """The form again, saying why (429), instead of a bare error page."""
    error = _("Too many wrong codes from this device. Please wait a minute and try again.")
    return make_response(render_template("pair.html", form=PairForm(formdata=None), error=error), 429)


# Per address, failures only, one count for the pages and the API: guessing codes is slow, pairing is not.
limit_pairing = limiter.shared_limit(pair_limit, scope="pairing", deduct_when=failed)
_limited = limiter.shared_limit(pair_limit, scope="pairing", deduct_when=failed, on_breach=_too_many)


@bp.route("/pair", methods=["GET", "POST"])
@_limited
def form():
    """A form to type the pairing code on the device (for when the QR code cannot be scanned)."""
    form = PairForm()
    if form.validate_on_submit():
        return _pair(form.code.data, form)
    if request.method == "POST":
        return render_template("pair.html", form=form, error=_("Please type the code and try again.")), 400
    return render_template("pair.html", form=form)


@bp.get("/pair/<code>")
@_limited
def by_link(code: str):
    """The pairing URL (the QR code): opened on the device, it says which device this becomes; one tap pairs."""
    form = PairForm(formdata=None, code=code)
    try:
        found = pairing.peek(current_app.extensions["civicqueue"], code)
    except ServiceError as exc:
        return render_template("pair.html", form=form, error=_message(exc)), exc.status
    form.code.data = found["code"]
    return render_template("pair.html", form=form, confirm=found), 200, {"Cache-Control": "no-store"}


def _pair(code: str, form: PairForm):
    ctx = current_app.extensions["civicqueue"]
    try:
        token, device = pairing.redeem(ctx, code, request.remote_addr)
    except ServiceError as exc:
        return render_template("pair.html", form=form, error=_message(exc)), exc.status
    return set_device_cookie(redirect(f"/{device['kind']}/{device['office']}"), token)


def _message(exc: ServiceError) -> str:
    if exc.code == "pairing_code_expired":
        return _("This code has expired or was replaced by a newer one. Please ask for a new code.")
    return _("This code is unknown or has been used already. Check it, or ask for a new code.")


@bp.get("/pair/<code>/qr.svg")
def qr(code: str):
    """The QR code of a pairing URL, for the admin's screen; only while the code is valid."""
    raw = pairing.normalize(code)
    if raw is None or not pairing.is_valid(current_app.extensions["civicqueue"], raw):
        abort(404)
    base = current_app.config.get("QMS_PUBLIC_URL") or request.host_url.rstrip("/")
    return Response(qr_svg(f"{base}/pair/{pairing.display_code(raw)}"), mimetype="image/svg+xml",
                    headers={"Cache-Control": "no-store"})
