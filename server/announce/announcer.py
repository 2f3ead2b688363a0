"""Announcements as WAV bytes: a call phrase in one language, and the gong; each made once, then cached."""

from __future__ import annotations

from collections.abc import Callable

from .cache import AudioCache
from .gong import RECIPE, make_gong
from .phrases import call_phrase
from .speech import Speaker


class Announcer:
    def __init__(self, speaker: Speaker, cache: AudioCache, *, gong: Callable[[], bytes] = make_gong):
        self.speaker, self.cache, self._gong = speaker, cache, gong

    def call_wav(self, code: str, counter_name: str, lang: str) -> bytes:
        """'Nummer A 42, bitte zu Schalter 3' (or its equivalent in `lang`), spoken."""
        text = call_phrase(code, counter_name, lang)
        parts = (self.speaker.engine, self.speaker.voice(lang), text)
        return self.cache.get(parts, lambda: self.speaker.wav(text, lang))

    def gong_wav(self) -> bytes:
        """The chime played before each call."""
        return self.cache.get(("sox", RECIPE), self._gong)
