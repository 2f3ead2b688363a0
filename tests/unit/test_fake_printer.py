"""The fake ESC/POS network printer decodes what python-escpos sends, and each fault mode behaves as stated."""

import random
import socket

import pytest
from escpos.printer import Dummy
from PIL import Image

from tests.support.fake_printer import EscposParser, FakePrinter, parse_stream

STATUS_PRINTER, STATUS_PAPER = b"\x10\x04\x01", b"\x10\x04\x04"


def noise_image(width: int, height: int, seed: int = 4) -> Image.Image:
    """A 1-bit image whose every pixel matters (a blank or striped one would hide row and bit-order mistakes)."""
    return Image.frombytes("1", (width, height), random.Random(seed).randbytes(width // 8 * height))


def escpos_job(image: Image.Image, cut: str = "FULL") -> bytes:
    printer = Dummy(profile="TM-T20II")
    printer.hw("INIT")
    printer.image(image, impl="bitImageRaster")
    printer.cut(mode=cut)
    return printer.output


def connect(printer: FakePrinter, timeout: float = 2.0) -> socket.socket:
    return socket.create_connection(printer.address, timeout=timeout)


def ask(sock: socket.socket, *queries: bytes) -> bytes:
    sock.sendall(b"".join(queries))
    answer = b""
    while len(answer) < len(queries):
        answer += sock.recv(len(queries) - len(answer))
    return answer


def test_a_tall_image_comes_back_pixel_for_pixel_from_its_raster_fragments():
    source = noise_image(576, 1500)
    job = escpos_job(source)
    assert job.count(b"\x1dv0") == 2  # python-escpos split it at 960 rows
    with FakePrinter() as printer, connect(printer) as sock:
        assert ask(sock, STATUS_PRINTER, STATUS_PAPER) == b"\x12\x12"
        sock.sendall(job)
        assert ask(sock, STATUS_PAPER) == b"\x12"
        (printed,) = printer.wait_for_jobs(1)
    assert printed.image.size == source.size and printed.image.mode == "1"
    assert printed.image.tobytes() == source.tobytes()
    assert (printed.cut, printed.inits, printed.statuses_asked, printed.raw) == ("full", 1, [1, 4], job)
    assert printer.errors == []
    assert printer.connections[0].parser.statuses_asked == [1, 4, 4]


def test_commands_split_at_every_byte_still_parse():
    source = noise_image(384, 40, seed=9)
    parser = EscposParser()
    for byte in escpos_job(source, cut="PART"):
        parser.feed(bytes([byte]))
    (job,) = parser.jobs
    assert job.image.tobytes() == source.tobytes()
    assert job.cut == "partial"
    assert parser.errors == [] and parser.pending == b""


def test_formatting_commands_are_understood_and_end_with_the_cut():
    stream = b"\x1b@\x1ba\x01\x1bt\x00\x1d!\x11\x1bE\x01\x1bJ\x18\n\x1bd\x06\x1dVB\x00"
    parsed = parse_stream(stream)
    (job,) = parsed.jobs
    assert (job.image, job.cut, job.raw) == (None, "partial", stream)
    assert parsed.errors == []


def test_unknown_bytes_are_reported_as_protocol_errors():
    parsed = parse_stream(b"\x1b@Hi\x1bx\x1dV\x00")
    assert [(e.offset, e.byte) for e in parsed.errors] == [(2, ord("H")), (3, ord("i")), (4, 0x1B), (5, ord("x"))]
    assert len(parsed.jobs) == 1


def test_unknown_bytes_over_tcp_show_in_the_printer_errors():
    with FakePrinter() as printer, connect(printer) as sock:
        sock.sendall(b"\x1b@\x1b*\x00\x1dV\x00")
        printer.wait_for_jobs(1)
    assert [e.message for e in printer.errors][0].startswith("unknown command 0x1b 0x2a")


def test_wait_for_jobs_times_out_with_a_clear_error():
    with FakePrinter() as printer, pytest.raises(TimeoutError, match="0 of 1 jobs"):
        printer.wait_for_jobs(1, timeout=0.05)


def test_refuse_closes_the_port_and_ok_listens_again_on_the_same_port():
    with FakePrinter() as printer:
        port = printer.port
        printer.mode = "refuse"
        with pytest.raises(ConnectionRefusedError):
            connect(printer)
        printer.mode = "ok"
        assert printer.port == port
        with connect(printer) as sock:
            sock.sendall(escpos_job(noise_image(64, 8)))
            printer.wait_for_jobs(1)


def test_a_printer_created_refusing_gets_a_port_for_later():
    with FakePrinter(mode="refuse") as printer:
        with pytest.raises(ConnectionRefusedError):
            connect(printer)
        printer.mode = "ok"
        with connect(printer) as sock:
            assert ask(sock, STATUS_PAPER) == b"\x12"


def test_hang_accepts_but_never_answers_a_status_query():
    with FakePrinter(mode="hang") as printer, connect(printer, timeout=0.3) as sock:
        sock.sendall(STATUS_PRINTER)
        with pytest.raises(TimeoutError):
            sock.recv(1)
        assert len(printer.wait_for_connections(1)) == 1


def test_close_mid_job_answers_the_status_then_resets_once_the_raster_starts():
    with FakePrinter(mode="close_mid_job") as printer, connect(printer) as sock:
        assert ask(sock, STATUS_PRINTER, STATUS_PAPER) == b"\x12\x12"
        with pytest.raises(ConnectionResetError):
            sock.sendall(escpos_job(noise_image(576, 1200)))
            sock.recv(1)
    assert printer.jobs == [] and printer.connections[0].closed


@pytest.mark.parametrize(("mode", "printer_byte", "paper_byte"), [
    ("paper_out", 0x1A, 0x72),
    ("paper_low", 0x12, 0x1E),
    ("offline", 0x1A, 0x12),
])
def test_fault_modes_answer_with_the_epson_status_bits(mode, printer_byte, paper_byte):
    with FakePrinter(mode=mode) as printer, connect(printer) as sock:
        assert ask(sock, STATUS_PRINTER, STATUS_PAPER) == bytes([printer_byte, paper_byte])


def test_status_answers_follow_the_mode_on_an_open_connection():
    with FakePrinter() as printer, connect(printer) as sock:
        assert ask(sock, STATUS_PAPER) == b"\x12"
        printer.mode = "paper_out"
        assert ask(sock, STATUS_PAPER) == b"\x72"
        printer.mode = "ok"
        assert ask(sock, STATUS_PAPER) == b"\x12"


def test_status_answers_are_configurable_per_mode():
    with FakePrinter(answers={"ok": {4: 0x1E}}) as printer, connect(printer) as sock:
        assert ask(sock, STATUS_PRINTER, STATUS_PAPER) == b"\x12\x1e"


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown fake printer mode"):
        FakePrinter(mode="on_fire")
