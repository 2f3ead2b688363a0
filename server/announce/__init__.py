"""Spoken announcements for the waiting-room displays, synthesized offline and cached on disk.

    announcer = Announcer(EspeakSpeaker(), AudioCache(instance_dir() / "audio"))
    announcer.call_wav("A042", "Schalter 3", "de")   # WAV bytes of "Nummer A 42, bitte zu Schalter 3"
    announcer.gong_wav()                             # the gong played before each call
"""

from .announcer import Announcer
from .cache import AudioCache
from .gong import make_gong
from .phrases import LANGUAGES, call_phrase
from .speech import EspeakSpeaker, Speaker, SpeechUnavailable

__all__ = ["LANGUAGES", "Announcer", "AudioCache", "EspeakSpeaker", "Speaker", "SpeechUnavailable", "call_phrase",
           "make_gong"]
