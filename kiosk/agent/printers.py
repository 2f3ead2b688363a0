"""What the agent knows about a printer: where it is (spec), how it is (status), and why a job failed."""

from __future__ import annotations

import difflib
import errno
from dataclasses import dataclass

SPEC_FORMS = "usb:VID:PID (hex, e.g. usb:04b8:0e15; optionally usb:VID:PID:IN_EP:OUT_EP) or file:/dev/usb/lp0"

# Epson real-time status (DLE EOT n): bits 1 and 4 are always set and bits 0 and 7 never, so 0x12 is "all fine".
FIXED_BITS_MASK, FIXED_BITS = 0x93, 0x12
OFFLINE = 0x08  # DLE EOT 1
PAPER_NEAR_END, PAPER_END = 0x0C, 0x60  # DLE EOT 4


class SpecError(ValueError):
    """A printer spec or profile the agent cannot use; the message says what would work."""


@dataclass(frozen=True)
class PrinterSpec:
    backend: str  # "usb" or "file"
    vendor: int | None = None
    product: int | None = None
    path: str | None = None
    profile: str | None = None
    in_ep: int = 0x82  # python-escpos' defaults, right for Epson TM printers
    out_ep: int = 0x01
    ask_status: bool = True  # False for USB printers that do not answer DLE EOT

    def describe(self) -> str:
        if self.backend == "usb":
            return f"usb:{self.vendor:04x}:{self.product:04x}"
        return f"file:{self.path}"


@dataclass(frozen=True)
class PrinterStatus:
    status: str  # ok, paper_low, paper_out, offline or error
    detail: str | None = None

    def payload(self) -> dict:
        return {"status": self.status, "detail": self.detail}


class PrintFailure(Exception):
    """A job that did not print, with one of the contract's error codes."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message

    def payload(self) -> dict:
        return {"code": self.code, "message": self.message}


def parse_spec(text: str, profile: str | None = None) -> PrinterSpec:
    """`usb:VID:PID[:IN:OUT]` or `file:PATH`, as given on the command line."""
    kind, _, rest = text.strip().partition(":")
    if kind == "file" and rest:
        return PrinterSpec("file", path=rest, profile=profile)
    if kind == "usb":
        numbers = [_hex(part, text) for part in rest.split(":")]
        if len(numbers) in (2, 4):
            endpoints = dict(zip(("in_ep", "out_ep"), numbers[2:], strict=False))
            return PrinterSpec("usb", vendor=numbers[0], product=numbers[1], profile=profile, **endpoints)
    raise SpecError(f"bad printer spec {text!r}: use {SPEC_FORMS}")


def _hex(part: str, text: str) -> int:
    try:
        value = int(part, 16)
    except ValueError:
        raise SpecError(f"bad printer spec {text!r}: {part!r} is not a hex number; use {SPEC_FORMS}") from None
    if not 0 <= value <= 0xFFFF:
        raise SpecError(f"bad printer spec {text!r}: {part!r} is out of range")
    return value


def spec_from_config(printer: dict | None, profile: str | None = None) -> PrinterSpec | None:
    """The printer the server's `agent_config` names (None when it names none the agent can drive)."""
    printer = printer or {}
    profile, backend = profile or printer.get("profile"), printer.get("backend")
    if backend == "usb" and printer.get("vendor") and printer.get("product"):
        return PrinterSpec("usb", vendor=int(printer["vendor"]), product=int(printer["product"]), profile=profile,
                           ask_status=printer.get("status") is not False)
    if backend in ("usb", "file") and printer.get("path"):  # a USB printer the kernel's usblp driver serves
        return PrinterSpec("file", path=str(printer["path"]), profile=profile)
    return None


def check_profile(name: str) -> str:
    """A python-escpos printer profile name, or SpecError naming the closest known ones."""
    from escpos.capabilities import CAPABILITIES

    known = sorted(CAPABILITIES["profiles"])
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise SpecError(f"unknown printer profile {name!r}: {hint}known profiles: {', '.join(known)}")


def status_from_answers(printer_byte: int | None, paper_byte: int | None) -> PrinterStatus:
    """The printer's state from its DLE EOT 1 and DLE EOT 4 answers (None: no or no valid answer)."""
    printer_byte, paper_byte = _valid(printer_byte), _valid(paper_byte)
    if printer_byte is None and paper_byte is None:
        return PrinterStatus("ok", "the printer does not answer status queries")
    if paper_byte is not None and paper_byte & PAPER_END:
        return PrinterStatus("paper_out", "paper end sensor: no paper")  # checked first: paper end also means offline
    if printer_byte is not None and printer_byte & OFFLINE:
        return PrinterStatus("offline", "the printer reports offline (cover open, error or feed button)")
    if paper_byte is not None and paper_byte & PAPER_NEAR_END:
        return PrinterStatus("paper_low", "paper near end")
    return PrinterStatus("ok")


def _valid(byte: int | None) -> int | None:
    return byte if byte is not None and byte & FIXED_BITS_MASK == FIXED_BITS else None


def failure_from(exc: BaseException) -> PrintFailure:
    """One contract error code for whatever a printer library or the OS raised."""
    if isinstance(exc, PrintFailure):
        return exc
    usb_kind = _usb_error_kind(exc)
    if usb_kind == "timeout":
        return PrintFailure("timeout", f"the USB printer did not answer in time ({exc})")
    if usb_kind == "no_backend":
        return PrintFailure("device_error", "libusb is not installed (apt install libusb-1.0-0)")
    os_error = exc if isinstance(exc, OSError) else _os_cause(exc)
    if os_error is not None:
        return _from_os_error(os_error)
    return PrintFailure("device_error", " ".join(str(exc).split()) or type(exc).__name__)


def _from_os_error(error: OSError) -> PrintFailure:
    message = f"{error.strerror or error}" + (f": {error.filename}" if error.filename else "")
    if error.errno == errno.ENOSPC:
        return PrintFailure("paper_out", f"the printer reports no paper ({message})")  # usblp's answer at paper end
    if error.errno == errno.ETIMEDOUT:
        return PrintFailure("timeout", message)
    return PrintFailure("device_error", message)


def _os_cause(exc: BaseException) -> OSError | None:
    """python-escpos wraps the OSError of a failed open in its own exception; find it again."""
    seen = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _usb_error_kind(exc: BaseException) -> str | None:
    try:
        from usb.core import NoBackendError, USBTimeoutError
    except ImportError:  # pyusb is only needed for USB printers
        return None
    if isinstance(exc, USBTimeoutError):
        return "timeout"
    return "no_backend" if isinstance(exc, NoBackendError) else None
