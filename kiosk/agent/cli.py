"""`python -m kiosk.agent`: options from the command line, each with a QMS_AGENT_* environment variable."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from . import __version__
from .printers import SPEC_FORMS, PrinterSpec, SpecError, check_profile, parse_spec

TOKEN_HELP = "python -m server token add NAME --device kiosk --office SLUG"
log = logging.getLogger("civicqueue.agent")


class UsageError(ValueError):
    """An option that cannot work; the message says what to do instead."""


@dataclass(frozen=True)
class Settings:
    server: str
    token: str
    printer: PrinterSpec | None
    profile: str | None
    status_interval: float
    verbose: int


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kiosk.agent",
        description="Print CivicQueue tickets on the printer attached to this kiosk PC (USB or device file).",
        epilog="Exit status: 0 stopped, 2 bad options, 3 the server refused the token. Without --printer the "
               "printer comes from the kiosk's settings on the server.")
    parser.add_argument("--server", metavar="URL", help="CivicQueue server, e.g. https://queue.example.org "
                        "(env QMS_AGENT_SERVER)")
    parser.add_argument("--token", metavar="TOKEN", help="the kiosk's device token (env QMS_AGENT_TOKEN); "
                        "prefer --token-file, since a command line is visible to every user")
    parser.add_argument("--token-file", metavar="PATH", help="file holding the token (env QMS_AGENT_TOKEN_FILE)")
    parser.add_argument("--printer", metavar="SPEC", help=f"{SPEC_FORMS} (env QMS_AGENT_PRINTER)")
    parser.add_argument("--profile", metavar="NAME", help="python-escpos printer profile, e.g. TM-T20II "
                        "(env QMS_AGENT_PROFILE)")
    parser.add_argument("--status-interval", metavar="SECONDS", help="how often to check the printer "
                        "(default 30; env QMS_AGENT_STATUS_INTERVAL)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more; -vv also the libraries' details (env QMS_AGENT_VERBOSE=1 or 2)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def settings_from(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    """Command line first, then the environment; UsageError for anything that cannot work."""
    def pick(option: str, variable: str) -> str | None:
        value = getattr(args, option)
        return value if value not in (None, "") else (env.get(variable) or None)

    profile = pick("profile", "QMS_AGENT_PROFILE")
    try:
        profile = check_profile(profile) if profile else None
        printer = pick("printer", "QMS_AGENT_PRINTER")
        spec = parse_spec(printer, profile) if printer else None
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    return Settings(server=_server(pick("server", "QMS_AGENT_SERVER")),
                    token=_token(pick("token", "QMS_AGENT_TOKEN"), pick("token_file", "QMS_AGENT_TOKEN_FILE")),
                    printer=spec, profile=profile,
                    status_interval=_interval(pick("status_interval", "QMS_AGENT_STATUS_INTERVAL") or "30"),
                    verbose=args.verbose or _verbosity(env.get("QMS_AGENT_VERBOSE") or "0"))


def _server(url: str | None) -> str:
    if not url:
        raise UsageError("no server: pass --server URL or set QMS_AGENT_SERVER (e.g. https://queue.example.org)")
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"bad server URL {url!r}: use http://HOST[:PORT] or https://HOST[:PORT]")
    return url.rstrip("/")


def _token(token: str | None, token_file: str | None) -> str:
    if token and token_file:
        raise UsageError("both a token and a token file are given: keep one (the file is preferred)")
    if token_file:
        token = _read_token_file(Path(token_file))
    if not token:
        raise UsageError(f"no token: pass --token-file PATH or set QMS_AGENT_TOKEN; create one with `{TOKEN_HELP}`")
    return token


def _read_token_file(path: Path) -> str:
    try:
        token = path.read_text().strip()
        mode = path.stat().st_mode
    except OSError as exc:
        raise UsageError(f"cannot read the token file {path}: {exc.strerror}") from None
    if not token:
        raise UsageError(f"the token file {path} is empty; put the token from `{TOKEN_HELP}` in it")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the token file %s is readable by others; chmod 600 it", path)
    return token


def _interval(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise UsageError(f"bad status interval {text!r}: give seconds, e.g. 30") from None
    if not 1 <= seconds <= 3600:
        raise UsageError(f"status interval {seconds:g} s is out of range: use 1 to 3600 seconds")
    return seconds


def _verbosity(text: str) -> int:
    if text not in ("0", "1", "2"):
        raise UsageError(f"bad QMS_AGENT_VERBOSE {text!r}: use 0, 1 or 2")
    return int(text)


def _require_websocket_client() -> None:
    if importlib.util.find_spec("websocket") is None:
        raise UsageError("the websocket transport needs the websocket-client package: pip install websocket-client")


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Parse, check, then run until SIGTERM/SIGINT (0) or a refusal by the server (3)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    log.setLevel(logging.INFO)
    try:
        settings = settings_from(args, os.environ if env is None else env)
        _require_websocket_client()
    except UsageError as exc:
        parser.error(str(exc))
    if settings.verbose:  # python-escpos and python-socketio log to the root logger: their chatter only with -v
        logging.getLogger().setLevel(logging.DEBUG if settings.verbose > 1 else logging.INFO)
        log.setLevel(logging.DEBUG)
    from .agent import Agent

    agent = Agent(settings.server, settings.token, printer=settings.printer, profile=settings.profile,
                  status_interval=settings.status_interval)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: agent.request_stop())
    log.info("kiosk agent %s for %s, printer %s", __version__, settings.server,
             settings.printer.describe() if settings.printer else "from the server")
    return agent.run()
