"""The agent: a Socket.IO client of the server's /kiosk namespace that prints the jobs it is sent."""

from __future__ import annotations

import logging
import random
import threading

import socketio

from . import __version__
from .outbox import ResultOutbox
from .printers import PrinterSpec, PrinterStatus, SpecError, check_profile, spec_from_config
from .worker import PrintWorker

log = logging.getLogger("civicqueue.agent")
NAMESPACE = "/kiosk"
EXIT_REFUSED = 3


class SocketLink:
    """The connection to /kiosk as the outbox sees it; emits are serialised (python-socketio's are not)."""

    def __init__(self, client: socketio.Client):
        self.client = client
        self.connected = False
        self._lock = threading.Lock()

    def emit(self, event: str, data: dict, callback=None) -> None:
        with self._lock:
            self.client.emit(event, data, namespace=NAMESPACE, callback=callback)


class Backoff:
    """Randomised exponential delays, like python-socketio's reconnection: base, 2·base, … capped, ±50 %."""

    def __init__(self, base: float, cap: float):
        self.base, self.cap, self._next = base, cap, base

    def next(self) -> float:
        delay, self._next = min(self._next, self.cap), self._next * 2
        return max(0.05, delay + delay * 0.5 * (2 * random.random() - 1))

    def reset(self) -> None:
        self._next = self.base


class Agent:
    """Connect, print, report; `start()`/`stop()` run it in background threads, `run()` blocks."""

    def __init__(self, server: str, token: str, printer: PrinterSpec | None = None, profile: str | None = None,
                 status_interval: float = 30.0, reconnect_delay: float = 1.0, reconnect_delay_max: float = 10.0):
        self.server, self.token = server, token
        self.printer_override, self.profile_override = printer, profile
        self.device: str | None = None
        self.office: str | None = None
        self.exit_code: int | None = None
        self.client = socketio.Client(reconnection=True, reconnection_attempts=0, reconnection_delay=reconnect_delay,
                                      reconnection_delay_max=reconnect_delay_max, handle_sigint=False)
        self.link = SocketLink(self.client)
        self.outbox = ResultOutbox(self.link)
        self.worker = PrintWorker(self.outbox.add, self._status_checked, status_interval)
        self._backoff = Backoff(reconnect_delay, reconnect_delay_max)
        self._last_status: PrinterStatus | None = None
        self._refusal: str | None = None
        self._stopping, self._wake, self._done = threading.Event(), threading.Event(), threading.Event()
        self._needs_connect, self._connected = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._register()

    def start(self) -> Agent:
        self.worker.start()
        if self.printer_override:
            self.worker.configure(self.printer_override)
        self._needs_connect.set()
        self._thread = threading.Thread(target=self._supervise, daemon=True, name="agent-connection")
        self._thread.start()
        return self

    def run(self) -> int:
        """Until stopped (exit code 0) or refused by the server (EXIT_REFUSED)."""
        self.start()
        self._done.wait()
        self.stop()
        return self.exit_code or 0

    def request_stop(self) -> None:
        """Safe from a signal handler: only flags the stop."""
        self._stopping.set()
        self._wake.set()

    def stop(self) -> None:
        self.request_stop()
        if self._thread:
            self._thread.join(15)
        self.worker.stop()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self.link.connected

    def _register(self) -> None:
        on = self.client.on
        on("connect", self._on_connect, namespace=NAMESPACE)
        on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        on("__disconnect_final", self._on_disconnect_final, namespace=NAMESPACE)
        on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        on("agent_config", self._on_config, namespace=NAMESPACE)
        on("print_job", self._on_print_job, namespace=NAMESPACE)

    def _on_connect(self) -> None:
        """Connected (again): report the printer's status anew and send the results kept meanwhile."""
        log.info("connected to %s", self.server)
        self._last_status = None
        self.link.connected = True
        self._connected.set()
        self.outbox.flush()
        # Read after setting connected: a config the printer thread applies meanwhile then reports by itself.
        if self.printer_override or self.worker.spec:
            self.worker.check_status()

    def _on_disconnect(self, reason=None) -> None:
        """Connection lost; python-socketio reconnects unless `__disconnect_final` follows."""
        self.link.connected = False
        self._connected.clear()
        self.outbox.connection_lost()
        if not self._stopping.is_set():
            log.warning("connection lost (%s); reconnecting", reason)

    def _on_disconnect_final(self) -> None:
        """python-socketio will not reconnect by itself (e.g. the server closed the session): we do."""
        self._needs_connect.set()
        self._wake.set()

    def _on_connect_error(self, data=None) -> None:
        """A dict is the server's refusal of this token (a string is a network failure: keep trying)."""
        if isinstance(data, dict):
            self._refusal = _refusal_text(data)
            self._wake.set()

    def _on_config(self, data) -> None:
        """The server names this kiosk and its printer; --printer and --profile take precedence."""
        data = data if isinstance(data, dict) else {}
        self.device, self.office = data.get("device"), data.get("office")
        printer = dict(data.get("printer") or {})
        printer["profile"] = _known_profile(printer.get("profile"))
        spec = self.printer_override or spec_from_config(printer, self.profile_override)
        log.info("device %s of office %s; printer %s", self.device, self.office, spec.describe() if spec else "none")
        self.worker.configure(spec)

    def _on_print_job(self, data) -> None:
        if isinstance(data, dict):
            self.worker.submit(data)
        else:
            log.warning("ignored a print_job that is not an object: %r", type(data).__name__)

    def _status_checked(self, status: PrinterStatus) -> None:
        """Called by the printer thread after each check; the server hears of changes (and all after a connect)."""
        if not self.link.connected or status == self._last_status:
            return
        try:
            self.link.emit("printer_status", status.payload())
        except socketio.exceptions.SocketIOError as exc:
            log.info("printer status not sent (%s)", exc)
            return
        log.info("printer status %s%s", status.status, f" ({status.detail})" if status.detail else "")
        self._last_status = status

    def _supervise(self) -> None:
        while not self._stopping.is_set() and self._refusal is None:
            if self._needs_connect.is_set() and not self._connect():
                self._wake.wait(self._backoff.next())
            else:
                self._wake.wait(1.0)
                self.outbox.tick()
            self._wake.clear()
        if self._refusal is not None and not self._stopping.is_set():
            log.error("the server refused this agent: %s. Check the token: it must be a kiosk device token of this "
                      "office (python -m server token add NAME --device kiosk --office SLUG).", self._refusal)
            self.exit_code = EXIT_REFUSED
        self.client.shutdown()
        self._done.set()

    def _connect(self) -> bool:
        try:
            self.client.connect(self.server, auth={"token": self.token, "agent": __version__},
                                namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=10)
        except ValueError as exc:  # the last connection is still closing (its websocket close handshake)
            log.debug("not connecting yet: %s", exc)
            return False
        except socketio.exceptions.ConnectionError as exc:
            if self._refusal is None:
                log.warning("cannot connect to %s (%s); trying again", self.server, exc)
            return False
        self._needs_connect.clear()
        self._backoff.reset()
        return True


def _refusal_text(data: dict) -> str:
    """python-socketio sends {"message", "data"?}; a server may put its {"code", "message"} in data."""
    details = data.get("data") if isinstance(data.get("data"), dict) else {}
    message = details.get("message") or data.get("message") or "refused"
    return f"{details['code']}: {message}" if details.get("code") else str(message)


def _known_profile(name: str | None) -> str | None:
    """A profile the server names but python-escpos lacks is dropped (printing raw bytes does not need it)."""
    if not name:
        return None
    try:
        return check_profile(name)
    except SpecError as exc:
        log.warning("%s; printing without a profile", str(exc).split(":")[0])
        return None
