"""A disk cache of synthesized sound, one WAV file per phrase, safe for concurrent requests and processes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

PRUNE_EVERY = 50  # new files between two clean-ups
STALE_PART_SECONDS = 3600


class AudioCache:
    """Files are written to a temporary name and renamed into place, so no reader ever sees half a file."""

    def __init__(self, folder: Path, *, max_files: int = 2000):
        self.folder, self.max_files = Path(folder), max_files
        self._locks = [threading.Lock() for _ in range(32)]  # striped: one phrase is made once per process
        self._writes = 0

    @staticmethod
    def key(parts: tuple[str, ...]) -> str:
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def get(self, parts: tuple[str, ...], make: Callable[[], bytes]) -> bytes:
        """The cached bytes for `parts` (e.g. engine, voice, text), made by `make()` on the first request."""
        key = self.key(parts)
        path = self.folder / f"{key}.wav"
        data = self._read(path)
        if data is not None:
            return data
        with self._locks[int(key[:8], 16) % len(self._locks)]:
            data = self._read(path)  # made by another request while this one waited
            if data is None:
                data = make()
                self._write(path, data)
        return data

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used phrases survive pruning
        return data

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)  # atomic: readers see the old state or the whole new file
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._writes += 1
        if self._writes % PRUNE_EVERY == 0:
            self.prune()

    def prune(self) -> None:
        """Keep the `max_files` most recently used phrases, and drop leftovers of interrupted writes."""
        files = sorted(self.folder.glob("*.wav"), key=_mtime)
        old_parts = [p for p in self.folder.glob(".*.part") if time.time() - _mtime(p) > STALE_PART_SECONDS]
        for path in [*files[:max(0, len(files) - self.max_files)], *old_parts]:
            path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
