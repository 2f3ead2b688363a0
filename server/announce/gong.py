"""The gong before each call: a two-tone chime of decaying sine partials, generated once with sox."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .speech import require_tool, run_tool

RATE = 22050  # as espeak-ng's output, so one <audio> element plays both alike
# (start in seconds, fundamental in Hz): a falling major third, E5 then C5, like a railway station chime
TONES = ((0.0, 659.25), (0.6, 523.25))
PARTIALS = "1v0.5,2v0.2,3v0.08"  # the fundamental, the octave and the twelfth, ever quieter
LENGTH = 2.4  # seconds; the chime has faded to -40 dB by then
RECIPE = f"gong-v2:{LENGTH}:{RATE}:{TONES}:{PARTIALS}"  # part of the cache key: change it when the sound changes


def _tone(sox: str, start: float, freq: float, out: Path) -> list[str]:
    # three partials on three channels, mixed down to one; a logarithmic fade over 4 s, cut at 2 s
    partials = [f"{freq * k:.2f}" for k in (1, 2, 3)]
    return [sox, "-n", "-r", str(RATE), "-b", "16", str(out), "synth", "4",
            "sine", partials[0], "sine", partials[1], "sine", partials[2],
            "remix", PARTIALS, "fade", "l", "0.005", "4", "4", "trim", "0", "2.0", "pad", str(start), "0"]


def make_gong(timeout: float = 20) -> bytes:
    """Render the gong to WAV bytes (LENGTH seconds, mono, 16 bit, peak -3 dBFS)."""
    sox = require_tool("sox", "sox")
    with tempfile.TemporaryDirectory(prefix="cq-gong-") as tmp:
        parts = [Path(tmp) / f"tone{i}.wav" for i in range(len(TONES))]
        for (start, freq), part in zip(TONES, parts, strict=True):
            run_tool(_tone(sox, start, freq, part), "sox", timeout)
        out = Path(tmp) / "gong.wav"
        run_tool([sox, "-m", *map(str, parts), str(out), "gain", "-n", "-3", "fade", "t", "0", str(LENGTH), "0.4"],
                 "sox", timeout)
        return out.read_bytes()
