"""Request bodies, validated with pydantic; their JSON Schemas feed the OpenAPI document."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Literal

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from server.services.errors import Invalid, ServiceError

# The largest value an INTEGER column holds on every supported database (PostgreSQL's is 32-bit): bigger
# numbers are refused as invalid fields instead of overflowing in the driver (a 500).
MAX_INT = 2**31 - 1


class MalformedJson(ServiceError):
    status = 400
    code = "malformed_json"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketIn(Body):
    service: Annotated[str, Field(min_length=1, max_length=64)]
    lang: Annotated[str, Field(min_length=2, max_length=16)] | None = None
    request_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    priority: Literal["normal", "priority_need", "appointment"] = "normal"


class TransferIn(Body):
    service: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    counter: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    position: Literal["front", "back"] = "back"


class RequeueIn(Body):
    position: Literal["front", "back"] = "back"


class CallTicketIn(Body):
    ticket: Annotated[int, Field(ge=1, le=MAX_INT)]


class IssuingIn(Body):
    open: bool  # strict: "no" or null are refused, not read as false
    model_config = ConfigDict(extra="forbid", strict=True)


class ServiceIn(Body):
    name: (Annotated[str, Field(min_length=1, max_length=200)]
           | Annotated[dict[str, Annotated[str, Field(min_length=1)]], Field(min_length=1)])
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{0,3}$")] = ""
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")] | None = None
    range: tuple[Annotated[int, Field(ge=0, le=99999)], Annotated[int, Field(ge=0, le=99999)]] = (1, 999)
    daily_cap: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None
    target_wait: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None
    service_minutes: Annotated[float, Field(gt=0, le=480)] = 5.0
    pictogram: Annotated[str, Field(max_length=32)] | None = None


class CounterIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    services: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1)]
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")] | None = None


SLUG_FIELD = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
NAMES = Annotated[dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")],
                       Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1, max_length=20)]
HHMM = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
WEEKDAY = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
OPENING_HOURS = dict[WEEKDAY, Annotated[list[tuple[HHMM, HHMM]], Field(max_length=4)]]
LANG_CODE = Annotated[str, Field(min_length=2, max_length=16)]


class OfficeIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    slug: SLUG_FIELD | None = None
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "Europe/Berlin"
    language: LANG_CODE = "de"
    languages: Annotated[list[LANG_CODE], Field(max_length=20)] = []
    opening_hours: OPENING_HOURS = {}


class PolicyPatch(Body):
    """The office's calling policy switches; only the keys sent change, the others keep their value."""

    overdue_first: bool | None = Field(None, description="Tickets past their service's target wait are called "
                                       "first (default true)")
    service_levels: bool | None = Field(None, description="A counter serves its services in its own order "
                                        "(default true)")
    stop_at_cutoff: bool | None = Field(None, description="No tickets after the cut-off forecast: they would not "
                                        "be served before closing (default false)")
    model_config = ConfigDict(extra="forbid", strict=True)  # "no", 0 or 1 are refused, not read as booleans


class OfficePatch(Body):
    """Only the fields sent are changed (in `policy` too: only its keys sent)."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    timezone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    language: LANG_CODE | None = None
    languages: Annotated[list[LANG_CODE], Field(max_length=20)] | None = None
    opening_hours: OPENING_HOURS | None = None
    policy: PolicyPatch | None = None


class ServicePatch(Body):
    """Only the fields sent are changed; `daily_cap`, `target_wait` and `pictogram` may be null (none)."""

    name: NAMES | None = None
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{0,3}$")] | None = None
    range: tuple[Annotated[int, Field(ge=0, le=99999)], Annotated[int, Field(ge=0, le=99999)]] | None = None
    daily_cap: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None
    target_wait: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None
    service_minutes: Annotated[float, Field(gt=0, le=480)] | None = None
    active: bool | None = None
    pictogram: Annotated[str, Field(max_length=32)] | None = None


class OrderIn(Body):
    order: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=500)]


class CounterPatch(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    services: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]],
                        Field(min_length=1, max_length=200)] | None = None


class DeviceIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: Literal["kiosk", "display"]


class PairIn(Body):
    code: Annotated[str, Field(min_length=1, max_length=32, examples=["ABCD-EFGH"])]


def parse(model: type[Body], *, optional: bool = False) -> Body:
    """The request's JSON body as `model`: 400 when it is not JSON, 422 naming the first bad field."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return model()
        raise MalformedJson("the request needs a JSON object body")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested too deeply for the JSON parser
        data = None
    if data is None:
        raise MalformedJson("the request body is not valid JSON (send Content-Type: application/json)")
    if not isinstance(data, dict):
        raise MalformedJson("the request body must be a JSON object")
    if _has_nul(data):
        raise Invalid("text fields must not contain NUL characters", "invalid_characters")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise Invalid(f"{field}: {err['msg']}", "invalid_field") from None


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})


def slugify(text: str) -> str:
    """'Schalter 3 (Kfz)' -> 'schalter-3-kfz'."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_UMLAUTS)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:64]
    if not slug:
        raise Invalid("cannot derive a slug from this name; give 'slug' explicitly", "invalid_slug")
    return slug


def parse_day(value: str) -> date:
    """A date like 2026-11-26 between the years 1900 and 9000 (the UTC bounds of dates at the calendar's edges
    overflow); ValueError otherwise."""
    day = date.fromisoformat(value)
    if not 1900 <= day.year <= 9000:
        raise ValueError(f"{value} is not between 1900 and 9000")
    return day


def date_arg(name: str) -> date | None:
    """A date from the query string (?from=2026-11-26), or None; 422 naming the parameter when it is no date."""
    value = request.args.get(name)
    if not value:
        return None
    try:
        return parse_day(value)
    except ValueError:
        raise Invalid(f"'{name}' must be a date like 2026-11-26 (years 1900 to 9000)", "invalid_date") from None
