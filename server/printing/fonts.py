"""Fonts for the ticket image, chosen by which characters they cover rather than by guessing a script."""

from __future__ import annotations

import logging
import os
import unicodedata
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont, features

log = logging.getLogger(__name__)

SYSTEM_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/noto"))
DEBIAN_PACKAGES = ("fonts-dejavu-core", "fonts-noto-core")
# Preference order, as (regular, bold) file names. DejaVu Sans comes first: it covers Latin, Cyrillic and Arabic.
FAMILIES = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    ("NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf"),
)
FONT_SUFFIXES = (".ttf", ".otf")


class FontsMissing(RuntimeError):
    """No font file to draw tickets with was found."""


def extra_dirs() -> tuple[Path, ...]:
    """The font directories named in QMS_FONT_DIRS, searched before the system ones."""
    return tuple(Path(d) for d in os.environ.get("QMS_FONT_DIRS", "").split(os.pathsep) if d)


def font_for(text: str, *, bold: bool = False) -> Path:
    """The first preferred font that covers every character of text, else the one that covers most."""
    return _font_for(text, bold, extra_dirs(), SYSTEM_DIRS)


def missing_glyphs(text: str, path: Path) -> set[str]:
    """The characters of text that the font at path has no glyph for (whitespace and format marks aside)."""
    return {ch for ch in _needed(text) if ord(ch) not in cmap(path)}


@lru_cache(maxsize=256)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """A Pillow font laid out by Raqm (bidi and shaping), loaded once per file and size."""
    if not features.check_feature("raqm"):  # without it Arabic would print unshaped and left to right
        raise FontsMissing("Pillow finds no libraqm to shape text; install the Debian package libraqm0")
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


@lru_cache(maxsize=64)
def cmap(path: Path) -> frozenset[int]:
    """The code points the font at path maps to glyphs."""
    with TTFont(path, lazy=True) as font:
        return frozenset(font["cmap"].getBestCmap())


@lru_cache(maxsize=16)
def candidates(extra: tuple[Path, ...], system: tuple[Path, ...], bold: bool) -> tuple[Path, ...]:
    """Font files in preference order: the known families (extra directories first), then any other font file in
    the extra directories, the asked weight first."""
    dirs = extra + system
    known = [path for family in FAMILIES if (path := _family_file(dirs, family, bold))]
    known_names = {name for family in FAMILIES for name in family}
    others = [p for d in extra if d.is_dir() for p in d.iterdir() if _is_other_font(p, known_names)]
    others.sort(key=lambda p: (("Bold" in p.stem) != bold, p.name))
    found = tuple(dict.fromkeys(known + others))
    if not found:
        raise FontsMissing(
            f"No ticket fonts found in {', '.join(map(str, dirs))}. Install the Debian packages "
            f"{' and '.join(DEBIAN_PACKAGES)} (apt-get install {' '.join(DEBIAN_PACKAGES)}), "
            "or point QMS_FONT_DIRS at a directory holding DejaVuSans.ttf."
        )
    return found


@lru_cache(maxsize=1024)
def _font_for(text: str, bold: bool, extra: tuple[Path, ...], system: tuple[Path, ...]) -> Path:
    fonts = candidates(extra, system, bold)
    # Reading a cmap costs a few ms, so stop at the first font that covers all; most text never looks past DejaVu.
    if covering := next((path for path in fonts if not missing_glyphs(text, path)), None):
        return covering
    # min() keeps the first of equals, so among fonts that lack the same number of characters preference wins.
    best = min(fonts, key=lambda path: len(missing_glyphs(text, path)))
    names = ", ".join(f"U+{ord(ch):04X} {ch}" for ch in sorted(missing_glyphs(text, best)))
    log.warning("No ticket font covers %r; using %s, which lacks %s", text[:60], best.name, names)
    return best


def _family_file(dirs: tuple[Path, ...], family: tuple[str, str], bold: bool) -> Path | None:
    """The family's file of that weight, from the first directory that has it (its regular if bold is missing)."""
    regular, heavy = family
    for name in (heavy, regular) if bold else (regular,):
        for directory in dirs:
            if (path := directory / name).is_file():
                return path
    return None


def _is_other_font(path: Path, known_names: set[str]) -> bool:
    return path.suffix.lower() in FONT_SUFFIXES and path.name not in known_names and path.is_file()


def _needed(text: str) -> set[str]:
    """The characters that need a glyph: not whitespace, control characters or format marks (bidi, ZWJ)."""
    return {ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf")}
