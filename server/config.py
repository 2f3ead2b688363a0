"""Settings: defaults in code -> TOML file -> QMS_* environment, validated before anything starts."""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "civicqueue.toml"
DEMO_CONFIG = ROOT / "config" / "demo.toml"
SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"


class ConfigError(Exception):
    """Invalid configuration: names the file, the key and the problem."""

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{value}' (use an IANA name such as Europe/Berlin)") from None
    return value


class ServiceConfig(_Strict):
    slug: Annotated[str, Field(pattern=SLUG)]
    name: dict[str, Annotated[str, Field(min_length=1, max_length=200)]]
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{0,3}$")] = ""
    range: tuple[int, int] = (1, 999)
    daily_cap: Annotated[int, Field(ge=1)] | None = None
    target_wait: Annotated[int, Field(ge=1, description="minutes")] | None = None
    service_minutes: Annotated[float, Field(gt=0, le=480)] = 5.0
    pictogram: str | None = None  # a name from server/web/pictograms.py

    @field_validator("pictogram")
    @classmethod
    def _known_pictogram(cls, v):
        from server.web.pictograms import PICTOGRAMS

        if v is not None and v not in PICTOGRAMS:
            raise ValueError(f"unknown pictogram '{v}' (one of: {', '.join(PICTOGRAMS)})")
        return v

    @field_validator("name")
    @classmethod
    def _has_name(cls, v):
        if not v:
            raise ValueError("give the name in at least one language, e.g. name = { de = \"...\" }")
        return v

    @field_validator("range")
    @classmethod
    def _range(cls, v):
        if not 0 <= v[0] <= v[1] <= 99999:
            raise ValueError("range must be [first, last] with 0 <= first <= last <= 99999")
        return v


class CounterConfig(_Strict):
    slug: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    services: Annotated[list[str], Field(min_length=1)]


class PrinterConfig(_Strict):
    """A kiosk's ticket printer. network: the server prints over TCP; usb: the kiosk agent prints;
    file: the server writes to a device file (e.g. /dev/usb/lp0); none: the ticket is shown on screen only."""

    backend: Literal["network", "usb", "file", "none"] = "none"
    host: Annotated[str, Field(max_length=253)] | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 9100
    path: Annotated[str, Field(max_length=500)] | None = None
    vendor: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    product: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    profile: Annotated[str, Field(max_length=64)] | None = None  # a python-escpos printer profile, e.g. TM-T20II
    paper: Literal[80, 58] = 80  # roll width in mm
    timeout: Annotated[float, Field(gt=0, le=60)] = 5.0  # seconds for connecting and for each answer
    status: bool = True  # ask the printer for its real-time status (DLE EOT) before and after each job

    @model_validator(mode="after")
    def _complete(self):
        if self.backend == "network" and not self.host:
            raise ValueError("a network printer needs host (its IP address or name)")
        if self.backend == "file" and not self.path:
            raise ValueError("a file printer needs path (e.g. /dev/usb/lp0)")
        if self.profile is not None:
            from escpos.capabilities import get_profile_class

            try:
                get_profile_class(self.profile)
            except Exception:
                raise ValueError(f"unknown printer profile '{self.profile}' (python-escpos profiles such as "
                                 "TM-T20II, TM-T88V, TSP600, RP-F10-80mm)") from None
        return self


class DeviceConfig(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: Literal["kiosk", "display"]
    printer: PrinterConfig | None = None

    @model_validator(mode="after")
    def _printer_on_kiosk(self):
        if self.printer is not None and self.printer.backend != "none" and self.kind != "kiosk":
            raise ValueError(f"device '{self.name}': only a kiosk has a ticket printer")
        return self


class PolicyConfig(_Strict):
    """The office's calling policy as the layout sets it first (then the admin's office page edits it)."""

    overdue_first: bool = True
    service_levels: bool = True
    stop_at_cutoff: bool = False  # refuse tickets the cut-off forecast says would not be served before closing


class OfficeConfig(_Strict):
    slug: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    timezone: str = "Europe/Berlin"
    language: str = "de"
    policy: PolicyConfig = PolicyConfig()
    services: list[ServiceConfig] = []
    counters: list[CounterConfig] = []
    devices: list[DeviceConfig] = []

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))

    @model_validator(mode="after")
    def _consistent(self):
        _unique([s.slug for s in self.services], "services", "slug")
        _unique([c.slug for c in self.counters], "counters", "slug")
        _no_code_clash(self.services)
        known = {s.slug for s in self.services}
        for i, counter in enumerate(self.counters):
            for slug in counter.services:
                if slug not in known:
                    raise ValueError(f"counters[{i}].services: unknown service '{slug}' "
                                     f"(known: {', '.join(sorted(known)) or 'none'})")
        return self


def _unique(values: list[str], what: str, key: str) -> None:
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{what}: {key} '{v}' appears twice")
        seen.add(v)


def _no_code_clash(services: list[ServiceConfig]) -> None:
    """Two services with one prefix must not share numbers, or codes would repeat."""
    for i, a in enumerate(services):
        for b in services[i + 1:]:
            if a.prefix == b.prefix and a.range[0] <= b.range[1] and b.range[0] <= a.range[1]:
                raise ValueError(f"services '{a.slug}' and '{b.slug}' share prefix '{a.prefix}' "
                                 "and overlapping number ranges, so their codes would clash")


class ServerConfig(_Strict):
    database_url: str = ""
    secret_key: str = ""
    secret_key_file: str = ""
    message_queue: str = ""
    # The Redis pub/sub channel: the same for every process of a deployment, different for deployments (e.g.
    # staging and production) that share one Redis (pub/sub is not separated by Redis database numbers).
    message_queue_channel: Annotated[str, Field(pattern=r"^[\w.:-]{1,100}$")] = "flask-socketio"
    public_url: str = ""
    languages: list[str] = ["de", "en"]
    default_language: str = "de"
    timezone: str = "Europe/Berlin"
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    # Failed staff sign-ins allowed per address (Flask-Limiter notation); successful ones never count.
    login_limit: Annotated[str, Field(pattern=r"^\d+ ?(/|per) ?\w+( ?[;,] ?\d+ ?(/|per) ?\w+)*$")] = "5/minute;30/hour"
    # How often the server asks its network printers for their status between jobs (0: only when printing).
    printer_check_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    # A print job not taken up or not finished within this many seconds was left by a process that died: it is
    # failed as "interrupted" for staff to reprint. Keep it above the slowest printer's timeout plus 10 s.
    print_stale_seconds: Annotated[int, Field(ge=1, le=3600)] = 120
    # How often the cluster's leader looks for such jobs and for kiosk agents no process has heard from.
    print_recovery_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    # Days of ticket details kept (`python -m server retention run`); older days remain as aggregated statistics.
    retention_days: int = 90
    # Reverse proxies in front of the server (nginx: 1) whose X-Forwarded-For/-Proto/-Host are believed, so rate
    # limits and logs see the citizen's address, not the proxy's. 0: none (the server is reached directly).
    trusted_proxies: Annotated[int, Field(ge=0, le=5)] = 0

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))

    @field_validator("retention_days", mode="before")
    @classmethod
    def _retention(cls, v):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 3650:
            raise ValueError(f"must be a whole number of days from 1 to 3650, not {v!r}")
        return v

    @field_validator("database_url", "message_queue")
    @classmethod
    def _url(cls, v):
        if v and not re.match(r"^[a-z][a-z0-9+]*://", v):
            raise ValueError(f"'{v}' is not a URL (e.g. sqlite:///instance/civicqueue.db)")
        return v


class Settings(_Strict):
    server: ServerConfig = ServerConfig()
    offices: list[OfficeConfig] = []

    @model_validator(mode="after")
    def _unique_offices(self):
        _unique([o.slug for o in self.offices], "offices", "slug")
        return self


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "tuple[", "list[", "dict[")):
            out += f".{part}" if out else str(part)
    return out


def _validate(data: dict, source: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling)"
        raise ConfigError(source, _format_loc(err["loc"]), msg) from None


def read_toml(path: Path) -> dict:
    """Parse one TOML file, turning every failure into a ConfigError that names the file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found (set QMS_CONFIG to an existing file)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None


ENV_KEYS = {
    "QMS_DATABASE_URL": "database_url",
    "QMS_SECRET_KEY": "secret_key",
    "QMS_MESSAGE_QUEUE": "message_queue",
    "QMS_MESSAGE_QUEUE_CHANNEL": "message_queue_channel",
    "QMS_PUBLIC_URL": "public_url",
    "QMS_TRUSTED_PROXIES": "trusted_proxies",
    "QMS_PRINT_STALE_SECONDS": "print_stale_seconds",
    "QMS_PRINT_RECOVERY_SECONDS": "print_recovery_seconds",
}


def load_settings(path: str | os.PathLike | None = None, env: dict | None = None,
                  extra_files: list[Path] = ()) -> Settings:
    """Defaults, then the TOML file (QMS_CONFIG or config/civicqueue.toml), then QMS_* variables."""
    env = os.environ if env is None else env
    path = Path(path or env.get("QMS_CONFIG") or DEFAULT_CONFIG)
    data = read_toml(path)
    settings = _validate(data, str(path))
    for extra in extra_files:
        more = _validate(read_toml(extra), str(extra))
        known = {o.slug for o in settings.offices}
        settings.offices.extend(o for o in more.offices if o.slug not in known)
    overrides = {key: env[var] for var, key in ENV_KEYS.items() if env.get(var)}
    if overrides:
        merged = {**settings.server.model_dump(), **overrides}
        try:
            settings.server = ServerConfig.model_validate(merged)
        except ValidationError as exc:
            err = exc.errors()[0]
            var = next(v for v, k in ENV_KEYS.items() if k == err["loc"][0])
            raise ConfigError(f"environment {var}", "", err["msg"].removeprefix("Value error, ")) from None
    return settings


def instance_dir() -> Path:
    """Where local state lives (SQLite file, generated secret, demo tokens): QMS_INSTANCE or ./instance."""
    return Path(os.environ.get("QMS_INSTANCE") or ROOT / "instance")


def database_url(settings: Settings) -> str:
    return settings.server.database_url or f"sqlite:///{instance_dir() / 'civicqueue.db'}"


def secret_key(settings: Settings) -> str:
    """The configured secret, or one generated once into instance/secret_key for embedded use."""
    server = settings.server
    if server.secret_key:
        return server.secret_key
    if server.secret_key_file:
        try:
            return Path(server.secret_key_file).read_text().strip()
        except OSError as exc:
            raise ConfigError("server.secret_key_file", "", f"cannot read it: {exc.strerror}") from None
    key_file = instance_dir() / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_hex(32))
    return key_file.read_text().strip()
