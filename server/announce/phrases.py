"""What a display says for a call, per language: "Nummer A 42, bitte zu Schalter 3".

A counter named "<word> <number>" ("Schalter 3", "Platz 5", "Raum 12", "Counter 2") is said in each language
with that language's word for its kind; any other name is said as it is written.
"""

from __future__ import annotations

import re

from server.queue.numbering import spoken_code

# lang -> (call with {code} and {place}, {kind: place with {n}}, place for any other name with {name})
PHRASES: dict[str, tuple[str, dict[str, str], str]] = {
    "de": ("Nummer {code}, bitte zu {place}",
           {"counter": "Schalter {n}", "desk": "Platz {n}", "table": "Tisch {n}", "room": "Raum {n}"}, "{name}"),
    "en": ("Number {code}, please go to {place}",
           {"counter": "counter {n}", "desk": "desk {n}", "table": "table {n}", "room": "room {n}"}, "{name}"),
    "tr": ("Numara {code}, lütfen {place}",
           {"counter": "{n} numaralı gişeye gidin", "desk": "{n} numaralı masaya gidin",
            "table": "{n} numaralı masaya gidin", "room": "{n} numaralı odaya gidin"}, "şuraya gidin: {name}"),
    "ar": ("الرقم {code}، يرجى التوجه إلى {place}",
           {"counter": "الشباك رقم {n}", "desk": "المكتب رقم {n}", "table": "الطاولة رقم {n}",
            "room": "الغرفة رقم {n}"}, "{name}"),
    "uk": ("Номер {code}, будь ласка, {place}",
           {"counter": "підійдіть до віконця номер {n}", "desk": "підійдіть до робочого місця номер {n}",
            "table": "підійдіть до столу номер {n}", "room": "пройдіть до кабінету номер {n}"},
           "підійдіть до {name}"),
    "ru": ("Номер {code}, пожалуйста, {place}",
           {"counter": "подойдите к окну номер {n}", "desk": "подойдите к рабочему месту номер {n}",
            "table": "подойдите к столу номер {n}", "room": "пройдите в кабинет номер {n}"},
           "подойдите к {name}"),
    "pl": ("Numer {code}, proszę podejść do {place}",
           {"counter": "okienka numer {n}", "desk": "stanowiska numer {n}", "table": "stolika numer {n}",
            "room": "pokoju numer {n}"}, "{name}"),
    "fa": ("شماره {code}، لطفاً به {place} مراجعه کنید",
           {"counter": "باجه شماره {n}", "desk": "میز شماره {n}", "table": "میز شماره {n}",
            "room": "اتاق شماره {n}"}, "{name}"),
}
LANGUAGES = tuple(PHRASES)

# The word of a counter's name (any case) -> its kind.
KINDS = {"schalter": "counter", "counter": "counter", "window": "counter", "platz": "desk", "desk": "desk",
         "arbeitsplatz": "desk", "tisch": "table", "table": "table", "raum": "room", "zimmer": "room",
         "room": "room", "büro": "room", "office": "room"}

# Latin letters of a code, as a listener of that language names them: Russian and Ukrainian listeners expect
# the letters' Latin (German) names, which a speech engine would otherwise read the English way.
_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RU = "А Бэ Цэ Дэ Е Эф Гэ Ха И Йот Ка Эль Эм Эн О Пэ Ку Эр Эс Тэ У Вэ Дубль-вэ Икс Игрек Зэт"
_UK = "А Бе Це Де Е Еф Ге Ха І Йот Ка Ель Ем Ен О Пе Ку Ер Ес Те У Ве Дубль-ве Ікс Ігрек Зет"
LETTERS = {lang: dict(zip(_LATIN, names.split(" "), strict=True)) for lang, names in (("ru", _RU), ("uk", _UK))}

_COUNTER_NAME = re.compile(r"^\s*(\w+)\s+(?:(?:nr\.?|no\.?|#)\s*)?(\d+)\s*$", re.IGNORECASE)


def say_code(code: str, lang: str) -> str:
    """'A042' -> 'A 42'; letters apart, so 'AB 7' is spelled 'A B 7' rather than read as a word."""
    spoken = spoken_code(code)
    head, _, number = spoken.rpartition(" ")
    if not head:
        return spoken
    letters = LETTERS.get(lang, {})
    return " ".join([*(letters.get(ch, ch) for ch in head), number])


def say_counter(name: str, lang: str) -> str:
    """'Schalter 3' -> 'counter 3' in English, '3 numaralı gişeye gidin' in Turkish."""
    _, places, other = PHRASES[lang]
    match = _COUNTER_NAME.match(name)
    kind = KINDS.get(match.group(1).lower()) if match else None
    if kind is None:
        return other.format(name=name.strip())
    return places[kind].format(n=int(match.group(2)))


def call_phrase(code: str, counter_name: str, lang: str) -> str:
    """The sentence a display speaks for one call, e.g. 'Nummer A 42, bitte zu Schalter 3'."""
    if lang not in PHRASES:
        raise ValueError(f"no announcement phrases for language '{lang}' (known: {', '.join(LANGUAGES)})")
    template = PHRASES[lang][0]
    return template.format(code=say_code(code, lang), place=say_counter(counter_name, lang))
