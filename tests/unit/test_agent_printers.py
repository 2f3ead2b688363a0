"""The kiosk agent without a server: printer specs, backends, status bits, error codes, and results kept for later."""

import errno
import queue
from array import array

import pytest
import socketio
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy
from PIL import Image

from kiosk.agent import Agent
from kiosk.agent.backends import FileBackend, UsbBackend
from kiosk.agent.outbox import ResultOutbox
from kiosk.agent.printers import (
    PrinterSpec,
    PrinterStatus,
    PrintFailure,
    SpecError,
    check_profile,
    failure_from,
    parse_spec,
    spec_from_config,
    status_from_answers,
)
from kiosk.agent.worker import PrintWorker
from tests.support.fake_printer import parse_stream

OK = {"ok": True}


def escpos_job(height: int = 24) -> bytes:
    printer = Dummy(profile="TM-T20II")
    printer.hw("INIT")
    printer.image(Image.new("1", (384, height), 0), impl="bitImageRaster")
    printer.cut()
    return printer.output


def job(job_id: int, data: bytes, ticket: str = "A001") -> dict:
    import base64

    return {"job": job_id, "ticket": ticket, "data": base64.b64encode(data).decode()}


class FakeLink:
    """The agent's side of a Socket.IO connection, switched on and off by the test; records what is emitted."""

    def __init__(self, connected: bool = False):
        self.connected = connected
        self.sent: list[tuple[str, dict, object]] = []

    def emit(self, event, data, callback=None):
        if not self.connected:
            raise socketio.exceptions.BadNamespaceError("/kiosk is not a connected namespace.")
        self.sent.append((event, data, callback))

    def events(self, name: str) -> list[dict]:
        return [data for event, data, _ in self.sent if event == name]

    def ack(self, index: int = -1, answer=OK) -> None:
        """Answer the index-th print_result sent, as the server's handler would."""
        [callback for event, _, callback in self.sent if event == "print_result"][index](answer)


class RecordingBackend:
    """A printer that keeps what it is sent; `fail_with` makes the next writes fail."""

    def __init__(self):
        self.written: list[bytes] = []
        self.fail_with: PrintFailure | None = None
        self.state = PrinterStatus("ok")

    def status(self):
        return self.state

    def write(self, data):
        if self.fail_with:
            raise self.fail_with
        self.written.append(data)

    def close(self):
        pass


# --- printer specs and profiles


@pytest.mark.parametrize(("text", "expected"), [
    ("usb:04b8:0e15", PrinterSpec("usb", vendor=0x04B8, product=0x0E15)),
    ("usb:0x0416:0x5011:81:03", PrinterSpec("usb", vendor=0x0416, product=0x5011, in_ep=0x81, out_ep=0x03)),
    ("file:/dev/usb/lp0", PrinterSpec("file", path="/dev/usb/lp0")),
    ("file:relative/out.bin", PrinterSpec("file", path="relative/out.bin")),
])
def test_printer_specs_parse(text, expected):
    assert parse_spec(text) == expected


@pytest.mark.parametrize(("text", "complaint"), [
    ("usb:04b8", "use usb:VID:PID"),
    ("usb:04b8:zz", "'zz' is not a hex number"),
    ("usb:04b8:10000", "out of range"),
    ("file:", "use usb:VID:PID"),
    ("lp0", "use usb:VID:PID"),
    ("network:10.0.0.5:9100", "use usb:VID:PID"),
])
def test_bad_printer_specs_say_what_would_work(text, complaint):
    with pytest.raises(SpecError, match=complaint):
        parse_spec(text)


def test_the_server_config_names_a_usb_or_file_printer():
    usb = {"backend": "usb", "vendor": 0x04B8, "product": 0x0202, "profile": "TM-T88V", "paper": 80, "path": None}
    assert spec_from_config(usb) == PrinterSpec("usb", vendor=0x04B8, product=0x0202, profile="TM-T88V")
    assert spec_from_config(usb, profile="TM-T20II").profile == "TM-T20II"
    assert spec_from_config({"backend": "file", "path": "/dev/usb/lp1"}).path == "/dev/usb/lp1"
    assert spec_from_config({"backend": "usb", "path": "/dev/usb/lp0", "vendor": None}).backend == "file"
    assert spec_from_config({**usb, "status": False}).ask_status is False
    assert spec_from_config({"backend": "usb", "vendor": None, "product": None}) is None
    assert spec_from_config(None) is None


def test_profiles_come_from_python_escpos_with_suggestions_for_typos():
    assert check_profile("TM-T20II") == "TM-T20II"
    with pytest.raises(SpecError, match="did you mean TM-T20II"):
        check_profile("TM-T20")


# --- status bits and error codes


@pytest.mark.parametrize(("printer_byte", "paper_byte", "status"), [
    (0x12, 0x12, "ok"),
    (0x1A, 0x72, "paper_out"),  # paper end also makes an Epson go offline; paper out is the useful news
    (0x12, 0x72, "paper_out"),
    (0x1A, 0x12, "offline"),
    (0x12, 0x1E, "paper_low"),
    (None, 0x1E, "paper_low"),
    (0x00, 0xFF, "ok"),  # not Epson status bytes at all: ignored
])
def test_status_bytes_map_to_printer_states(printer_byte, paper_byte, status):
    assert status_from_answers(printer_byte, paper_byte).status == status


def test_a_printer_that_does_not_answer_is_ok_but_says_so():
    assert status_from_answers(None, None) == PrinterStatus("ok", "the printer does not answer status queries")


def test_errors_map_to_contract_codes():
    from usb.core import NoBackendError, USBTimeoutError

    assert failure_from(OSError(errno.ENOSPC, "No space left on device")).code == "paper_out"
    assert failure_from(OSError(errno.ETIMEDOUT, "Connection timed out")).code == "timeout"
    gone = failure_from(OSError(errno.ENODEV, "No such device", "/dev/usb/lp0"))
    assert (gone.code, gone.message) == ("device_error", "No such device: /dev/usb/lp0")
    assert failure_from(USBTimeoutError("Operation timed out")).code == "timeout"
    assert "libusb" in failure_from(NoBackendError("No backend available")).message
    assert failure_from(RuntimeError("odd\n  thing")).payload() == {"code": "device_error", "message": "odd thing"}


def test_the_os_error_inside_a_python_escpos_error_is_found():
    try:
        try:
            with open("/nonexistent-dir/lp0", "wb"):
                pass
        except OSError as exc:
            raise DeviceNotFoundError(f"Could not open the specified file:\n{exc}") from exc
    except DeviceNotFoundError as wrapped:
        failure = failure_from(wrapped)
    assert (failure.code, failure.message) == ("device_error", "No such file or directory: /nonexistent-dir/lp0")


# --- backends


def test_the_file_backend_writes_exactly_the_job_bytes(tmp_path):
    path, data = tmp_path / "lp0", escpos_job()
    FileBackend(PrinterSpec("file", path=str(path), profile="TM-T20II")).write(data)
    assert path.read_bytes() == data
    parsed = parse_stream(path.read_bytes())
    assert len(parsed.jobs) == 1 and parsed.errors == []


def test_the_file_backend_status_checks_writability_without_truncating(tmp_path):
    path = tmp_path / "lp0"
    path.write_bytes(b"printed earlier")
    assert FileBackend(PrinterSpec("file", path=str(path))).status() == PrinterStatus("ok")
    assert path.read_bytes() == b"printed earlier"
    missing = FileBackend(PrinterSpec("file", path=str(tmp_path / "no" / "lp0"))).status()
    assert missing.status == "error" and "No such file or directory" in missing.detail


def test_a_missing_device_file_is_an_error_and_is_not_created():
    backend = FileBackend(PrinterSpec("file", path="/dev/usb/lp-civicqueue-test"))
    assert backend.status().status == "error"
    with pytest.raises(PrintFailure, match="no such device /dev/usb/lp-civicqueue-test"):
        backend.write(b"\x1b@")


def test_a_file_backend_that_cannot_open_reports_the_os_message(tmp_path):
    with pytest.raises(PrintFailure) as failed:
        FileBackend(PrinterSpec("file", path=str(tmp_path / "no" / "lp0"))).write(b"\x1b@")
    assert failed.value.code == "device_error" and "No such file or directory" in failed.value.message


class FakeEscposUsb:
    """Stands in for python-escpos' Usb printer: answers DLE EOT n from a table (missing: USB timeout)."""

    def __init__(self, answers: dict[int, int]):
        self.answers, self.queries, self.written, self.fail_with = answers, [], [], None

    def query_status(self, query: bytes):
        from usb.core import USBTimeoutError

        self.queries.append(query[2])
        if query[2] not in self.answers:
            raise USBTimeoutError("Operation timed out")
        return array("B", [self.answers[query[2]]])

    def _raw(self, data: bytes) -> None:
        if self.fail_with:
            raise self.fail_with
        self.written.append(data)

    def close(self) -> None:
        pass


def usb_backend(*printers: FakeEscposUsb) -> tuple[UsbBackend, list[FakeEscposUsb]]:
    """A USB backend whose every (re)open gets the next of the given printers."""
    waiting, opened = list(printers), []

    def opener(spec):
        opened.append(waiting.pop(0))
        return opened[-1]

    return UsbBackend(PrinterSpec("usb", vendor=0x04B8, product=0x0E15), opener=opener), opened


@pytest.mark.parametrize(("answers", "code", "status"), [
    ({1: 0x1A, 4: 0x72}, "paper_out", "paper_out"),
    ({1: 0x1A, 4: 0x12}, "printer_offline", "offline"),
])
def test_a_usb_printer_asked_before_printing_refuses_the_job(answers, code, status):
    backend, _ = usb_backend(printer := FakeEscposUsb(answers))
    with pytest.raises(PrintFailure) as failed:
        backend.write(b"\x1b@")
    assert failed.value.code == code and printer.written == []
    assert backend.status().status == status


def test_a_usb_printer_prints_after_a_fine_status_and_stays_open():
    backend, opened = usb_backend(FakeEscposUsb({1: 0x12, 4: 0x12}))
    backend.write(b"one")
    backend.write(b"two")
    assert len(opened) == 1 and opened[0].written == [b"one", b"two"] and opened[0].queries == [1, 4, 1, 4]


def test_a_usb_printer_that_never_answers_status_prints_without_waiting_for_answers():
    backend, opened = usb_backend(FakeEscposUsb({}))
    assert backend.status() == PrinterStatus("ok", "the printer does not answer status queries")
    backend.write(b"job")
    assert opened[0].written == [b"job"] and opened[0].queries == [1, 4]  # the write asked nothing


def test_a_usb_error_while_printing_fails_the_job_and_the_next_job_reopens_the_device():
    from usb.core import USBError

    gone = FakeEscposUsb({1: 0x12, 4: 0x12})
    gone.fail_with = USBError("No such device (it may have been disconnected)", errno=errno.ENODEV)
    backend, opened = usb_backend(gone, FakeEscposUsb({1: 0x12, 4: 0x12}))
    with pytest.raises(PrintFailure) as failed:
        backend.write(b"job")
    assert failed.value.code == "device_error" and "No such device" in failed.value.message
    backend.write(b"job")
    assert len(opened) == 2 and opened[1].written == [b"job"]


def test_a_usb_printer_that_is_not_there_is_a_device_error():
    backend = UsbBackend(PrinterSpec("usb", vendor=0xFFFE, product=0xFFFE))
    assert backend.status().status == "error"
    with pytest.raises(PrintFailure) as failed:
        backend.write(b"\x1b@")
    assert failed.value.code == "device_error"


# --- the printer thread


def run_worker(backend, spec=PrinterSpec("file", path="unused")):
    results, statuses = queue.Queue(), []
    worker = PrintWorker(results.put, statuses.append, status_interval=60, backend_for=lambda _: backend)
    worker.start()
    if spec:
        worker.configure(spec)
    return worker, results, statuses


def test_jobs_print_one_at_a_time_in_order():
    backend = RecordingBackend()
    worker, results, statuses = run_worker(backend)
    for n in (1, 2, 3):
        worker.submit(job(n, bytes([n]) * 10))
    got = [results.get(timeout=5) for _ in range(3)]
    worker.stop()
    assert [r["job"] for r in got] == [1, 2, 3] and all(r["ok"] for r in got)
    assert backend.written == [b"\x01" * 10, b"\x02" * 10, b"\x03" * 10]
    assert statuses[-1] == PrinterStatus("ok")


def test_a_failed_job_reports_its_code_and_the_next_one_still_prints():
    backend = RecordingBackend()
    backend.fail_with = PrintFailure("paper_out", "no paper")
    worker, results, _ = run_worker(backend)
    worker.submit(job(7, b"\x1b@"))
    assert results.get(timeout=5) == {"job": 7, "ok": False, "error": {"code": "paper_out", "message": "no paper"}}
    backend.fail_with = None
    worker.submit(job(8, b"\x1b@"))
    assert results.get(timeout=5)["ok"] is True
    worker.stop()


def test_bad_job_data_and_a_missing_printer_fail_the_job():
    worker, results, statuses = run_worker(RecordingBackend(), spec=None)
    worker.submit(job(1, b"\x1b@"))
    assert results.get(timeout=5)["error"]["message"].startswith("no printer configured")
    worker.configure(PrinterSpec("file", path="unused"))
    worker.submit({"job": 2, "ticket": "A002", "data": "not base64!"})
    assert results.get(timeout=5)["error"]["code"] == "device_error"
    worker.stop()
    assert statuses[0].status == "error" and statuses[-1].status == "ok"


# --- results kept while disconnected


def test_results_wait_for_a_connection_and_go_out_in_order_one_ack_at_a_time():
    link = FakeLink()
    outbox = ResultOutbox(link)
    outbox.add({"job": 1, "ok": True, "error": None})
    outbox.add({"job": 2, "ok": False, "error": {"code": "paper_out", "message": "no paper"}})
    assert link.sent == [] and len(outbox.pending) == 2
    link.connected = True
    outbox.flush()
    assert [r["job"] for r in link.events("print_result")] == [1]  # the second waits for the first's ack
    link.ack()
    assert [r["job"] for r in link.events("print_result")] == [1, 2]
    link.ack()
    assert outbox.pending == []


def test_a_result_whose_ack_was_lost_is_sent_again_after_reconnecting():
    link = FakeLink(connected=True)
    outbox = ResultOutbox(link)
    outbox.add({"job": 5, "ok": True, "error": None})
    link.connected = False
    outbox.connection_lost()
    link.connected = True
    outbox.flush()
    assert [r["job"] for r in link.events("print_result")] == [5, 5]
    link.ack(0)  # the late ack of the first send changes nothing
    assert len(outbox.pending) == 1
    link.ack(1)
    assert outbox.pending == []


def test_a_result_without_ack_is_resent_after_the_ack_timeout():
    now = [100.0]
    link = FakeLink(connected=True)
    outbox = ResultOutbox(link, ack_timeout=15, clock=lambda: now[0])
    outbox.add({"job": 9, "ok": True, "error": None})
    now[0] += 10
    outbox.tick()
    assert len(link.sent) == 1
    now[0] += 10
    outbox.tick()
    assert len(link.sent) == 2


def test_a_result_the_server_rejects_is_dropped_so_later_ones_go_out():
    link = FakeLink(connected=True)
    outbox = ResultOutbox(link)
    outbox.add({"job": 404, "ok": True, "error": None})
    outbox.add({"job": 10, "ok": True, "error": None})
    link.ack(answer={"ok": False, "error": "unknown job"})
    assert [r["job"] for r in link.events("print_result")] == [404, 10]
    assert [r["job"] for r in outbox.pending] == [10]


def test_the_agent_keeps_results_printed_while_offline_and_reports_after_connecting(tmp_path):
    path = tmp_path / "lp0"
    agent = Agent("http://127.0.0.1:9", "token", printer=PrinterSpec("file", path=str(path)), status_interval=60)
    link = FakeLink()
    agent.link = agent.outbox.transport = link  # the Socket.IO client stays unused: no server here
    agent.worker.start()
    agent.worker.configure(agent.printer_override)
    try:
        agent._on_print_job(job(21, escpos_job(), ticket="B007"))
        agent._on_print_job(job(22, escpos_job(8), ticket="B008"))
        _wait_for(lambda: len(agent.outbox.pending) == 2)
        assert link.sent == []
        link.connected = True
        agent._on_connect()
        _wait_for(lambda: link.events("printer_status"))
        assert link.events("printer_status") == [{"status": "ok", "detail": None}]
        assert [r["job"] for r in link.events("print_result")] == [21]
        link.ack()
        link.ack()
        assert [r["job"] for r in link.events("print_result")] == [21, 22] and agent.outbox.pending == []
        assert len(parse_stream(path.read_bytes()).jobs) == 1  # a device file holds the last job
    finally:
        agent.worker.stop()


def test_the_agent_reports_a_status_change_once(tmp_path):
    agent = Agent("http://127.0.0.1:9", "token", status_interval=60)
    link = FakeLink(connected=True)
    agent.link = agent.outbox.transport = link
    agent._status_checked(PrinterStatus("ok"))
    agent._status_checked(PrinterStatus("ok"))
    agent._status_checked(PrinterStatus("paper_out", "no paper"))
    assert [s["status"] for s in link.events("printer_status")] == ["ok", "paper_out"]


def test_a_refusal_names_the_server_reason():
    agent = Agent("http://127.0.0.1:9", "token")
    agent._on_connect_error("Connection refused")  # a network failure: keep trying
    assert agent._refusal is None
    agent._on_connect_error({"message": "refused", "data": {"code": "unauthorized", "message": "not a kiosk"}})
    assert agent._refusal == "unauthorized: not a kiosk"


def _wait_for(condition, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# --- options and environment


def settings(argv: list[str], env: dict | None = None):
    from kiosk.agent.cli import build_parser, settings_from

    return settings_from(build_parser().parse_args(argv), env or {})


def test_options_come_from_the_environment_and_the_command_line_wins(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("secret-token\n")
    token_file.chmod(0o600)
    env = {"QMS_AGENT_SERVER": "https://queue.example.org/", "QMS_AGENT_TOKEN_FILE": str(token_file),
           "QMS_AGENT_PRINTER": "usb:04b8:0e15", "QMS_AGENT_PROFILE": "TM-T88V", "QMS_AGENT_STATUS_INTERVAL": "10"}
    got = settings([], env)
    assert (got.server, got.token, got.status_interval) == ("https://queue.example.org", "secret-token", 10.0)
    assert got.printer == PrinterSpec("usb", vendor=0x04B8, product=0x0E15, profile="TM-T88V")
    assert settings(["--printer", "file:/dev/usb/lp0", "--profile", "TM-T20II"], env).printer == PrinterSpec(
        "file", path="/dev/usb/lp0", profile="TM-T20II")


@pytest.mark.parametrize(("argv", "complaint"), [
    (["--token", "t"], "no server"),
    (["--server", "queue.example.org", "--token", "t"], "bad server URL"),
    (["--server", "http://q"], "no token: pass --token-file PATH or set QMS_AGENT_TOKEN; create one with"),
    (["--server", "http://q", "--token", "t", "--token-file", "/etc/hostname"], "keep one"),
    (["--server", "http://q", "--token-file", "/nonexistent/token"], "cannot read the token file"),
    (["--server", "http://q", "--token", "t", "--printer", "usb:1"], "bad printer spec"),
    (["--server", "http://q", "--token", "t", "--profile", "TM-T88"], "unknown printer profile 'TM-T88'"),
    (["--server", "http://q", "--token", "t", "--status-interval", "soon"], "bad status interval"),
    (["--server", "http://q", "--token", "t", "--status-interval", "0"], "out of range"),
])
def test_options_that_cannot_work_say_what_to_do(argv, complaint):
    from kiosk.agent.cli import UsageError

    with pytest.raises(UsageError, match=complaint):
        settings(argv)


def test_a_bad_verbosity_in_the_environment_is_refused():
    from kiosk.agent.cli import UsageError

    with pytest.raises(UsageError, match="use 0, 1 or 2"):
        settings(["--server", "http://q", "--token", "t"], {"QMS_AGENT_VERBOSE": "yes"})


def test_an_empty_token_file_is_refused(tmp_path):
    from kiosk.agent.cli import UsageError

    (tmp_path / "token").write_text("\n")
    with pytest.raises(UsageError, match="is empty"):
        settings(["--server", "http://q", "--token-file", str(tmp_path / "token")])
