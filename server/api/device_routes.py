"""Devices: an admin adds kiosks and displays, makes pairing codes and revokes devices; a device pairs itself
with a code (public, rate-limited)."""

from __future__ import annotations

from flask import jsonify, request

from server.auth import roles
from server.realtime.devices import cut_off
from server.services import pairing
from server.web.pairing import limit_pairing

from . import api
from .auth import current_actor, requires
from .context import context
from .schemas import DeviceIn, PairIn, parse


@api.post("/offices/<office>/devices")
@requires(*roles.CONFIGURE)
def create_device(office: str):
    """Add a kiosk or display (admin); the answer carries its first pairing code."""
    body = parse(DeviceIn)
    ctx, actor = context(), current_actor()
    device = pairing.create_device(ctx, actor, office, body.name, body.kind)
    return jsonify({**device, "pairing": pairing.new_code(ctx, actor, office, device["name"])}), 201


@api.post("/offices/<office>/devices/<device>/pairing")
@requires(*roles.CONFIGURE)
def new_pairing_code(office: str, device: str):
    """A new one-time pairing code for a device (e.g. a replaced PC); earlier unused codes stop working."""
    return jsonify(pairing.new_code(context(), current_actor(), office, device)), 201


@api.post("/offices/<office>/devices/<device>/revoke")
@requires(*roles.CONFIGURE)
def revoke_device(office: str, device: str):
    """Revoke a device: its tokens stop working and its live connections are cut at once."""
    view, device_ids = pairing.revoke(context(), current_actor(), office, device)
    cut_off(device_ids)
    return jsonify(view)


@api.post("/pair")
@limit_pairing
def redeem_pairing_code():
    """Trade a pairing code for the device's token (public: the code is the secret; failures are rate-limited)."""
    body = parse(PairIn)
    token, device = pairing.redeem(context(), body.code, request.remote_addr)
    return jsonify({"token": token, "device": device["name"], "kind": device["kind"],
                    "office": device["office"]})
