"""The OpenAPI 3.1 document, built from the request models so it cannot drift from validation."""

from __future__ import annotations

import functools

from server import __version__

from .schemas import (
    CallTicketIn,
    CounterIn,
    CounterPatch,
    DeviceIn,
    IssuingIn,
    OfficeIn,
    OfficePatch,
    OrderIn,
    PairIn,
    RequeueIn,
    ServiceIn,
    ServicePatch,
    TicketIn,
    TransferIn,
)
from .staff_schemas import PasswordIn, PrinterIn, UserIn, UserPatch

ERROR = {"$ref": "#/components/schemas/Error"}
TICKET = {"$ref": "#/components/schemas/Ticket"}
PRINT_JOB = {"$ref": "#/components/schemas/PrintJob"}
ANY_OBJECT = {"type": "object"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    text = {400: "Malformed JSON", 401: "No or invalid token", 403: "Wrong role or office", 404: "Unknown office, "
            "service, counter or ticket", 409: "Not allowed in the current state", 413: "Body over 1 MiB",
            422: "Invalid field", 503: "Database unavailable"}
    return {str(c): {"description": text[c], **_json(ERROR)} for c in codes}


def _op(summary: str, roles: str | None, ok: dict, *, body: type | None = None, params=(), errors=()) -> dict:
    op = {"summary": summary, "responses": ok | _errors(*errors, 503)}
    if roles:
        op["description"] = f"Roles: {roles}."
        op["responses"] |= _errors(401, 403)
    else:
        op["security"] = []
    if body:
        op["requestBody"] = {"required": True, **_json({"$ref": f"#/components/schemas/{body.__name__}"})}
        op["responses"] |= _errors(400, 413, 422)
    if params:
        op["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    return op


def _ok(status: int, description: str, schema: dict | None = None) -> dict:
    return {str(status): {"description": description, **(_json(schema) if schema else {})}}


def _paths() -> dict:
    staff = "clerk, supervisor, admin"
    ticket_ok = _ok(200, "The ticket", TICKET)
    return {
        "/openapi.json": {"get": _op("This OpenAPI document", None, _ok(200, "The OpenAPI 3.1 document", ANY_OBJECT))},
        "/offices": {"get": _op("List offices", "kiosk, clerk, supervisor, admin, agent",
                                _ok(200, "Offices", {"type": "array", "items": ANY_OBJECT})),
                     "post": _op("Add an office", "admin (of the whole city)", _ok(201, "The office", ANY_OBJECT),
                                 body=OfficeIn, errors=(409,))},
        "/offices/{office}/services": {
            "parameters": [{"$ref": "#/components/parameters/office"}],
            "get": _op("Services with waiting count, estimate and cut-off (the latest time a ticket drawn then is "
                       "still served before closing; null without opening hours today or with no counter open)",
                       "kiosk, clerk, supervisor, admin, agent",
                       _ok(200, "Services", {"type": "array", "items": ANY_OBJECT}), errors=(404,)),
            "post": _op("Create a service", "admin", _ok(201, "The service", ANY_OBJECT), body=ServiceIn,
                        errors=(404, 409)),
        },
        "/offices/{office}/counters": {
            "parameters": [{"$ref": "#/components/parameters/office"}],
            "get": _op("Counters", staff, _ok(200, "Counters", {"type": "array", "items": ANY_OBJECT}),
                       errors=(404,)),
            "post": _op("Create a counter", "admin", _ok(201, "The counter", ANY_OBJECT), body=CounterIn,
                        errors=(404, 409)),
        },
        "/offices/{office}/tickets": {
            "parameters": [{"$ref": "#/components/parameters/office"}],
            "post": _op("Issue a ticket (idempotent by request_id)", "kiosk, clerk, supervisor, admin, agent",
                        _ok(201, "New ticket", TICKET) | _ok(200, "Ticket already issued for this request_id",
                                                             TICKET), body=TicketIn, errors=(404, 409)),
        },
        "/offices/{office}/queue": {
            "parameters": [{"$ref": "#/components/parameters/office"}],
            "get": _op("Waiting, called, serving and parked tickets", staff, _ok(200, "Queue", ANY_OBJECT),
                       errors=(404,)),
        },
        **{
            f"/offices/{{office}}/counters/{{counter}}/{verb}": {
                "parameters": [{"$ref": "#/components/parameters/office"},
                               {"$ref": "#/components/parameters/counter"}],
                "post": _op(f"{verb.capitalize()} the counter", staff, _ok(200, "The counter", ANY_OBJECT),
                            errors=(404,)),
            } for verb in ("open", "pause", "close")
        },
        "/offices/{office}/counters/{counter}/call-next": {
            "parameters": [{"$ref": "#/components/parameters/office"}, {"$ref": "#/components/parameters/counter"}],
            "post": _op("Call the next ticket (opens a closed or paused counter)", staff,
                        ticket_ok | _ok(204, "Nobody is waiting"), errors=(404,)),
        },
        "/offices/{office}/counters/{counter}/call": {
            "parameters": [{"$ref": "#/components/parameters/office"}, {"$ref": "#/components/parameters/counter"}],
            "post": _op("Call a given waiting or parked ticket", staff, ticket_ok, body=CallTicketIn,
                        errors=(404, 409)),
        },
        "/tickets/{ticket_id}/{action}": {
            "parameters": [
                {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                {"name": "action", "in": "path", "required": True, "schema": {"type": "string", "enum": [
                    "recall", "start", "finish", "no-show", "requeue", "park", "cancel", "transfer"]}},
            ],
            "post": _op("Act on a ticket; transfer takes TransferIn, requeue optionally RequeueIn", staff,
                        ticket_ok, errors=(400, 404, 409, 422)),
        },
        "/status/{token}": {
            "get": _op("A ticket's public status", None, _ok(200, "Status", ANY_OBJECT), errors=(404,),
                       params=("token",)),
        },
        "/wait-times": {"get": _op("Live waiting times of every office", None,
                                   _ok(200, "Offices with services", {"type": "array", "items": ANY_OBJECT}))},
        "/offices/{office}/stats": {
            "parameters": [{"$ref": "#/components/parameters/office"}],
            "get": {**_op("KPIs for a date range by service, counter, clerk, hour, weekday or day (JSON; CSV with "
                          "Accept: text/csv; XLSX with its Accept type or format=xlsx, by=all: one sheet each)",
                          "supervisor, admin",
                          {"200": {"description": "KPIs", "content": {
                              "application/json": {"schema": ANY_OBJECT},
                              "text/csv": {"schema": {"type": "string"}},
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                  "schema": {"type": "string", "format": "binary"}}}}},
                          params=("from", "to"), errors=(404, 422)),
                    "parameters": [{"$ref": "#/components/parameters/from"}, {"$ref": "#/components/parameters/to"},
                                   {"name": "by", "in": "query", "schema": {"type": "string", "default": "service",
                                    "enum": ["service", "counter", "clerk", "hour", "weekday", "day", "all"]}},
                                   {"name": "format", "in": "query",
                                    "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}},
                                   {"name": "lang", "in": "query", "schema": {"type": "string"}}]},
        },
        **_issuing_paths(),
        **_printing_paths(),
        **_audit_paths(),
        **_device_paths(),
        **_office_admin_paths(),
        **_user_paths(),
    }


def _office_admin_paths() -> dict:
    office = {"$ref": "#/components/parameters/office"}
    named = [office, {"name": "service", "in": "path", "required": True, "schema": {"type": "string"}}]
    counter = [office, {"name": "counter", "in": "path", "required": True, "schema": {"type": "string"}}]
    settings = _ok(200, "The office with languages, opening hours and calling policy", ANY_OBJECT)
    return {
        "/offices/{office}": {"parameters": [office], "get": _op(
            "One office with time zone, kiosk languages, opening hours and calling policy (every switch, defaults "
            "filled in)", "kiosk, clerk, supervisor, admin, agent", settings, errors=(404,)), "patch": _op(
            "Change an office (only the fields sent; in `policy` only the switches sent); kiosks and displays "
            "update at once", "admin", settings, body=OfficePatch, errors=(404,))},
        "/offices/{office}/services/{service}": {"parameters": named, "patch": _op(
            "Change a service (only the fields sent); `active: false` takes it off the kiosks", "admin",
            _ok(200, "The service", ANY_OBJECT), body=ServicePatch, errors=(404, 409))},
        "/offices/{office}/service-order": {"parameters": [office], "post": _op(
            "The order of the services on the kiosks (every slug once)", "admin",
            _ok(200, "The order", ANY_OBJECT), body=OrderIn, errors=(404,))},
        "/offices/{office}/counters/{counter}": {"parameters": counter, "patch": _op(
            "Rename a counter or set its services in priority order", "admin",
            _ok(200, "The counter", ANY_OBJECT), body=CounterPatch, errors=(404,))},
    }


def _user_paths() -> dict:
    user = [{"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    device = [{"$ref": "#/components/parameters/office"}, {"name": "device", "in": "path", "required": True,
                                                           "schema": {"type": "string"}}]
    one = _ok(200, "The user", {"$ref": "#/components/schemas/User"})
    scoped = "admin (one scoped to offices: users of those offices only)"
    return {
        "/users": {
            "get": _op("Staff users: all, or those sharing one of the admin's offices", scoped,
                       _ok(200, "Users", {"type": "array", "items": {"$ref": "#/components/schemas/User"}})),
            "post": _op("Add a staff user with a first password", scoped, _ok(201, "The user", {
                "$ref": "#/components/schemas/User"}), body=UserIn, errors=(404, 409)),
        },
        "/users/{user_id}": {"parameters": user, "patch": _op(
            "Change role, offices or active (deactivating ends the user's sessions; not for one's own account)",
            scoped, one, body=UserPatch, errors=(404, 409))},
        "/users/{user_id}/password": {"parameters": user, "post": _op(
            "Set someone else's password (their sessions end; one's own: /account/password)", scoped, one,
            body=PasswordIn, errors=(404, 409))},
        "/offices/{office}/devices/{device}/printer": {"parameters": device, "put": _op(
            "Set a kiosk's ticket printer (a file printer only at /dev/lpN or /dev/usb/lpN; USB ids also as hex "
            "text)", "admin", _ok(200, "The device", ANY_OBJECT), body=PrinterIn, errors=(404,))},
    }


def _issuing_paths() -> dict:
    office = {"$ref": "#/components/parameters/office"}
    service = {"name": "service", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/offices/{office}/issuing": {"parameters": [office], "post": _op(
            "Stop ({\"open\": false}) or resume ticket issue for the office", "supervisor, admin",
            _ok(200, "The office", ANY_OBJECT), body=IssuingIn, errors=(404,))},
        "/offices/{office}/services/{service}/issuing": {"parameters": [office, service], "post": _op(
            "Stop or resume ticket issue for one service", "supervisor, admin", _ok(200, "The service", ANY_OBJECT),
            body=IssuingIn, errors=(404,))},
    }


def _printing_paths() -> dict:
    kiosk_staff, staff = "kiosk (its office), clerk, supervisor, admin", "clerk, supervisor, admin"
    job = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ticket = {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    job_ok = _ok(200, "The print job", PRINT_JOB)
    png = {"200": {"description": "PNG, 1 bit, as printed", "content": {"image/png": {"schema": {
        "type": "string", "contentMediaType": "image/png"}}}}}
    office = [{"$ref": "#/components/parameters/office"}]
    return {
        "/print-jobs/{job_id}": {"parameters": [job], "get": _op("A print job's state", kiosk_staff, job_ok,
                                                                 errors=(404,))},
        "/print-jobs/{job_id}/retry": {"parameters": [job], "post": _op(
            "Print a failed job again", kiosk_staff, _ok(202, "Queued again", PRINT_JOB), errors=(404, 409))},
        "/print-jobs/{job_id}/image.png": {"parameters": [job], "get": _op(
            "The exact image a job prints", kiosk_staff, png, errors=(404,))},
        "/tickets/{ticket_id}/reprint": {"parameters": [ticket], "post": _op(
            "Print a ticket again (body optional: {\"device\": name})", staff,
            _ok(202, "Queued", PRINT_JOB), errors=(400, 404, 409, 422))},
        "/tickets/{ticket_id}/ticket.png": {"parameters": [ticket, {
            "name": "paper", "in": "query", "schema": {"type": "integer", "enum": [80, 58]}}], "get": _op(
            "The ticket as it would print now", kiosk_staff, png, errors=(404, 422))},
        "/offices/{office}/devices": {"parameters": office, "get": _op(
            "Kiosks and displays with agent and printer status", staff,
            _ok(200, "Devices", {"type": "array", "items": ANY_OBJECT}), errors=(404,)), "post": _op(
            "Add a kiosk or display; `pairing` holds its first code", "admin",
            _ok(201, "The device and its pairing code", ANY_OBJECT), body=DeviceIn, errors=(404, 409))},
        "/offices/{office}/print-jobs": {"parameters": office, "get": _op(
            "Latest print jobs (?state=, ?limit=)", staff,
            _ok(200, "Jobs", {"type": "object", "properties": {"jobs": {"type": "array", "items": PRINT_JOB}}}),
            errors=(404, 422))},
    }


def _device_paths() -> dict:
    device = [{"$ref": "#/components/parameters/office"}, {"name": "device", "in": "path", "required": True,
                                                           "schema": {"type": "string"}}]
    code = {"$ref": "#/components/schemas/PairingCode"}
    gone = {"410": {"description": "The code has expired or was replaced", **_json(ERROR)},
            "429": {"description": "Too many failed codes from this address", **_json(ERROR)}}
    paired = {"type": "object", "required": ["token", "device", "kind", "office"], "properties": {
        "token": {"type": "string", "description": "The device token, shown this once"},
        "device": {"type": "string"}, "kind": {"type": "string", "enum": ["kiosk", "display"]},
        "office": {"type": "string"}}}
    return {
        "/offices/{office}/devices/{device}/pairing": {"parameters": device, "post": _op(
            "A new one-time pairing code (earlier unused codes stop working)", "admin",
            _ok(201, "The code, its URL and QR code", code), errors=(404,))},
        "/offices/{office}/devices/{device}/revoke": {"parameters": device, "post": _op(
            "Revoke a device: its tokens stop working, its live connections are cut", "admin",
            _ok(200, "The device", ANY_OBJECT), errors=(404,))},
        "/pair": {"post": _op("Pair a device: trade a one-time code for its token (public, rate-limited)", None,
                              _ok(200, "The device token", paired) | gone, body=PairIn,
                              errors=(404,))},
    }


def _audit_paths() -> dict:
    def query(name: str, schema: dict, description: str) -> dict:
        return {"name": name, "in": "query", "schema": schema, "description": description}

    utc_day = {"type": "string", "format": "date"}
    params = [
        query("office", {"type": "string"}, "Only this office's entries (a supervisor: one of theirs)"),
        query("user", {"type": "string"}, "Only this actor (a staff user's or an API token's name)"),
        query("action", {"type": "string", "pattern": "^[a-z0-9_.]{1,64}$"},
              "Action name or its start: 'ticket.' matches every ticket action"),
        query("from", utc_day, "First day, UTC, inclusive"),
        query("to", utc_day, "Last day, UTC, inclusive"),
        query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}, "Entries per page"),
        query("before", {"type": "integer", "minimum": 1}, "Entries older than this id (next_before of the "
              "previous page)"),
    ]
    page = {"type": "object", "required": ["entries", "next_before"], "properties": {
        "entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}},
        "next_before": {"type": ["integer", "null"]}}}
    ok = {"200": {"description": "Entries, newest first; CSV (at, actor, role, office, action, target, ip, "
                                 "details as JSON) with Accept: text/csv",
                  "content": {"application/json": {"schema": page}, "text/csv": {"schema": {"type": "string"}}}}}
    return {"/audit": {"get": _op("The audit log: staff and admin actions", "supervisor (own offices), admin", ok,
                                  errors=(404, 422)) | {"parameters": params}}}


def _schemas() -> dict:
    schemas = {}
    for model in (TicketIn, TransferIn, RequeueIn, CallTicketIn, ServiceIn, CounterIn, DeviceIn, PairIn, IssuingIn):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for model in (OfficeIn, OfficePatch, ServicePatch, OrderIn, CounterPatch):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for model in (UserIn, UserPatch, PasswordIn, PrinterIn):
        schemas[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas["User"] = {"type": "object", "required": ["id", "name", "role", "offices", "active", "created_at",
                                                      "last_login"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "role": {"type": "string", "enum": ["clerk", "supervisor", "admin", "agent"]},
        "offices": {"type": "array", "items": {"type": "string"}, "description": "Slugs; none = city-wide"},
        "active": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"},
        "last_login": {"type": ["string", "null"], "format": "date-time"},
        "editable": {"type": "boolean", "description": "Whether the calling admin may change this user"}}}
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    schemas["Ticket"] = {"type": "object", "required": [
        "id", "code", "office", "service", "state", "counter", "created_at", "called_at", "started_at",
        "finished_at", "position", "estimate", "status_url"], "properties": {
        "id": {"type": "integer"}, "code": {"type": "string", "examples": ["A042"]},
        "office": {"type": "string"}, "service": {"type": "string"},
        "state": {"type": "string", "enum": ["waiting", "called", "serving", "parked", "done", "no_show",
                                              "cancelled"]},
        "counter": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
        "called_at": nullable_time, "started_at": nullable_time, "finished_at": nullable_time,
        "position": {"type": ["integer", "null"]},
        "estimate": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
            "low": {"type": ["integer", "null"]}, "high": {"type": ["integer", "null"]},
            "reason": {"type": "string", "enum": ["no_counter_open"],
                       "description": "Why low and high are null: no counter is open for the service"}}}]},
        "status_url": {"type": "string", "format": "uri"},
        "print": {"description": "Issuing only: the kiosk's print job, printed after the ticket is committed",
                  "oneOf": [{"type": "null"}, PRINT_JOB]}}}
    schemas["PrintJob"] = {"type": "object", "required": ["id", "ticket", "device", "backend", "state", "error"],
                           "properties": {
        "id": {"type": "integer"}, "office": {"type": "string"}, "device": {"type": "string"},
        "ticket": {"type": "object", "properties": {"id": {"type": "integer"}, "code": {"type": "string"}}},
        "backend": {"type": "string", "enum": ["network", "usb", "file"]},
        "state": {"type": "string", "enum": ["queued", "printing", "printed", "failed"]},
        "error": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}}}]},
        "attempts": {"type": "integer"}, "reprint": {"type": "boolean"}, "created_at": nullable_time,
        "updated_at": nullable_time, "printed_at": nullable_time}}
    schemas["AuditEntry"] = {"type": "object", "required": [
        "id", "at", "actor", "role", "office", "action", "target", "ip", "details"], "properties": {
        "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "string"}, "role": {"type": "string"}, "office": {"type": ["string", "null"]},
        "action": {"type": "string", "examples": ["ticket.finish", "counter.open", "login"]},
        "target": {"type": ["string", "null"], "examples": ["mitte/schalter-1", "ticket 42"]},
        "ip": {"type": ["string", "null"]},
        "details": {"type": "object", "description": "status (the HTTP status of the request) and its short, "
                                                     "safe fields"}}}
    schemas["PairingCode"] = {"type": "object", "required": ["code", "expires_at", "url", "device", "kind"],
                              "properties": {
        "code": {"type": "string", "examples": ["ABCD-EFGH"]}, "expires_at": {"type": "string", "format": "date-time"},
        "url": {"type": "string", "format": "uri", "description": "Open on the device (or as the QR code)"},
        "qr_svg": {"type": "string", "description": "Path of the URL's QR code (SVG), while the code is valid"},
        "device": {"type": "string"}, "kind": {"type": "string"}, "office": {"type": "string"}}}
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
    return schemas


@functools.cache
def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "CivicQueue API", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "office": {"name": "office", "in": "path", "required": True, "schema": {"type": "string"}},
                "counter": {"name": "counter", "in": "path", "required": True, "schema": {"type": "string"}},
                "token": {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
                "from": {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                "to": {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
            },
            "schemas": _schemas(),
        },
    }
