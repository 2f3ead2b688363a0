"""Text to speech: a small interface and its offline implementation on espeak-ng."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol


class SpeechUnavailable(RuntimeError):
    """A sound tool (espeak-ng, sox) is missing or failed; the message says what to install or check."""


class Speaker(Protocol):
    """Anything that turns a sentence in a language into WAV bytes."""

    engine: str

    def voice(self, lang: str) -> str: ...

    def wav(self, text: str, lang: str) -> bytes: ...


# Language code -> espeak-ng voice.
VOICES = {"de": "de", "en": "en-gb", "tr": "tr", "ar": "ar", "uk": "uk", "ru": "ru", "pl": "pl", "fa": "fa"}
# Words espeak-ng gets wrong, respelled the way it says them right (a lone English "A" is read as the article).
RESPELL = {"en": ((re.compile(r"\bA\b"), "eh"),)}


def respell(text: str, lang: str) -> str:
    for pattern, spelling in RESPELL.get(lang, ()):
        text = pattern.sub(spelling, text)
    return text


def require_tool(name: str, package: str) -> str:
    """The full path of a command-line tool, or a SpeechUnavailable naming the package to install."""
    path = shutil.which(name)
    if path is None:
        raise SpeechUnavailable(f"'{name}' is not installed, so announcements cannot be spoken; "
                                f"install it with: apt-get install {package}")
    return path


class EspeakSpeaker:
    """espeak-ng in a subprocess, a little slower than its default so a waiting room can follow."""

    def __init__(self, executable: str = "espeak-ng", *, speed: int = 140, timeout: float = 20):
        self.executable, self.speed, self.timeout = executable, speed, timeout
        self.engine = f"espeak-ng:s{speed}:r1"  # r1: the RESPELL rules; bump when they change

    def voice(self, lang: str) -> str:
        try:
            return VOICES[lang]
        except KeyError:
            raise ValueError(f"no espeak-ng voice for language '{lang}'") from None

    def wav(self, text: str, lang: str) -> bytes:
        # -w, not --stdout: on a pipe espeak-ng cannot go back to fill in the WAV header's lengths
        executable = require_tool(self.executable, "espeak-ng")
        with tempfile.TemporaryDirectory(prefix="cq-speech-") as tmp:
            out = Path(tmp) / "speech.wav"
            command = [executable, "-v", self.voice(lang), "-s", str(self.speed), "-w", str(out), "--",
                       respell(text, lang)]
            run_tool(command, "espeak-ng", self.timeout)
            return out.read_bytes()


def run_tool(command: list[str], name: str, timeout: float) -> None:
    """Run a sound tool; any failure becomes a SpeechUnavailable with the tool's own words."""
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechUnavailable(f"{name} failed: {exc}") from exc
    if done.returncode != 0:
        problem = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        raise SpeechUnavailable(f"{name} failed: {problem}")
