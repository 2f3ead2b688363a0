"""The ticket drawn as a 1-bit image, the same pixels for the thermal printer and the on-screen preview."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from math import ceil, floor

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from server.printing.fonts import font_for, load_font

PAPER_WIDTHS = {80: 576, 58: 384}  # printable dots at 203 dpi
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})
ARABIC_SCRIPT = frozenset({"ar", "fa", "ur"})
ARABIC_BOOST = 1.2  # Arabic letters sit small in the em; at the same size they read like much smaller Latin

# Sizes in dots at 80 mm (576 dots); every one scales with the width. Text sizes are the font's em:
# 24 dots at 203 dpi is 3 mm, the least an elderly reader manages at arm's length.
BASE_WIDTH = 576
MIN_TEXT_SCALE = 0.8  # on 58 mm paper text shrinks less than the rest, so body text stays about 3 mm
MARGIN = 16
OFFICE = 32
LABEL = 28
CODE = 205  # capitals about 150 dots tall
SERVICE = 38
SERVICE_DE = 28
BODY = 30
SMALL = 25
RULE = 3
QR_SHARE = 0.55  # the widest the QR code may be, as a share of the width; whole-dot modules make it 45-55 %
QR_QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks
_BLACK_BELOW = [0] * 128 + [255] * 128  # threshold, not dithering: thermal dots are on or off
_BREAKS = re.compile(r"[ \t\r\n]+")
_HYPHENATED = re.compile(r"[^-\u2010]+[-\u2010]*|[-\u2010]+")  # "Charlottenburg-", "Wilmersdorf"

Op = Callable[[ImageDraw.ImageDraw, Image.Image], None]


@dataclass(frozen=True)
class TicketContent:
    office_name: str
    number_label: str  # "Ihre Nummer" / "Your number" in the citizen's language
    code: str  # "A012"
    service_name: str  # in the citizen's language
    service_name_de: str | None  # German name, when the citizen's language is not German (else None)
    lang: str  # citizen's language code; "ar"/"fa" are right-to-left
    issued_at: str  # already formatted local date and time, e.g. "26.11.2026, 21:05"
    ahead_label: str  # e.g. "Vor Ihnen: 3 Personen"
    estimate_label: str | None  # e.g. "Wartezeit: ca. 10–20 Min." (None: not shown)
    qr_url: str  # status page URL, encoded as QR code
    qr_caption: str  # "Scan to follow your number on your phone."
    privacy_note: str  # one short line


@dataclass(frozen=True)
class Voice:
    """How a line is laid out: its language (for shaping) and its direction."""

    language: str | None = None
    rtl: bool = False
    boost: float = 1.0

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"

    def for_text(self, text: str) -> Voice:
        """This voice, or plain left to right for text without a right-to-left letter (an untranslated label),
        whose full stop would otherwise land on the left."""
        if self.rtl and not any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
            return Voice(self.language)
        return self


GERMAN = Voice("de")


def voice_of(lang: str) -> Voice:
    """The voice of the citizen's language: right-to-left for Arabic, Persian, Hebrew and Urdu."""
    base = lang.split("-")[0].lower()
    return Voice(lang or None, base in RTL_LANGUAGES, ARABIC_BOOST if base in ARABIC_SCRIPT else 1.0)


def render_ticket(content: TicketContent, width: int) -> Image.Image:
    """The ticket as a black-on-white mode "1" image exactly width dots wide; its height follows the content."""
    layout = Layout(width)
    citizen = voice_of(content.lang)
    _header(layout, content, citizen)
    _service(layout, content, citizen)
    _facts(layout, content, citizen)
    _status_link(layout, content, citizen)
    return layout.finish()


def _header(layout: Layout, content: TicketContent, citizen: Voice) -> None:
    layout.text(content.office_name, OFFICE, bold=True, voice=GERMAN)
    layout.gap(10)
    layout.rule()
    layout.gap(14)
    layout.text(content.number_label, LABEL, voice=citizen)
    layout.gap(8)
    layout.code(content.code, CODE)
    layout.gap(20)


def _service(layout: Layout, content: TicketContent, citizen: Voice) -> None:
    layout.text(content.service_name, SERVICE, bold=True, voice=citizen)
    if content.service_name_de:
        layout.gap(4)
        layout.text(content.service_name_de, SERVICE_DE, voice=GERMAN)
    layout.gap(14)
    layout.rule()
    layout.gap(12)


def _facts(layout: Layout, content: TicketContent, citizen: Voice) -> None:
    layout.text(content.issued_at, BODY, voice=citizen)  # formatted in the citizen's locale, e.g. Arabic with RLMs
    layout.gap(4)
    layout.text(content.ahead_label, BODY, voice=citizen)
    if content.estimate_label:
        layout.gap(4)
        layout.text(content.estimate_label, BODY, voice=citizen)


def _status_link(layout: Layout, content: TicketContent, citizen: Voice) -> None:
    layout.image(qr_image(content.qr_url, layout.width))
    layout.text(content.qr_caption, SMALL, voice=citizen)
    layout.gap(14)
    layout.text(content.privacy_note, SMALL, voice=citizen)


def qr_image(url: str, width: int) -> Image.Image:
    """The QR code of url with its quiet zone, in whole-dot modules, about half as wide as the ticket."""
    modules = _qr_modules(url)
    dot = max(1, floor(QR_SHARE * width / (modules.width - 2 * QR_QUIET_ZONE)))
    return modules.resize((modules.width * dot, modules.height * dot), Image.Resampling.NEAREST)


@lru_cache(maxsize=32)
def _qr_modules(url: str) -> Image.Image:
    """One pixel per module; cached as the print job and the preview of a ticket draw the same code."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QR_QUIET_ZONE)
    qr.add_data(url)
    qr.make(fit=True)  # also picks the mask pattern with the lowest penalty, as ISO/IEC 18004 asks
    matrix = qr.get_matrix()
    modules = Image.new("L", (len(matrix), len(matrix)), 255)
    modules.putdata([0 if dark else 255 for row in matrix for dark in row])
    return modules


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int, voice: Voice) -> list[str]:
    """Text broken into lines no wider than width, word by word; a word too wide alone is split between letters."""
    lines: list[str] = []
    line = ""
    for word in words(text):
        for piece in _split_word(word, font, width, voice):
            joined = f"{line} {piece}" if line else piece
            if line and _length(joined, font, voice) > width:
                lines.append(line)
                joined = piece
            line = joined
    return [*lines, line] if line else lines


def balanced_wrap(text: str, font: ImageFont.FreeTypeFont, width: int, voice: Voice) -> list[str]:
    """wrap(), at the narrowest width that needs no more lines, so centred lines come out even, not one long and
    one orphan word."""
    count = len(wrap(text, font, width, voice))
    if count < 2:
        return wrap(text, font, width, voice)
    # No line can be narrower than the text's length shared among the lines, nor than its widest word (which
    # would then be split between letters); search upwards from there.
    widest_word = max(_length(word, font, voice) for word in words(text))
    low, high = min(width, max(floor(0.9 * _length(text, font, voice) / count), ceil(widest_word))), width
    while low < high:
        middle = (low + high) // 2
        if len(wrap(text, font, middle, voice)) <= count:
            high = middle
        else:
            low = middle + 1
    return wrap(text, font, high, voice)


def words(text: str) -> list[str]:
    """The words of text between breakable spaces; no-break spaces (as in "2026 г.") hold their words together."""
    return [word for word in _BREAKS.split(text) if word]


def _split_word(word: str, font: ImageFont.FreeTypeFont, width: int, voice: Voice) -> list[str]:
    """A word as pieces that fit: whole if it can, else after its hyphens, else between letters."""
    if _length(word, font, voice) <= width:
        return [word]
    parts = _pack(_HYPHENATED.findall(word), font, width, voice)
    return [piece for part in parts for piece in _pack(list(part), font, width, voice)]


def _pack(parts: list[str], font: ImageFont.FreeTypeFont, width: int, voice: Voice) -> list[str]:
    """Consecutive parts joined as long as they fit the width."""
    pieces = [""]
    for part in parts:
        if pieces[-1] and _length(pieces[-1] + part, font, voice) > width:
            pieces.append("")
        pieces[-1] += part
    return pieces


@lru_cache(maxsize=8192)
def _length(text: str, font: ImageFont.FreeTypeFont, voice: Voice) -> float:
    """The advance width of text; cached because labels repeat from ticket to ticket and shaping is the slow part."""
    return font.getlength(text, direction=voice.direction, language=voice.language)


class Layout:
    """Stacks the ticket's blocks from the top; drawing waits until the height is known."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.scale = width / BASE_WIDTH
        self.margin = self.px(MARGIN)
        self.inner = width - 2 * self.margin
        self.y = self.margin
        self._ops: list[Op] = []

    def px(self, size: float) -> int:
        """A size at 576 dots, scaled to this width."""
        return max(1, round(size * self.scale))

    def text_px(self, size: float) -> int:
        """A text size at 576 dots, scaled to this width but never below MIN_TEXT_SCALE of it."""
        return round(size * max(self.scale, MIN_TEXT_SCALE))

    def gap(self, size: float) -> None:
        self.y += self.px(size)

    def rule(self) -> None:
        """A full-width line between sections."""
        box = (self.margin, self.y, self.width - self.margin - 1, self.y + self.px(RULE) - 1)
        self._ops.append(lambda draw, _image: draw.rectangle(box, fill=0))
        self.y += self.px(RULE)

    def text(self, text: str, size: int, *, voice: Voice, bold: bool = False) -> None:
        """Text centred and wrapped to the width, in the first font that has all its glyphs."""
        if not text.strip():
            return
        voice = voice.for_text(text)
        font = load_font(font_for(text, bold=bold), self.text_px(size * voice.boost))
        ascent, descent = font.getmetrics()
        for line in balanced_wrap(text, font, self.inner, voice):
            self._ops.append(_centred(line, font, self.width / 2, self.y, voice))
            self.y += ascent + descent

    def code(self, code: str, size: int) -> None:
        """The ticket code as large as it fits, always left to right; placed by its ink, not its line box."""
        font = _fitting_font(code, self.px(size), self.inner)
        left, top, right, bottom = font.getbbox(code, anchor="ls", direction="ltr")
        origin = ((self.width - (right - left)) // 2 - left, self.y - top)
        self._ops.append(lambda draw, _image: draw.text(origin, code, font=font, fill=0, anchor="ls", direction="ltr"))
        self.y += bottom - top

    def image(self, picture: Image.Image) -> None:
        """A picture centred on whole dots."""
        corner = ((self.width - picture.width) // 2, self.y)
        self._ops.append(lambda _draw, image: image.paste(picture, corner))
        self.y += picture.height

    def finish(self) -> Image.Image:
        """Draw everything in grey, then threshold to pure black and white."""
        canvas = Image.new("L", (self.width, self.y + self.margin), 255)
        draw = ImageDraw.Draw(canvas)
        for op in self._ops:
            op(draw, canvas)
        return canvas.point(_BLACK_BELOW, mode="1")


def _centred(line: str, font: ImageFont.FreeTypeFont, x: float, y: int, voice: Voice) -> Op:
    def op(draw: ImageDraw.ImageDraw, _image: Image.Image) -> None:
        draw.text((x, y), line, font=font, fill=0, anchor="ma", direction=voice.direction, language=voice.language)

    return op


def _fitting_font(text: str, size: int, width: int) -> ImageFont.FreeTypeFont:
    """The bold font for text at size, or smaller until its ink fits the width."""
    path = font_for(text, bold=True)
    font = load_font(path, size)
    while size > 8 and _ink_width(text, font) > width:
        size = min(size - 1, floor(size * width / _ink_width(text, font)))
        font = load_font(path, size)
    return font


def _ink_width(text: str, font: ImageFont.FreeTypeFont) -> int:
    left, _top, right, _bottom = font.getbbox(text, anchor="ls", direction="ltr")
    return right - left
