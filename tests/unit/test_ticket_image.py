"""The ticket image: exactly paper-wide and pure black and white, every script's letters drawn (no missing-glyph
boxes), Arabic shaped and right to left, a QR code that decodes back to the status URL, and text that wraps
instead of leaving the paper."""

from __future__ import annotations

import dataclasses
import time
import unicodedata

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageOps

from server.config import ROOT
from server.printing.fonts import cmap, font_for, load_font, missing_glyphs
from server.printing.ticket_image import PAPER_WIDTHS, TicketContent, Voice, balanced_wrap, render_ticket, wrap

ARTIFACTS = ROOT / "tests" / "_artifacts" / "tickets"
WIDTHS = sorted(PAPER_WIDTHS.values())
URL = "http://127.0.0.1:5000/t/abc123"
GERMAN_SERVICE = "Personalausweis und Reisepass"
NOT_IN_ANY_FONT = "\U0010fffd"  # a private-use code point no font maps; it draws as the font's missing-glyph box


def make_content(**overrides) -> TicketContent:
    """The German demo ticket, with any field replaced."""
    fields = dict(
        office_name="Bürgerbüro Mitte",
        number_label="Ihre Nummer",
        code="A012",
        service_name=GERMAN_SERVICE,
        service_name_de=None,
        lang="de",
        issued_at="26.11.2026, 09:41",
        ahead_label="Vor Ihnen: 3 Personen",
        estimate_label="Wartezeit: ca. 10–20 Min.",
        qr_url=URL,
        qr_caption="Scannen Sie den Code, um Ihre Nummer auf dem Handy zu verfolgen.",
        privacy_note="Diese Wartemarke enthält keine persönlichen Daten.",
    )
    return TicketContent(**{**fields, **overrides})


def citizen(lang: str, service: str, date: str, number: str, ahead: str, estimate: str, caption: str, privacy: str):
    """A ticket in the citizen's language, with the German service name below."""
    return make_content(
        lang=lang, service_name=service, service_name_de=GERMAN_SERVICE, issued_at=date, number_label=number,
        ahead_label=ahead, estimate_label=estimate, qr_caption=caption, privacy_note=privacy,
    )  # fmt: skip


# Dates as Babel formats them ("medium" date, "short" time): Cyrillic ones hold a narrow no-break space, the Arabic
# one right-to-left marks.

TICKETS = {
    "de": make_content(),
    "tr": citizen("tr", "Kimlik kartı ve pasaport", "26 Kas 2026, 09:41",
        "Numaranız", "Önünüzde: 3 kişi", "Bekleme süresi: yaklaşık 10–20 dk.",
        "Numaranızı telefonunuzdan takip etmek için kodu okutun.", "Kişisel veri içermez."),
    "pl": citizen("pl", "Zgłoszenie miejsca zamieszkania", "26 lis 2026, 09:41",
        "Twój numer", "Przed Tobą: 3 osoby", "Czas oczekiwania: ok. 10–20 min.",
        "Zeskanuj kod, aby śledzić swój numer w telefonie.", "Bilet nie zawiera żadnych danych osobowych."),
    "uk": citizen("uk", "Посвідчення особи та паспорт", "26 лист. 2026\u202fр., 09:41",
        "Ваш номер", "Перед вами: 3 особи", "Очікування: бл. 10–20 хв.",
        "Скануйте код, щоб стежити за своєю чергою на телефоні.", "Талон не містить персональних даних."),
    "ru": citizen("ru", "Удостоверение личности и паспорт", "26 нояб. 2026\u202fг., 09:41",
        "Ваш номер", "Перед вами: 3 человека", "Ожидание: ок. 10–20 мин.",
        "Отсканируйте код, чтобы следить за номером на телефоне.", "Талон не содержит личных данных."),
    "ar": citizen("ar", "بطاقة الهوية وجواز السفر", "26\u200f/11\u200f/2026, 9:41 ص",
        "رقمك", "أمامك: 3 أشخاص", "مدة الانتظار: حوالي 10–20 دقيقة",
        "امسح الرمز لمتابعة رقمك على هاتفك.", "لا تحتوي هذه التذكرة على بيانات شخصية."),
}  # fmt: skip
# The letters each language needs beyond ASCII, upper and lower case.
LETTERS = {
    "de": "äöüßÄÖÜẞ",
    "tr": "şğıİŞĞçÇöÖüÜ",
    "pl": "łżśąęćńóźŁŻŚĄĘĆŃÓŹ",
    "uk": "їєґіЇЄҐІ",
    "ru": "ёыэъЁЫЭЪ",
    "ar": "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي",
}


def texts_of(content: TicketContent) -> list[str]:
    return [value for value in dataclasses.astuple(content) if isinstance(value, str) and value != content.qr_url]


def ink_columns(image: Image.Image) -> list[tuple[int, int]]:
    """Runs of columns holding black dots, left to right, as (first, last)."""
    pixels = image.convert("L").load()
    inked = [any(pixels[x, y] == 0 for y in range(image.height)) for x in range(image.width)]
    runs: list[tuple[int, int]] = []
    for x, ink in enumerate(inked):
        if ink and runs and runs[-1][1] == x - 1:
            runs[-1] = (runs[-1][0], x)
        elif ink:
            runs.append((x, x))
    return runs


def ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    return ImageOps.invert(image.convert("L")).getbbox()


def band_of(width: int, content: TicketContent, field: str) -> Image.Image:
    """The full-width rows of the ticket where a one-line field is drawn: those that change when it becomes a dot
    (an Arabic hamza for Arabic text, which keeps the line's size and direction)."""
    ticket = render_ticket(content, width)
    arabic = any(unicodedata.bidirectional(ch) == "AL" for ch in getattr(content, field))
    dotted = render_ticket(dataclasses.replace(content, **{field: "ء" if arabic else "."}), width)
    assert ticket.size == dotted.size, "the field must take one line"
    _left, top, _right, bottom = ImageChops.difference(ticket.convert("L"), dotted.convert("L")).getbbox()
    return ticket.crop((0, top, width, bottom))


def glyph(ch: str, path) -> bytes:
    canvas = Image.new("L", (160, 120), 255)
    ImageDraw.Draw(canvas).text((80, 60), ch, font=load_font(path, 48), fill=0, anchor="mm")
    return canvas.tobytes()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", sorted(TICKETS))
def test_ticket_is_exactly_paper_wide_and_pure_black_and_white(lang, width):
    ticket = render_ticket(TICKETS[lang], width)
    assert ticket.mode == "1"
    assert ticket.width == width
    assert ticket.height > width  # the height follows the content
    assert {colour for _count, colour in ticket.getcolors()} == {0, 255}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["de", "ar"])
def test_same_content_gives_the_same_pixels(lang, width):
    assert render_ticket(TICKETS[lang], width).tobytes() == render_ticket(TICKETS[lang], width).tobytes()


@pytest.mark.parametrize("lang", sorted(TICKETS))
def test_chosen_fonts_have_every_character_of_the_ticket(lang):
    for text in [*texts_of(TICKETS[lang]), LETTERS[lang]]:
        for bold in (False, True):
            assert missing_glyphs(text, font_for(text, bold=bold)) == set(), text


@pytest.mark.parametrize("lang", sorted(TICKETS))
def test_no_character_draws_as_the_missing_glyph_box(lang):
    for text in [*texts_of(TICKETS[lang]), LETTERS[lang]]:
        for bold in (False, True):
            path = font_for(text, bold=bold)
            assert ord(NOT_IN_ANY_FONT) not in cmap(path)
            box = glyph(NOT_IN_ANY_FONT, path)
            assert box != glyph(" ", path), "the missing-glyph box must be visible for this check to mean anything"
            boxes = {ch for ch in set(text) - {" "} if glyph(ch, path) == box}
            assert boxes == set(), f"{path.name} draws {sorted(boxes)} as boxes"


def test_arabic_letters_run_right_to_left():
    # A wide letter and a thin one: the first in reading order must land on the right.
    (left, right) = ink_columns(band_of(576, dataclasses.replace(TICKETS["ar"], service_name="ش ا"), "service_name"))
    assert right[1] - right[0] > 2 * (left[1] - left[0])  # sheen (wide) on the right, alef (thin) on the left


def test_citizen_lines_of_an_rtl_language_start_at_the_right():
    # "I" is left-to-right and comes first: a right-to-left line puts it on the right, a German line on the left.
    arabic = dataclasses.replace(TICKETS["ar"], service_name="I ش")
    (left, right) = ink_columns(band_of(576, arabic, "service_name"))
    assert right[1] - right[0] < left[1] - left[0]  # the thin I is the right-hand run
    german = dataclasses.replace(arabic, lang="de")
    (left, right) = ink_columns(band_of(576, german, "service_name"))
    assert left[1] - left[0] < right[1] - right[0]


@pytest.mark.parametrize("width", WIDTHS)
def test_an_untranslated_label_on_an_rtl_ticket_stays_left_to_right(width):
    caption = "Scan the code."
    arabic = band_of(width, dataclasses.replace(TICKETS["ar"], qr_caption=caption), "qr_caption")
    english = band_of(width, dataclasses.replace(TICKETS["de"], qr_caption=caption), "qr_caption")
    assert arabic.tobytes() == english.tobytes()


def test_arabic_is_shaped_into_joined_forms():
    word = "بطاقة"
    font = load_font(font_for(word, bold=True), 40)
    isolated = sum(font.getlength(letter, direction="rtl", language="ar") for letter in word)
    assert font.getlength(word, direction="rtl", language="ar") < 0.9 * isolated
    joined = band_of(576, dataclasses.replace(TICKETS["ar"], service_name=word), "service_name")
    spaced = band_of(576, dataclasses.replace(TICKETS["ar"], service_name=" ".join(word)), "service_name")
    assert len(ink_columns(joined)) < len(ink_columns(spaced))  # joined letters touch; spaced ones stand apart


@pytest.mark.parametrize("width", WIDTHS)
def test_arabic_lines_are_centred_like_every_line(width):
    # Centred by advance width, as type is; side bearings leave the ink a few dots off the exact middle.
    arabic = dataclasses.replace(TICKETS["ar"], service_name="بطاقة الهوية")
    for field in ("service_name", "ahead_label", "number_label"):
        left, _top, right, _bottom = ink_box(band_of(width, arabic, field))
        assert abs(left - (width - right)) <= 0.02 * width, field


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "url", [URL, "https://termine.buergerbuero-mitte.example.de/t/Zx8kQ2mP7vR4tY9wB3nLq5Hs"], ids=["short", "long"]
)
def test_qr_code_decodes_to_the_status_url_with_whole_dot_modules(url, width):
    ticket = render_ticket(dataclasses.replace(TICKETS["ar"], qr_url=url), width)
    (code,) = zxingcpp.read_barcodes(ticket)
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert (code.text, code.ec_level) == (url, "M")
    side = code.position.top_right.x - code.position.top_left.x
    modules = 17 + 4 * int(code.extra["Version"])
    assert side % modules == 0
    assert 0.45 <= side / width <= 0.55


LONG = make_content(
    office_name="Bürgerbüro Mitte – Außenstelle Rathaus Charlottenburg-Wilmersdorf, Eingang Otto-Suhr-Allee",
    code="ABC123456789",
    service_name="Donaudampfschifffahrtsgesellschaftskapitänsausweisverlängerung und Beglaubigungen aller Art",
    service_name_de="Aufenthaltstitel, Niederlassungserlaubnis und Verpflichtungserklärungen für Besuchsaufenthalte",
    ahead_label="Vor Ihnen: 123 Personen in den Warteschlangen für Ihre Dienstleistung",
    estimate_label="Wartezeit: ca. 120–180 Min. (bitte beachten Sie die Öffnungszeiten des Hauses)",
    qr_caption="Scannen Sie den Code mit der Kamera Ihres Mobiltelefons, um Ihre Nummer jederzeit zu verfolgen.",
    privacy_note="Diese Wartemarke enthält keine persönlichen Daten; sie wird nach dem Besuch nicht gespeichert.",
)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("content", [LONG, dataclasses.replace(LONG, lang="ar", service_name="بطاقة " * 20)])
def test_long_texts_wrap_and_stay_on_the_paper(content, width):
    ticket = render_ticket(content, width)
    left, top, right, bottom = ink_box(ticket)
    assert ticket.width == width
    assert left >= 4 and right <= width - 4  # nothing touches the edges, so no glyph was cut
    assert ticket.height > render_ticket(TICKETS["de"], width).height


@pytest.mark.parametrize("width", WIDTHS)
def test_long_code_shrinks_to_fit(width):
    long_code = render_ticket(make_content(code="ABC123456789"), width)
    left, _top, right, _bottom = ink_box(long_code)
    assert left >= 4 and right <= width - 4
    assert long_code.height < render_ticket(make_content(), width).height  # smaller, not wrapped


def test_estimate_and_german_name_are_shown_only_when_given():
    full = render_ticket(TICKETS["tr"], 576)
    assert render_ticket(dataclasses.replace(TICKETS["tr"], estimate_label=None), 576).height < full.height
    assert render_ticket(dataclasses.replace(TICKETS["tr"], service_name_de=None), 576).height < full.height


@pytest.mark.parametrize("voice", [Voice("de"), Voice("ar", rtl=True)], ids=["ltr", "rtl"])
def test_wrap_keeps_every_word_in_order_within_the_width(voice):
    text = LONG.qr_caption if not voice.rtl else TICKETS["ar"].privacy_note * 3
    font = load_font(font_for(text), 30)
    for lines in (wrap(text, font, 300, voice), balanced_wrap(text, font, 300, voice)):
        assert " ".join(lines) == " ".join(text.split())
        assert max(font.getlength(line, direction=voice.direction) for line in lines) <= 300
    even = balanced_wrap(text, font, 300, voice)
    assert len(even) == len(wrap(text, font, 300, voice))


def test_a_word_wider_than_the_paper_is_split_between_letters():
    word = "Donaudampfschifffahrtsgesellschaftskapitänsausweis"
    font = load_font(font_for(word, bold=True), 38)
    lines = wrap(word, font, 200, Voice("de"))
    assert len(lines) > 1 and "".join(lines) == word
    assert all(font.getlength(line) <= 200 for line in lines)


def test_no_break_spaces_hold_their_words_together():
    date = "26 нояб.\u00a02026\u202fг., 09:41"  # as Babel formats it for Russian
    font = load_font(font_for(date), 30)
    assert wrap(date, font, 250, Voice("ru")) == ["26", "нояб.\u00a02026\u202fг.,", "09:41"]


def test_a_hyphenated_word_too_wide_for_a_line_breaks_after_a_hyphen():
    name = "Charlottenburg-Wilmersdorf-Nord"
    font = load_font(font_for(name, bold=True), 30)
    assert wrap(name, font, 352, Voice("de")) == ["Charlottenburg-", "Wilmersdorf-Nord"]


def test_balanced_wrap_evens_the_lines_but_never_splits_a_word_that_fits():
    font = load_font(font_for(GERMAN_SERVICE, bold=True), 38)
    assert wrap(GERMAN_SERVICE, font, 544, Voice("de")) == ["Personalausweis und", "Reisepass"]
    assert balanced_wrap(GERMAN_SERVICE, font, 544, Voice("de")) == ["Personalausweis", "und Reisepass"]
    font = load_font(font_for(GERMAN_SERVICE, bold=True), 30)  # where "Personalausweis" alone nearly fills a line
    assert balanced_wrap(GERMAN_SERVICE, font, 352, Voice("de")) == ["Personalausweis", "und Reisepass"]


@pytest.mark.parametrize("lang", ["de", "tr", "uk", "ar"])
def test_preview_pngs_keep_every_pixel(lang):
    """Writes the tickets to look at (tests/_artifacts/tickets/) and checks a 1-bit PNG loses nothing."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        ticket = render_ticket(TICKETS[lang], width)
        path = ARTIFACTS / f"ticket-{lang}-{width}.png"
        ticket.save(path)
        with Image.open(path) as saved:
            assert saved.mode == "1" and saved.tobytes() == ticket.tobytes()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_fresh_ticket_renders_in_well_under_50_ms(width):
    render_ticket(TICKETS["ar"], width)  # fonts loaded once per process, as in the server
    timings = []
    for n in range(5):  # a new status URL each time, so no cached QR code helps
        content = dataclasses.replace(TICKETS["ar"], code=f"A{n:03d}", qr_url=f"{URL}/{width}/{n}")
        start = time.perf_counter()
        render_ticket(content, width)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.05
