"""The command line: init, run, user, token, device, printer, retention and stats."""

from __future__ import annotations

import logging
import os
import sys

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from server.config import DEMO_CONFIG, ConfigError, Settings, database_url, instance_dir, load_settings
from server.db import Database
from server.db.schema_version import schema_problem
from server.services.context import Context
from server.services.errors import ServiceError


def _fail(message: str, code: int = 2):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _settings(demo: bool = False) -> Settings:
    try:
        return load_settings(extra_files=[DEMO_CONFIG] if demo else [])
    except ConfigError as exc:
        _fail(f"invalid configuration: {exc}")


def _database(settings: Settings) -> Database:
    url = database_url(settings)
    db = Database(url)
    try:
        with db.engine.connect():
            pass
    except OperationalError as exc:
        _fail(f"cannot connect to the database {db.engine.url.render_as_string(hide_password=True)}: "
              f"{exc.orig}. Check QMS_DATABASE_URL and that the server is running.")
    return db


def _require_schema(db: Database) -> None:
    problem = schema_problem(db.engine)
    if problem:
        _fail(f"{problem}. Run: python -m server init")


@click.group()
def main():
    """CivicQueue: queue management for citizens' offices."""
    logging.basicConfig(level=os.environ.get("QMS_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
@click.option("--demo", is_flag=True, help="Also load the demo office (config/demo.toml) and demo tokens.")
def init(demo: bool):
    """Create or upgrade the database and import the configured layout (safe to repeat)."""
    from server.db.migrate import upgrade
    from server.services.layout import import_layout

    settings = _settings(demo)
    db = _database(settings)
    before, after = upgrade(db.engine)
    click.echo(f"schema: {'created' if before is None else 'upgraded' if before != after else 'up to date'} "
               f"(revision {after})")
    report = import_layout(Context(db=db), settings)
    for line in report.created:
        click.echo(f"created {line}")
    if report.kept:
        click.echo(f"kept {len(report.kept)} existing office(s) as they are in the database")
    if demo:
        _demo_tokens(db)


def _demo_tokens(db: Database) -> None:
    """Tokens for trying the demo office, written once to instance/demo-tokens.txt."""
    from server.auth.tokens import actor_for_token, create_token

    demo_tokens = instance_dir() / "demo-tokens.txt"
    if demo_tokens.exists():
        first = demo_tokens.read_text().split("\n")[0].split("=", 1)[-1].strip()
        with db.read_session() as session:
            if actor_for_token(session, first):
                click.echo(f"demo tokens: {demo_tokens}")
                return
    ctx = Context(db=db)
    lines = [
        f"ADMIN={create_token(ctx, 'demo-admin', role='admin')}",
        f"SUPERVISOR={create_token(ctx, 'demo-supervisor', role='supervisor', office_slug='mitte')}",
        f"CLERK={create_token(ctx, 'demo-clerk', role='clerk', office_slug='mitte')}",
        f"KIOSK={create_token(ctx, 'kiosk-eingang', device='kiosk', office_slug='mitte')}",
        f"DISPLAY={create_token(ctx, 'anzeige-wartebereich', device='display', office_slug='mitte')}",
    ]
    demo_tokens.parent.mkdir(parents=True, exist_ok=True)
    demo_tokens.touch(mode=0o600)
    demo_tokens.write_text("\n".join(lines) + "\n")
    click.echo(f"demo tokens written to {demo_tokens} (shell: source it, then use $CLERK etc.)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--access-log", is_flag=True, help="Log every request.")
def run(host: str, port: int, access_log: bool):
    """Serve HTTP and Socket.IO."""
    from server.app import create_app
    from server.serve import serve

    settings = _settings()
    db = _database(settings)
    _require_schema(db)
    app = create_app(settings, db=db)
    try:
        serve(app, host, port, access_log=access_log)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror} (is another server running? try --port)")


@main.group()
def user():
    """Manage staff users."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["clerk", "supervisor", "admin", "agent"]))
@click.option("--office", "offices", multiple=True, help="Office slug; repeat for several offices.")
def user_add(name: str, role: str, offices: tuple[str, ...]):
    """Add a staff user; the password is read from standard input."""
    from server.auth.users import add_user

    password = _read_password()
    db = _ready_database()
    try:
        add_user(Context(db=db), name, role, password, list(offices))
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(f"user {name} ({role}) added", err=True)


@user.command("passwd")
@click.argument("name")
def user_passwd(name: str):
    """Set a user's password (read from standard input) and end all of the user's sessions."""
    from server.auth import sessions
    from server.auth.users import set_password

    password = _read_password()
    ctx = Context(db=_ready_database())
    try:
        user_id = set_password(ctx, name, password)
    except ServiceError as exc:
        _fail(exc.message)
    ended = sessions.end_all(ctx, user_id)
    click.echo(f"password of {name} changed; {ended} session(s) ended", err=True)


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        _fail("no password on standard input (e.g. echo 'a long secret' | python -m server user add ...)")
    return password


def _ready_database() -> Database:
    db = _database(_settings())
    _require_schema(db)
    return db


@main.group()
def token():
    """Manage API and device tokens."""


@token.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["clerk", "supervisor", "admin", "agent"]))
@click.option("--device", type=click.Choice(["kiosk", "display"]))
@click.option("--office", help="Office slug (required for clerk, supervisor and devices).")
def token_add(name: str, role: str | None, device: str | None, office: str | None):
    """Create a token and print it (only once; it is stored hashed)."""
    from server.auth.tokens import create_token

    if bool(role) == bool(device):
        _fail("give exactly one of --role or --device")
    db = _ready_database()
    try:
        click.echo(create_token(Context(db=db), name, role=role, device=device, office_slug=office))
    except ServiceError as exc:
        _fail(exc.message)


@main.group()
def device():
    """Add, pair and revoke kiosks and displays."""


def _pairing_lines(code: dict) -> None:
    click.echo(f"pairing code: {code['code']} (valid until {code['expires_at']})")
    click.echo(f"open on the device: {code['url']}")


@device.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(["kiosk", "display"]))
@click.option("--office", required=True, help="Office slug.")
def device_add(name: str, kind: str, office: str):
    """Add a kiosk or display and print its one-time pairing code and URL."""
    from server.services import pairing
    from server.services.uow import SYSTEM

    ctx = _pairing_context()
    try:
        pairing.create_device(ctx, SYSTEM, office, name, kind)
        _pairing_lines(pairing.new_code(ctx, SYSTEM, office, name))
    except ServiceError as exc:
        _fail(exc.message)


@device.command("pair")
@click.argument("name")
@click.option("--office", required=True, help="Office slug.")
def device_pair(name: str, office: str):
    """A new pairing code for a device (e.g. a replaced PC); earlier unused codes stop working."""
    from server.services import pairing
    from server.services.uow import SYSTEM

    try:
        _pairing_lines(pairing.new_code(_pairing_context(), SYSTEM, office, name))
    except ServiceError as exc:
        _fail(exc.message)


@device.command("revoke")
@click.argument("name")
@click.option("--office", required=True, help="Office slug.")
def device_revoke(name: str, office: str):
    """Revoke a device: its tokens stop working. Live connections end at their next reconnect; the API
    (POST .../devices/NAME/revoke) cuts them at once."""
    from server.services import pairing
    from server.services.uow import SYSTEM

    try:
        pairing.revoke(Context(db=_ready_database()), SYSTEM, office, name)
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(f"device {office}/{name} revoked", err=True)


def _pairing_context() -> Context:
    """Codes name the server's public URL (server.public_url), which the device opens."""
    settings = _settings()
    db = _database(settings)
    _require_schema(db)
    return Context(db=db, base_url=settings.server.public_url.rstrip("/") or "http://127.0.0.1:5000")


@main.group()
def printer():
    """Configure kiosks' ticket printers."""


@printer.command("set")
@click.argument("device")
@click.option("--office", required=True, help="Office slug.")
@click.option("--backend", required=True, type=click.Choice(["network", "usb", "file", "none"]),
              help="network: the server prints over TCP; usb: the kiosk agent prints; file: a device file; "
                   "none: screen only.")
@click.option("--host", help="network: the printer's IP address or name.")
@click.option("--port", type=click.IntRange(1, 65535), default=9100, show_default=True)
@click.option("--path", help="file: the device file, e.g. /dev/usb/lp0.")
@click.option("--vendor", help="usb: the USB vendor id, e.g. 0x04b8 (else the agent's --printer).")
@click.option("--product", help="usb: the USB product id, e.g. 0x0202.")
@click.option("--profile", help="python-escpos printer profile, e.g. TM-T20II (default by paper width).")
@click.option("--paper", type=click.Choice(["80", "58"]), default="80", show_default=True, help="Roll width in mm.")
@click.option("--timeout", type=click.FloatRange(0.1, 60), default=5.0, show_default=True,
              help="Seconds to wait for the printer.")
@click.option("--no-status", is_flag=True, help="Do not ask the printer for its status (for printers that "
                                                "do not answer DLE EOT).")
def printer_set(device, office, backend, host, port, path, vendor, product, profile, paper, timeout, no_status):
    """Set the ticket printer of a kiosk."""
    from pydantic import ValidationError

    from server.config import PrinterConfig
    from server.services.printing import set_printer

    try:
        config = PrinterConfig(backend=backend, host=host, port=port, path=path, vendor=_usb_id(vendor),
                               product=_usb_id(product), profile=profile, paper=int(paper), timeout=timeout,
                               status=not no_status)
    except ValidationError as exc:
        _fail(exc.errors()[0]["msg"].removeprefix("Value error, "))
    try:
        set_printer(Context(db=_ready_database()), office, device, config.model_dump())
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(f"printer of {office}/{device}: {backend}", err=True)


def _usb_id(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value, 0)
    except ValueError:
        _fail(f"'{value}' is not a USB id (write it like 0x04b8)")


@printer.command("list")
@click.option("--office", required=True, help="Office slug.")
def printer_list(office):
    """Show each device's printer and its last known status."""
    from server.services.print_reads import list_devices
    from server.services.uow import SYSTEM

    try:
        rows = list_devices(Context(db=_ready_database()), SYSTEM, office)
    except ServiceError as exc:
        _fail(exc.message)
    for d in rows:
        p = d["printer"]
        click.echo(f"{d['name']:<24} {d['kind']:<8} " + (f"{p['backend']:<8} {p['status']}" if p else "no printer"))


@main.group()
def retention():
    """DSGVO retention: delete old ticket details, keep their statistics aggregated."""


DAYS_OPTION = click.option("--days", type=click.IntRange(1, 3650),
                           help="Days of ticket details to keep (default: retention_days of [server], 90).")


@retention.command("run")
@DAYS_OPTION
@click.option("--office", help="Only this office (slug); staff sessions are then left alone.")
@click.option("--dry-run", is_flag=True, help="Only report what would be deleted and aggregated.")
def retention_run(days: int | None, office: str | None, dry_run: bool):
    """Delete old ticket details; keep statistics.

    Run it daily (systemd timer config/deploy/civicqueue-retention.timer, or cron)."""
    from server.services.retention import purge

    settings = _settings()
    db = _database(settings)
    _require_schema(db)
    days = days or settings.server.retention_days
    try:
        report = purge(Context(db=db), days=days, dry_run=dry_run, office=office)
    except ServiceError as exc:
        _fail(exc.message)
    except DBAPIError as exc:
        _fail(f"the database failed: {exc.orig}. Each office is purged in one transaction, so none is left half "
              "done; `retention status` shows where each stands. Run it again.", code=1)
    click.echo(f"retention: {days} days" + (" (dry run: nothing is deleted)" if dry_run else ""))
    for result in report.offices:
        click.echo(_purge_line(result, dry_run))
    if report.staff_sessions is not None:
        click.echo(f"staff sessions: {report.staff_sessions} {'to delete' if dry_run else 'deleted'}")


PURGE_LABELS = {"tickets": "ticket(s)", "events": "event(s)", "print_jobs": "print job(s)",
                "pairing_codes": "pairing code(s)", "daily_sequences": "daily number counter(s)"}


def _purge_line(result, dry_run: bool) -> str:
    if not result.due:
        return f"{result.office}: nothing to do (details before {result.purged_before} are deleted already)"
    counts = ", ".join(f"{result.deleted[key]} {label}" for key, label in PURGE_LABELS.items())
    return (f"{result.office}: details before {result.cutoff}: {result.aggregated_days} day(s) "
            f"{'to aggregate' if dry_run else 'aggregated'} into {result.daily_stats} daily statistics row(s); "
            f"{'would delete' if dry_run else 'deleted'} {counts}")


@retention.command("status")
@DAYS_OPTION
def retention_status(days: int | None):
    """Show each office's purge date and due days."""
    from server.services.retention import status

    settings = _settings()
    db = _database(settings)
    _require_schema(db)
    days = days or settings.server.retention_days
    rows = status(Context(db=db), days=days)
    click.echo(f"retention: {days} days")
    header = ("office", "purged before", "cutoff", "older ticket days", "oldest ticket day", "aggregated days")
    table = [header] + [(r["office"], str(r["purged_before"] or "never"), str(r["cutoff"]), str(r["old_ticket_days"]),
                         str(r["oldest_ticket_day"] or "-"), str(r["aggregated_days"])) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@main.group()
def stats():
    """Statistics: the cache of closed days (derived from the event log)."""


@stats.command("rebuild")
@click.option("--office", help="Only this office (slug).")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: the oldest kept).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: yesterday).")
def stats_rebuild(office: str | None, first, last):
    """Recompute the cached daily statistics from the events (days retention purged are left as they are)."""
    from server.stats.rollup import rebuild

    first, last = first and first.date(), last and last.date()
    if first and last and first > last:
        _fail("--from must not be after --to")
    settings = _settings()
    db = _database(settings)
    _require_schema(db)
    try:
        results = rebuild(Context(db=db), office=office, first=first, last=last)
    except ServiceError as exc:
        _fail(exc.message)
    if office and not results:
        _fail(f"no office '{office}'")
    for r in results:
        span = f"{r.first} to {r.last}" if r.first else "no events"
        click.echo(f"{r.office}: {span}: {r.deleted} cached row(s) deleted, {r.days} closed day(s) cached again")


if __name__ == "__main__":
    main()
