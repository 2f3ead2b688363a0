"""Optional sampling of the server with py-spy (`--profile DIR`), and a summary of where its CPU time goes.

py-spy is not a project requirement; install it into the venv yourself (`.venv/bin/pip install py-spy`).
Only on-CPU samples are kept (py-spy's default), so the shares are shares of the server's CPU time.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .server_proc import ROOT

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]*)(?::(?P<line>\d+))?\)$")


def py_spy() -> str:
    """The py-spy executable next to this Python, or on PATH; SystemExit with advice when missing."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        sys.exit("--profile needs py-spy: .venv/bin/pip install py-spy (not a project requirement)")
    return found


@contextlib.contextmanager
def sampled(pid: int, out: Path | None, rate: int = 200) -> Iterator[None]:
    """Record the process's stacks (collapsed format) to `out` while the block runs; nothing when out is None."""
    if out is None:
        yield
        return
    cmd = [py_spy(), "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking", "--full-filenames",
           "--format", "raw", "-o", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _stacks(path: Path) -> Iterator[tuple[list[str], int]]:
    """(frames root first, sample count) per line of a collapsed-stack file."""
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def _short(file: str) -> str:
    """A full file name made short: relative to the repository or to site-packages; stdlib as 'stdlib/x.py'."""
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1]
    if file.startswith(str(ROOT) + "/"):
        return file[len(str(ROOT)) + 1:]
    return "stdlib/" + file.rsplit("/", 1)[-1] if "/lib/python" in file else file


def _where(frame: str) -> tuple[str, str]:
    """(function, short file) of a py-spy frame such as 'call_next (/repo/server/services/calling.py:22)'."""
    match = FRAME.match(frame)
    return (match["func"], _short(match["file"])) if match else (frame, "")


def _package(frame: str) -> str:
    """The top-level package (or stdlib module) a frame's file belongs to, e.g. 'sqlalchemy' or 'server'."""
    return _where(frame)[1].split("/")[0] or "?"


def _function(frame: str) -> str:
    """A frame without its line number, so all lines of one function add up."""
    func, file = _where(frame)
    return f"{func} ({file})"


def summarize(path: Path, top: int = 15) -> str:
    """CPU share by library and by function of the innermost frame, and the server functions with the largest
    inclusive share (their callees included)."""
    by_package, by_function, inclusive, total = Counter(), Counter(), Counter(), 0
    for frames, count in _stacks(path):
        total += count
        by_package[_package(frames[-1])] += count
        by_function[_function(frames[-1])] += count
        for name in {_function(f) for f in frames if _package(f) == "server"}:
            inclusive[name] += count
    if not total:
        return f"{path.name}: no samples"
    lines = [f"{path.name}: {total} samples", "  self time by library:"]
    lines += [f"    {n / total:6.1%}  {pkg}" for pkg, n in by_package.most_common(10)]
    lines.append("  self time by function:")
    lines += [f"    {n / total:6.1%}  {name}" for name, n in by_function.most_common(top)]
    lines.append("  server functions, inclusive:")
    lines += [f"    {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)
