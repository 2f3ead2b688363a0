"""A fake ESC/POS network printer: a real TCP server on 127.0.0.1 that parses what it receives.

It decodes `GS v 0` raster images back into 1-bit Pillow images, answers `DLE EOT n` real-time status
queries with one byte, records every job (from the bytes after one cut up to the next cut) and every byte it
could not parse. Fault modes, switchable at runtime through `printer.mode`:

- "ok": answers as a healthy printer (0x12 for every status query).
- "refuse": the listening socket is closed, so connects get ECONNREFUSED; "ok" listens again on the SAME port.
- "hang": accepts connections but never reads or answers, so a status query times out.
- "close_mid_job": answers status queries, then resets the connection (SO_LINGER 0 → RST) as soon as the first
  raster header has started to arrive; no job is recorded.
- "paper_out": DLE EOT 4 → 0x72 (0x12 + paper near end 0x0C + paper end 0x60). A real Epson stops and goes
  offline at paper end, so DLE EOT 1 → 0x1A (offline bit 0x08) and DLE EOT 2 → 0x32 (0x20: stopped by paper end).
- "paper_low": DLE EOT 4 → 0x1E (near end 0x0C only); the printer stays online.
- "offline": DLE EOT 1 → 0x1A (offline bit 0x08), DLE EOT 2 → 0x16 (0x04: cover open); paper fine.
Modes "hang" and "close_mid_job" apply to connections accepted while they are set; status answers always
follow the current mode.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from PIL import Image

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A
EOT = 0x04
ONE_PARAMETER = {(ESC, ord("d")), (ESC, ord("J")), (ESC, ord("a")), (ESC, ord("t")), (ESC, ord("E")), (GS, ord("!"))}
CUT_WITHOUT_N = {0: "full", 48: "full", 1: "partial", 49: "partial"}
CUT_WITH_N = {65: "full", 97: "full", 103: "full", 66: "partial", 98: "partial", 104: "partial"}
INVERT = bytes(255 - i for i in range(256))
RASTER_HEADER = 8  # GS v 0 m xL xH yL yH

FINE = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
STATUS_ANSWERS: dict[str, dict[int, int]] = {
    "ok": FINE,
    "refuse": FINE,
    "hang": FINE,
    "close_mid_job": FINE,
    "paper_out": {**FINE, 1: 0x1A, 2: 0x32, 4: 0x72},
    "paper_low": {**FINE, 4: 0x1E},
    "offline": {**FINE, 1: 0x1A, 2: 0x16},
}
MODES = tuple(STATUS_ANSWERS)


@dataclass
class FakeJob:
    image: Image.Image | None  # mode "1", all raster fragments of the job stacked; None if it had no raster
    cut: str  # "full" or "partial"
    raw: bytes  # the job's command bytes (real-time status queries left out)
    inits: int
    statuses_asked: list[int]
    received_at: float  # time.perf_counter() when the cut arrived


@dataclass(frozen=True)
class ProtocolError:
    offset: int  # in the connection's byte stream
    byte: int
    message: str


class EscposParser:
    """Incremental parser of an ESC/POS byte stream; commands may be split across `feed` calls."""

    def __init__(self, on_job=None, on_error=None):
        self.jobs: list[FakeJob] = []
        self.errors: list[ProtocolError] = []
        self.statuses_asked: list[int] = []
        self.raster_started = False
        self._asked: list[int] = []
        self._on_job, self._on_error = on_job, on_error
        self._buffer = bytearray()
        self._offset = 0  # stream offset of _buffer[0]
        self._new_job()

    def feed(self, data: bytes) -> list[int]:
        """Parse what is complete; returns the `n` of each DLE EOT n received, to be answered in order."""
        self._buffer += data
        self._asked = []
        pos = 0
        while pos < len(self._buffer):
            used = self._step(pos)
            if used == 0:
                break
            pos += used
        del self._buffer[:pos]
        self._offset += pos
        return self._asked

    @property
    def pending(self) -> bytes:
        """Bytes of an incomplete command at the end of the stream."""
        return bytes(self._buffer)

    def _new_job(self) -> None:
        self._fragments: list[Image.Image] = []
        self._raw = bytearray()
        self._inits = 0
        self._job_statuses: list[int] = []

    def _step(self, pos: int) -> int:
        buf, first = self._buffer, self._buffer[pos]
        if first == LF:
            return self._keep(pos, 1)
        if first not in (ESC, GS, DLE):
            return self._error(pos, "unknown byte")
        if pos + 1 >= len(buf):
            return 0
        pair = (first, buf[pos + 1])
        if pair == (ESC, ord("@")):
            self._inits += 1
            return self._keep(pos, 2)
        if pair in ONE_PARAMETER:
            return 0 if pos + 2 >= len(buf) else self._keep(pos, 3)
        if pair == (DLE, EOT):
            return self._status(pos)
        if pair == (GS, ord("v")):
            return self._raster(pos)
        if pair == (GS, ord("V")):
            return self._cut(pos)
        return self._error(pos, f"unknown command {first:#04x} {buf[pos + 1]:#04x}")

    def _keep(self, pos: int, length: int) -> int:
        self._raw += self._buffer[pos:pos + length]
        return length

    def _error(self, pos: int, message: str) -> int:
        error = ProtocolError(self._offset + pos, self._buffer[pos], message)
        self.errors.append(error)
        if self._on_error:
            self._on_error(error)
        return 1

    def _status(self, pos: int) -> int:
        if pos + 2 >= len(self._buffer):
            return 0
        n = self._buffer[pos + 2]
        if n not in FINE:
            self._error(pos, f"DLE EOT with unsupported n={n}")
            return 3
        self._asked.append(n)
        self._job_statuses.append(n)
        self.statuses_asked.append(n)
        return 3

    def _raster(self, pos: int) -> int:
        buf = self._buffer
        if pos + 2 < len(buf) and buf[pos + 2] != ord("0"):
            return self._error(pos, "GS v not followed by 0")
        self.raster_started = True
        if pos + RASTER_HEADER > len(buf):
            return 0
        _, width_bytes, height = struct.unpack_from("<BHH", buf, pos + 3)
        end = pos + RASTER_HEADER + width_bytes * height
        if end > len(buf):
            return 0
        dots = bytes(buf[pos + RASTER_HEADER:end]).translate(INVERT)  # a set bit is black; in mode "1", 0 is black
        self._fragments.append(Image.frombytes("1", (width_bytes * 8, height), dots))
        return self._keep(pos, end - pos)

    def _cut(self, pos: int) -> int:
        buf = self._buffer
        if pos + 2 >= len(buf):
            return 0
        m = buf[pos + 2]
        if m in CUT_WITHOUT_N:
            length, kind = 3, CUT_WITHOUT_N[m]
        elif m in CUT_WITH_N:
            if pos + 3 >= len(buf):
                return 0
            length, kind = 4, CUT_WITH_N[m]
        else:
            return self._error(pos, f"GS V with unknown m={m}")
        self._keep(pos, length)
        self._finish_job(kind)
        return length

    def _finish_job(self, cut: str) -> None:
        job = FakeJob(_stack(self._fragments), cut, bytes(self._raw), self._inits, self._job_statuses,
                      time.perf_counter())
        self.jobs.append(job)
        self._new_job()
        if self._on_job:
            self._on_job(job)


def _stack(fragments: list[Image.Image]) -> Image.Image | None:
    """Raster fragments of one job, top to bottom, as one image."""
    if not fragments:
        return None
    image = Image.new("1", (max(f.width for f in fragments), sum(f.height for f in fragments)), 1)
    top = 0
    for fragment in fragments:
        image.paste(fragment, (0, top))
        top += fragment.height
    return image


def parse_stream(data: bytes) -> EscposParser:
    """Parse a whole byte stream (e.g. what a file printer received); read .jobs, .errors, .pending."""
    parser = EscposParser()
    parser.feed(data)
    return parser


@dataclass
class FakeConnection:
    peer: tuple
    mode: str
    raw: bytearray = field(default_factory=bytearray)
    parser: EscposParser | None = None
    closed: bool = False

    @property
    def jobs(self) -> list[FakeJob]:
        return self.parser.jobs if self.parser else []

    @property
    def errors(self) -> list[ProtocolError]:
        return self.parser.errors if self.parser else []


class FakePrinter:
    """The TCP server: `with FakePrinter() as printer:` connect to printer.address, then wait_for_jobs(n)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, mode: str = "ok",
                 answers: dict[str, dict[int, int]] | None = None):
        self.host, self.port = host, port
        self.answers = {name: {**table, **(answers or {}).get(name, {})} for name, table in STATUS_ANSWERS.items()}
        self._mode = _checked(mode)
        self._changed = threading.Condition()
        self._stopped = threading.Event()
        self.jobs: list[FakeJob] = []
        self.errors: list[ProtocolError] = []
        self.connections: list[FakeConnection] = []
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    def start(self) -> FakePrinter:
        self._listen()  # even in "refuse", to learn a port that "ok" will listen on later
        if self._mode == "refuse":
            self._close_listener()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._close_listener()
        with self._changed:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            _shutdown(sock)
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> FakePrinter:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        old, self._mode = self._mode, _checked(value)
        if value == "refuse" and old != "refuse":
            self._close_listener()
        elif old == "refuse" and value != "refuse":
            self._listen()

    @property
    def raw(self) -> bytes:
        """Every byte received, over all connections, in the order the connections were accepted."""
        with self._changed:
            return b"".join(bytes(c.raw) for c in self.connections)

    def answer(self, n: int) -> int:
        return self.answers[self._mode][n]

    def wait_for_jobs(self, n: int, timeout: float = 5.0) -> list[FakeJob]:
        """Block until n jobs are complete; TimeoutError (naming any protocol errors) if they aren't in time."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.jobs) >= n, timeout):
                raise TimeoutError(f"{len(self.jobs)} of {n} jobs within {timeout}s; errors: {self.errors[:5]}")
            return list(self.jobs)

    def wait_for_connections(self, n: int, timeout: float = 5.0) -> list[FakeConnection]:
        """Block until n connections have been accepted."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.connections) >= n, timeout):
                raise TimeoutError(f"{len(self.connections)} of {n} connections within {timeout}s")
            return list(self.connections)

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # rebind the same port despite TIME_WAIT
        listener.bind((self.host, self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept_loop, listener)

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _shutdown(listener)  # wakes the blocked accept() on Linux; close() alone would not
            listener.close()

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="fake-printer")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, peer = listener.accept()
            except OSError:
                return
            conn = FakeConnection(peer, self._mode)
            with self._changed:
                self.connections.append(conn)
                self._sockets.add(sock)
                self._changed.notify_all()
            self._spawn(self._serve, sock, conn)

    def _serve(self, sock: socket.socket, conn: FakeConnection) -> None:
        try:
            if conn.mode == "hang":
                self._stopped.wait()
            else:
                self._read(sock, conn)
        except OSError:
            pass
        finally:
            with self._changed:
                conn.closed = True
                self._sockets.discard(sock)
                self._changed.notify_all()
            sock.close()

    def _read(self, sock: socket.socket, conn: FakeConnection) -> None:
        conn.parser = EscposParser(on_job=self._record_job, on_error=self._record_error)
        while chunk := sock.recv(65536):
            raster_at = chunk.find(b"\x1dv0") if conn.mode == "close_mid_job" else -1
            if raster_at >= 0:
                chunk = chunk[:raster_at + 3]
            conn.raw += chunk
            asked = conn.parser.feed(chunk)
            if asked:
                sock.sendall(bytes(self.answer(n) for n in asked))
            if raster_at >= 0:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close → RST
                return

    def _record_job(self, job: FakeJob) -> None:
        with self._changed:
            self.jobs.append(job)
            self._changed.notify_all()

    def _record_error(self, error: ProtocolError) -> None:
        with self._changed:
            self.errors.append(error)
            self._changed.notify_all()


def _checked(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown fake printer mode {mode!r}; one of {', '.join(MODES)}")
    return mode


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already disconnected
        sock.shutdown(socket.SHUT_RDWR)
