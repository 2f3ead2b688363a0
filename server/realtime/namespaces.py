"""Socket.IO namespaces: who may connect, and the snapshot they get on (re)connect and on request."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, request
from flask_login import current_user
from flask_socketio import Namespace, emit, join_room
from socketio.exceptions import ConnectionRefusedError as Refused
from sqlalchemy import select

from server.auth.roles import READ_STATS
from server.auth.tokens import actor_for_token
from server.db.models import Office, Ticket
from server.services import pairing, printing
from server.services.lookup import office_named
from server.services.uow import Actor

from . import office_room, ticket_room
from .agents import agent_room
from .devices import device_room
from .registry import registry
from .snapshots import BUILDERS, recent_snapshots, status_state

STAFF = ("clerk", "supervisor", "admin")


def _refuse(code: str, message: str):
    """Refuse a connection; the client gets the reason as `data` (python-socketio's own exception passes it on)."""
    raise Refused(message, {"code": code, "message": message})


def _actor(auth: dict, staff_first: bool = False) -> Actor | None:
    """Devices pass {"token": ...} or carry the device cookie; staff carry their session cookie. On the staff
    namespaces a signed-in session goes before a device cookie the same browser may also hold (a supervisor
    who paired this browser as a kiosk before); a token passed explicitly always goes first."""
    from server.web.devices import COOKIE

    if staff_first and not auth.get("token") and current_user and current_user.is_authenticated:
        return current_user.actor()
    token = auth.get("token") or request.cookies.get(COOKIE)
    if token:
        with current_app.extensions["civicqueue"].db.read_session() as session:
            return actor_for_token(session, str(token))
    if current_user and current_user.is_authenticated:
        return current_user.actor()
    return None


def _office_for(actor: Actor, wanted: str | None) -> str:
    with current_app.extensions["civicqueue"].db.read_session() as session:
        if wanted:
            office = office_named(session, str(wanted))
        elif actor.office_ids and len(actor.office_ids) == 1:
            office = session.get(Office, next(iter(actor.office_ids)))
        else:
            _refuse("office_required", "pass {\"office\": slug} in the connect auth")
        if office is None:
            _refuse("office_not_found", f"no office '{wanted}'")
        if not actor.covers(office.id):
            _refuse("wrong_office", f"not allowed for office '{office.slug}'")
        return office.slug


def _device_joined(actor: Actor) -> None:
    """A device's connection joins its own room (a revocation cuts it off there) and marks its last contact."""
    if actor.device_id is None:
        return
    join_room(device_room(actor.device_id))
    pairing.mark_seen(current_app.extensions["civicqueue"], actor.device_id)


class OfficeNamespace(Namespace):
    """A namespace whose clients follow one office: snapshot on connect and on `resync`."""

    roles: tuple[str, ...] = ()
    staff_first = False  # a staff session before a device cookie (the staff namespaces)

    def on_connect(self, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        actor = _actor(auth, self.staff_first)
        if actor is None:
            _refuse("unauthorized", "a valid device token or staff session is required")
        if actor.role not in self.roles:
            _refuse("wrong_role", f"a {actor.role} may not connect to {self.namespace}")
        office = _office_for(actor, auth.get("office"))
        join_room(office_room(office))
        _device_joined(actor)
        registry.add(self.namespace, request.sid, office)
        self._send_snapshot(office)

    def on_resync(self, data=None):
        """A client that saw a gap in seq asks for a new snapshot."""
        client = registry.client(self.namespace, request.sid)
        if client:
            self._send_snapshot(client["office"])

    def on_disconnect(self, reason=None):
        registry.remove(self.namespace, request.sid)

    def _send_snapshot(self, office_slug: str) -> None:
        ctx = current_app.extensions["civicqueue"]
        recent = recent_snapshots(current_app)
        with ctx.db.snapshot_session() as session:
            office = office_named(session, office_slug)
            if office is None:  # gone since the client joined: nothing to show
                return
            state = recent.get(self.namespace, office_slug, office.seq)
            if state is None:
                state = BUILDERS[self.namespace](session, office, ctx.clock(),
                                                 current_app.config.get("QMS_PUBLIC_URL", ""))
                recent.put(self.namespace, office_slug, office.seq, state)
        emit("snapshot", state)


class DisplayNamespace(OfficeNamespace):
    roles = ("display", "kiosk", *STAFF)


class KioskNamespace(OfficeNamespace):
    """Kiosk pages (and staff) follow the office; a kiosk's printer agent gets only its print jobs."""

    roles = ("kiosk", *STAFF)

    def on_connect(self, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        if "agent" not in auth:
            return super().on_connect(auth)
        actor = _actor(auth)
        if actor is None or actor.role != "kiosk" or actor.device_id is None:
            _refuse("unauthorized", "a printer agent needs the device token of a kiosk")
        seen = printing.agent_connected(current_app.extensions["civicqueue"], actor.device_id,
                                        str(auth.get("agent"))[:32])
        if seen is None:
            _refuse("device_not_found", "this kiosk no longer exists")
        join_room(agent_room(actor.device_id))
        join_room(device_room(actor.device_id))  # agent_connected marked its last contact already
        _agents[request.sid] = (actor.device_id, seen["since"])
        emit("agent_config", {"device": seen["device"], "office": seen["office"], "printer": seen["printer"]})

    def on_disconnect(self, reason=None):
        agent = _agents.pop(request.sid, None)
        if agent is None:
            return super().on_disconnect(reason)
        printing.agent_disconnected(current_app.extensions["civicqueue"], *agent)

    def on_print_result(self, data=None):
        """An agent's outcome of one job; acknowledged once recorded, so the agent can forget it."""
        device_id = _agents.get(request.sid, (None,))[0]
        if device_id is None:
            return {"ok": False, "error": "only a printer agent reports print results"}
        if not isinstance(data, dict) or not isinstance(data.get("job"), int) or not isinstance(data.get("ok"), bool):
            return {"ok": False, "error": "expected {\"job\": id, \"ok\": true|false, \"error\"?: {...}}"}
        error = None if data["ok"] else _print_error(data.get("error"))
        printing.finish(current_app.extensions["civicqueue"], data["job"], error, late=True, device_id=device_id)
        return {"ok": True}

    def on_printer_status(self, data=None):
        """An agent's view of its printer: ok, paper_low, paper_out, offline or error."""
        device_id = _agents.get(request.sid, (None,))[0]
        status = data.get("status") if isinstance(data, dict) else None
        if device_id is None or status not in printing.PRINTER_STATES:
            return {"ok": False, "error": f"expected {{\"status\": one of {', '.join(printing.PRINTER_STATES)}}}"}
        detail = data.get("detail")
        printing.report_status(current_app.extensions["civicqueue"], device_id, status,
                               str(detail)[:300] if detail else None)
        return {"ok": True}


_agents: dict[str, tuple] = {}  # sid -> (kiosk device id, connected since), agents connected to this process


def agent_connections() -> list[tuple[str, int, datetime]]:
    """The printer agents connected to this process: (sid, kiosk device id, connected since)."""
    return [(sid, device_id, since) for sid, (device_id, since) in list(_agents.items())]


def _print_error(raw) -> printing.PrintError:
    raw = raw if isinstance(raw, dict) else {}
    code = raw.get("code") if raw.get("code") in printing.ERROR_CODES else "device_error"
    return printing.PrintError(code, str(raw.get("message") or "the kiosk agent could not print")[:300])


class CounterNamespace(OfficeNamespace):
    roles = STAFF
    staff_first = True


class SupervisorNamespace(OfficeNamespace):
    """The live dashboard: only `snapshot` and `state` (no deltas), so counter clients' payloads stay small."""

    roles = READ_STATS
    staff_first = True


class StatusNamespace(Namespace):
    """One ticket on a citizen's phone: {"ticket": public token} is the whole authentication."""

    def on_connect(self, auth=None):
        token = str((auth or {}).get("ticket", "")) if isinstance(auth, dict) else ""
        office = self._office_of(token) if token else None
        if office is None:
            _refuse("ticket_not_found", "unknown ticket")
        join_room(ticket_room(token))
        registry.add("/status", request.sid, office, ticket=token)
        self._send(token, office)

    def on_resync(self, data=None):
        client = registry.client("/status", request.sid)
        if client:
            self._send(client["ticket"], client["office"])

    def on_disconnect(self, reason=None):
        registry.remove("/status", request.sid)

    @staticmethod
    def _office_of(token: str) -> str | None:
        with current_app.extensions["civicqueue"].db.read_session() as session:
            return session.scalar(select(Office.slug).join(Ticket, Ticket.office_id == Office.id)
                                  .where(Ticket.public_token == token))

    @staticmethod
    def _send(token: str, office_slug: str) -> None:
        ctx = current_app.extensions["civicqueue"]
        with ctx.db.snapshot_session() as session:
            office = office_named(session, office_slug)
            if office is None:
                return
            state = status_state(session, office, token, ctx.clock(), current_app.config.get("QMS_PUBLIC_URL", ""))
        emit("snapshot", state)


def register(socketio) -> None:
    socketio.on_namespace(DisplayNamespace("/display"))
    socketio.on_namespace(KioskNamespace("/kiosk"))
    socketio.on_namespace(CounterNamespace("/counter"))
    socketio.on_namespace(SupervisorNamespace("/supervisor"))
    socketio.on_namespace(StatusNamespace("/status"))
