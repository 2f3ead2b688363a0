"""Spoken announcements: phrases per language, a disk cache that synthesizes each phrase once, clear errors
without espeak-ng, and real speech and gong that are valid, long enough and not silent."""

from __future__ import annotations

import io
import math
import os
import shutil
import struct
import subprocess
import threading
import wave

import pytest

from server.announce import Announcer, AudioCache, EspeakSpeaker, SpeechUnavailable, call_phrase, make_gong
from server.announce.phrases import LANGUAGES
from server.config import ROOT

ARTIFACTS = ROOT / "tests" / "_artifacts" / "audio"


class CountingSpeaker:
    """A fake engine: a tiny valid WAV per sentence, and a count of how often it was asked."""

    engine = "fake"

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def voice(self, lang: str) -> str:
        return lang

    def wav(self, text: str, lang: str) -> bytes:
        with self._lock:
            self.calls.append((text, lang))
        return silent_wav(0.1)


def silent_wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))
    return out.getvalue()


def measure(data: bytes) -> tuple[float, float]:
    """(duration in seconds, RMS as a fraction of full scale) of 16-bit mono PCM WAV bytes."""
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        frames = w.readframes(w.getnframes())
        seconds = w.getnframes() / w.getframerate()
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    return seconds, rms


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{tool} is missing (CI=true: install it with apt-get install {tool})")
        pytest.skip(f"{tool} is not installed")


@pytest.mark.parametrize(("lang", "expected"), [
    ("de", "Nummer A 42, bitte zu Schalter 3"),
    ("en", "Number A 42, please go to counter 3"),
    ("tr", "Numara A 42, lütfen 3 numaralı gişeye gidin"),
    ("ar", "الرقم A 42، يرجى التوجه إلى الشباك رقم 3"),
    ("uk", "Номер А 42, будь ласка, підійдіть до віконця номер 3"),
    ("ru", "Номер А 42, пожалуйста, подойдите к окну номер 3"),
])
def test_a_call_is_phrased_in_each_language(lang, expected):
    assert call_phrase("A042", "Schalter 3", lang) == expected


def test_counter_kinds_are_translated_and_other_names_said_as_written():
    assert call_phrase("B007", "Platz 12", "en") == "Number B 7, please go to desk 12"
    assert call_phrase("C100", "Raum 4", "de") == "Nummer C 100, bitte zu Raum 4"
    assert call_phrase("A001", "Empfang", "en") == "Number A 1, please go to Empfang"
    assert call_phrase("A001", "Empfang", "tr") == "Numara A 1, lütfen şuraya gidin: Empfang"


def test_codes_are_spelled_letter_by_letter_and_without_leading_zeros():
    assert call_phrase("KFZ0005", "Schalter 1", "de") == "Nummer K F Z 5, bitte zu Schalter 1"
    assert call_phrase("042", "Schalter 1", "de") == "Nummer 42, bitte zu Schalter 1"
    assert call_phrase("AB12", "Schalter 1", "ru").startswith("Номер А Бэ 12,")


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="no announcement phrases for language 'xx'"):
        call_phrase("A042", "Schalter 3", "xx")
    assert {"de", "en", "tr", "ar", "uk", "ru"} <= set(LANGUAGES)


def test_a_cached_phrase_is_not_synthesized_twice(tmp_path):
    speaker = CountingSpeaker()
    announcer = Announcer(speaker, AudioCache(tmp_path), gong=lambda: silent_wav(0.2))
    first = announcer.call_wav("A042", "Schalter 3", "de")
    assert announcer.call_wav("A042", "Schalter 3", "de") == first
    assert speaker.calls == [("Nummer A 42, bitte zu Schalter 3", "de")]
    announcer.call_wav("A042", "Schalter 3", "en")
    assert len(speaker.calls) == 2
    again = Announcer(speaker, AudioCache(tmp_path))  # a restarted server finds the files on disk
    assert again.call_wav("A042", "Schalter 3", "de") == first and len(speaker.calls) == 2


def test_concurrent_requests_for_one_phrase_synthesize_it_once_and_leave_no_partial_files(tmp_path):
    speaker = CountingSpeaker()
    announcer = Announcer(speaker, AudioCache(tmp_path))
    results = []
    threads = [threading.Thread(target=lambda: results.append(announcer.call_wav("B001", "Schalter 2", "de")))
               for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12 and len(set(results)) == 1
    assert len(speaker.calls) == 1
    assert [p.suffix for p in tmp_path.iterdir()] == [".wav"]


def test_two_processes_making_one_phrase_at_once_both_get_a_whole_file(tmp_path):
    """Two caches on one folder stand for two server processes: no shared lock, both synthesize at once."""
    both_inside = threading.Barrier(2)

    def slow_make():
        both_inside.wait(timeout=5)
        return silent_wav(0.5)

    caches = [AudioCache(tmp_path), AudioCache(tmp_path)]
    results = []
    threads = [threading.Thread(target=lambda c=c: results.append(c.get(("fake", "de", "Nummer A 1"), slow_make)))
               for c in caches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [silent_wav(0.5)] * 2
    (path,) = tmp_path.iterdir()
    assert path.read_bytes() == silent_wav(0.5)


def test_the_cache_keeps_only_the_most_recently_used_files(tmp_path):
    cache = AudioCache(tmp_path, max_files=3)
    for i in range(5):
        cache.get(("fake", "de", f"phrase {i}"), lambda: silent_wav(0.01))
        os.utime(tmp_path / f"{cache.key(('fake', 'de', f'phrase {i}'))}.wav", (1000 + i, 1000 + i))
    cache.prune()
    assert len(list(tmp_path.glob("*.wav"))) == 3
    assert not (tmp_path / f"{cache.key(('fake', 'de', 'phrase 0'))}.wav").exists()


def test_a_missing_espeak_ng_gives_a_clear_error():
    speaker = EspeakSpeaker(executable="espeak-ng-not-installed")
    with pytest.raises(SpeechUnavailable, match=r"'espeak-ng-not-installed' is not installed.*apt-get install"):
        speaker.wav("Nummer A 42", "de")


def test_a_language_without_a_voice_is_refused():
    with pytest.raises(ValueError, match="no espeak-ng voice for language 'xx'"):
        EspeakSpeaker().voice("xx")


def test_espeak_ng_speaks_the_german_call_audibly():
    need("espeak-ng")
    data = EspeakSpeaker().wav("Nummer A 42, bitte zu Schalter 3", "de")
    seconds, rms = measure(data)
    assert seconds > 1.0
    assert rms > 0.02, f"too quiet: RMS {rms:.4f}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "call-de.wav").write_bytes(data)
    if shutil.which("sox"):
        info = subprocess.run(["sox", "--i", "-D", str(ARTIFACTS / "call-de.wav")], capture_output=True, text=True)
        assert float(info.stdout) == pytest.approx(seconds, abs=0.01)


@pytest.mark.parametrize("lang", ["en", "tr", "ar", "uk", "ru"])
def test_espeak_ng_speaks_every_display_language(lang):
    need("espeak-ng")
    seconds, rms = measure(EspeakSpeaker().wav(call_phrase("A042", "Schalter 3", lang), lang))
    assert seconds > 1.0 and rms > 0.02


def test_the_gong_is_a_short_audible_chime():
    need("sox")
    data = make_gong()
    seconds, rms = measure(data)
    assert 1.5 < seconds < 4
    assert rms > 0.02
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "gong.wav").write_bytes(data)
