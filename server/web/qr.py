"""QR codes for the status link of a ticket, drawn as SVG by the qrcode library."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select

from server.db.models import Ticket

bp = Blueprint("qr", __name__)


def status_url(public_token: str) -> str:
    base = current_app.config.get("QMS_PUBLIC_URL") or request.host_url.rstrip("/")
    return f"{base}/t/{public_token}"


def qr_svg(data: str) -> bytes:
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    out = io.BytesIO()
    img.save(out)
    return out.getvalue()


@bp.get("/t/<token>/qr.svg")
def ticket_qr(token: str):
    """The QR code that opens a ticket's status page on a phone."""
    with current_app.extensions["civicqueue"].db.read_session() as session:
        if session.scalar(select(Ticket.id).where(Ticket.public_token == token)) is None:
            abort(404)
    return Response(qr_svg(status_url(token)), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400"})


@bp.get("/t/<token>/ticket.png")
def ticket_image(token: str):
    """The ticket as printed (80 mm), for its holder: the link is the secret, as for the status page."""
    from server.api.context import context
    from server.printing.preview import ticket_png
    from server.services import print_reads
    from server.services.errors import NotFound

    try:
        facts = print_reads.ticket_content(context(), None, token=token)
    except NotFound:
        abort(404)
    return Response(ticket_png(facts), mimetype="image/png", headers={"Cache-Control": "private, no-cache"})
