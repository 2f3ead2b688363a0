"""The two local printers an agent drives through python-escpos: a device file and a USB printer."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Protocol

from escpos.printer import File, Usb  # imported up front: the first ticket should not wait for the import

from .printers import PrinterSpec, PrinterStatus, PrintFailure, failure_from, status_from_answers

USB_WRITE_TIMEOUT_MS = 10_000  # python-escpos' default 0 waits forever on a jammed printer
STATUS_PRINTER, STATUS_PAPER = b"\x10\x04\x01", b"\x10\x04\x04"  # DLE EOT 1, DLE EOT 4


class Backend(Protocol):
    def status(self) -> PrinterStatus: ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class FileBackend:
    """A printer that is a device file (usblp's /dev/usb/lp0, a parallel port) or, in tests, a plain file."""

    def __init__(self, spec: PrinterSpec):
        self.spec = spec

    def status(self) -> PrinterStatus:
        """A device file cannot say more than whether it can be opened for writing."""
        try:
            self._refuse_missing_device()
            with open(self.spec.path, "ab"):  # append: looking must not truncate a plain file
                pass
        except (OSError, PrintFailure) as exc:
            return PrinterStatus("error", failure_from(exc).message)
        return PrinterStatus("ok")

    def write(self, data: bytes) -> None:
        self._refuse_missing_device()
        printer = File(self.spec.path, profile=self.spec.profile)
        try:
            printer.open()
            printer._raw(data)
        except Exception as exc:
            raise failure_from(exc) from exc
        finally:
            printer.close()

    def close(self) -> None:
        """Nothing stays open between jobs."""

    def _refuse_missing_device(self) -> None:
        # Opening a missing /dev path for writing would create a plain file there (as root) instead of failing.
        if self.spec.path.startswith("/dev/") and not os.path.exists(self.spec.path):
            raise PrintFailure("device_error", f"no such device {self.spec.path} (is the printer on and plugged in?)")


class UsbBackend:
    """A USB printer, kept open between jobs: python-escpos resets the USB device on every open."""

    def __init__(self, spec: PrinterSpec, opener: Callable[[PrinterSpec], Usb] | None = None):
        self.spec, self.opener = spec, opener or _open_usb
        self._printer = None
        self._silent = False  # it did not answer the last status check: jobs do not wait for answers then

    def status(self) -> PrinterStatus:
        try:
            return self._ask_status(self._open())
        except Exception as exc:
            self.close()
            return PrinterStatus("error", failure_from(exc).message)

    def write(self, data: bytes) -> None:
        try:
            printer = self._open()
            state = PrinterStatus("ok") if self._silent else self._ask_status(printer)
            if state.status == "paper_out":
                raise PrintFailure("paper_out", state.detail)
            if state.status == "offline":
                raise PrintFailure("printer_offline", state.detail)
            printer._raw(data)
        except PrintFailure:
            raise
        except Exception as exc:
            self.close()  # the next job opens the device afresh (it may have been unplugged)
            raise failure_from(exc) from exc

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            with contextlib.suppress(Exception):  # a device that is gone cannot be released more cleanly
                printer.close()

    def _open(self):
        if self._printer is None:
            self._printer = self.opener(self.spec)
        return self._printer

    def _ask_status(self, printer) -> PrinterStatus:
        if not self.spec.ask_status:
            return PrinterStatus("ok", "status queries are switched off for this printer")
        answers = _answer(printer, STATUS_PRINTER), _answer(printer, STATUS_PAPER)
        self._silent = answers == (None, None)
        return status_from_answers(*answers)


def _open_usb(spec: PrinterSpec) -> Usb:
    printer = Usb(spec.vendor, spec.product, timeout=USB_WRITE_TIMEOUT_MS, in_ep=spec.in_ep, out_ep=spec.out_ep,
                  profile=spec.profile)
    printer.open()
    return printer


def _answer(printer, query: bytes) -> int | None:
    """The printer's one-byte answer to a real-time status query; None if it gives none."""
    from usb.core import USBTimeoutError

    try:
        answer = printer.query_status(query)
    except USBTimeoutError:
        return None
    return answer[-1] if len(answer) else None


def open_backend(spec: PrinterSpec) -> Backend:
    return UsbBackend(spec) if spec.backend == "usb" else FileBackend(spec)
