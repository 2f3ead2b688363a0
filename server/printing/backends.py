"""Getting a job's bytes to a printer the server reaches itself: over TCP (port 9100) or into a device file.

A network printer is asked for its real-time status (DLE EOT) before and after the job, so a printer that is
off, out of paper or drops the connection is a failed job with its reason, not a silent loss.
"""

from __future__ import annotations

import contextlib
import errno
import socket

from escpos.constants import RT_MASK_LOWPAPER, RT_MASK_NOPAPER, RT_MASK_ONLINE, RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Network

from server.services.printing import PrintError


def send(data: bytes, printer: dict) -> str:
    """Print; return the printer's status afterwards ("ok" or "paper_low"); raise PrintError on failure."""
    if printer["backend"] == "network":
        return _send_network(data, printer)
    if printer["backend"] == "file":
        return _send_file(data, printer["path"])
    raise PrintError("device_error", f"the server cannot print to a '{printer['backend']}' printer itself")


def _send_network(data: bytes, printer: dict) -> str:
    where, timeout = f"{printer['host']}:{printer.get('port', 9100)}", printer.get("timeout", 5.0)
    device = Network(printer["host"], printer.get("port", 9100), timeout=timeout)
    try:
        device.open()
    except DeviceNotFoundError as exc:
        raise _connect_error(exc.__context__, where, timeout) from None
    try:
        if printer.get("status", True):
            _check(status(device), where)
        device._raw(data)  # python-escpos's transport hook: sendall on the socket
        after = status(device) if printer.get("status", True) else "ok"
        _check(after, where, printed=True)
        return after
    except TimeoutError:
        raise PrintError("timeout", f"printer {where} did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise PrintError("connection_lost", f"printer {where} dropped the connection: {_reason(exc)}") from None
    finally:
        _close(device)


def status(device) -> str:
    """Epson real-time status: DLE EOT 1 (offline bit), DLE EOT 4 (paper near end / paper end)."""
    online = device.query_status(RT_STATUS_ONLINE)
    paper = device.query_status(RT_STATUS_PAPER) if online else b""
    if not online or not paper:
        raise ConnectionResetError(errno.ECONNRESET, "closed without answering the status query")
    if paper[0] & RT_MASK_NOPAPER == RT_MASK_NOPAPER:
        return "paper_out"  # an Epson at paper end also goes offline; the paper is the reason to report
    if online[0] & RT_MASK_ONLINE:
        return "offline"
    if paper[0] & RT_MASK_LOWPAPER == RT_MASK_LOWPAPER:
        return "paper_low"
    return "ok"


def probe(printer: dict) -> tuple[str, str | None]:
    """A network printer's status between jobs: (status, detail), without printing anything."""
    where, timeout = f"{printer['host']}:{printer.get('port', 9100)}", printer.get("timeout", 5.0)
    device = Network(printer["host"], printer.get("port", 9100), timeout=timeout)
    try:
        device.open()
    except DeviceNotFoundError as exc:
        return "offline", _connect_error(exc.__context__, where, timeout).message
    try:
        return status(device), None
    except TimeoutError:
        return "offline", f"printer {where} did not answer its status query within {timeout:g} s"
    except OSError as exc:
        return "offline", f"printer {where} dropped the connection: {_reason(exc)}"
    finally:
        _close(device)


def _check(state: str, where: str, printed: bool = False) -> None:
    if state == "paper_out":
        raise PrintError("paper_out", f"printer {where} is out of paper" + (" (the ticket may be cut off)"
                                                                             if printed else ""))
    if state == "offline":
        raise PrintError("printer_offline", f"printer {where} is offline (cover open or an error light?)")


def _connect_error(cause: BaseException | None, where: str, timeout: float) -> PrintError:
    if isinstance(cause, TimeoutError | socket.timeout):
        return PrintError("timeout", f"printer {where} did not accept a connection within {timeout:g} s")
    if isinstance(cause, ConnectionRefusedError):
        return PrintError("connection_refused", f"printer {where} refused the connection (switched off?)")
    return PrintError("connection_refused", f"printer {where} cannot be reached: {_reason(cause)}")


def _reason(exc: BaseException | None) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _close(device: Network) -> None:
    with contextlib.suppress(OSError):  # the connection is already gone; the job's outcome is known
        device.close()


def _send_file(data: bytes, path: str) -> str:
    """A printer's device file (e.g. /dev/usb/lp0) or any file; appended, so nothing is overwritten."""
    try:
        with open(path, "ab", buffering=0) as fh:
            fh.write(data)
    except FileNotFoundError:
        raise PrintError("printer_offline", f"{path} does not exist (printer unplugged or off?)") from None
    except OSError as exc:
        raise PrintError("device_error", f"cannot write to {path}: {_reason(exc)}") from None
    return "ok"
