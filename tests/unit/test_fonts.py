"""Ticket fonts: chosen by the characters they cover, searched in QMS_FONT_DIRS first, loaded once, and a clear
error naming the Debian packages when there are none."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PIL import ImageFont

from server.printing.fonts import FontsMissing, candidates, font_for, load_font, missing_glyphs

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
NOTO = Path("/usr/share/fonts/truetype/noto")


@pytest.fixture(autouse=True)
def _system_fonts_only(monkeypatch):
    monkeypatch.delenv("QMS_FONT_DIRS", raising=False)


def test_latin_cyrillic_and_arabic_come_from_dejavu_sans_of_the_asked_weight():
    for text in ("Kimlik kartı ve pasaport", "Zgłoszenie, żółć, świat", "Посвідчення ґанок", "بطاقة الهوية"):
        assert font_for(text) == DEJAVU / "DejaVuSans.ttf"
        assert font_for(text, bold=True) == DEJAVU / "DejaVuSans-Bold.ttf"


def test_font_dirs_from_the_environment_are_searched_first(monkeypatch, tmp_path):
    (tmp_path / "DejaVuSans.ttf").symlink_to(DEJAVU / "DejaVuSans.ttf")
    monkeypatch.setenv("QMS_FONT_DIRS", str(tmp_path))
    assert font_for("Ihre Nummer") == tmp_path / "DejaVuSans.ttf"
    assert font_for("Ihre Nummer", bold=True) == DEJAVU / "DejaVuSans-Bold.ttf"  # a real bold beats a regular


def test_a_preferred_font_that_lacks_characters_is_passed_over(monkeypatch, tmp_path):
    # A deployment's first-choice font that has Arabic but no Turkish letters.
    (tmp_path / "DejaVuSans.ttf").symlink_to(NOTO / "NotoSansArabic-Regular.ttf")
    monkeypatch.setenv("QMS_FONT_DIRS", str(tmp_path))
    assert font_for("بطاقة الهوية") == tmp_path / "DejaVuSans.ttf"
    assert font_for("Kimlik kartı") == NOTO / "NotoSans-Regular.ttf"


def test_other_fonts_in_the_font_dirs_are_a_last_resort(monkeypatch, tmp_path):
    (tmp_path / "Extra-Regular.ttf").symlink_to(NOTO / "NotoSansArmenian-Regular.ttf")
    monkeypatch.setenv("QMS_FONT_DIRS", str(tmp_path))
    assert font_for("Ihre Nummer") == DEJAVU / "DejaVuSans.ttf"
    assert font_for("Հայաստան") == DEJAVU / "DejaVuSans.ttf"  # DejaVu has Armenian too, and comes first
    assert font_for("Հայաստան ֏") == tmp_path / "Extra-Regular.ttf"  # the dram sign only the extra font has


def test_when_no_font_covers_all_the_one_covering_most_is_used_and_the_gap_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="server.printing.fonts"):
        assert font_for("Nummer \ue000") == DEJAVU / "DejaVuSans.ttf"
    assert "U+E000" in caplog.text


def test_missing_glyphs_ignores_whitespace_and_bidi_marks():
    dejavu = DEJAVU / "DejaVuSans.ttf"
    assert missing_glyphs("a\u200fب\u202b c\t\n\u2066d\u2069\u200d", dejavu) == set()
    assert missing_glyphs("a\ue000b\U0010fffd", dejavu) == {"\ue000", "\U0010fffd"}


def test_no_fonts_at_all_names_the_packages_to_install(tmp_path):
    with pytest.raises(FontsMissing, match="fonts-dejavu-core and fonts-noto-core"):
        candidates((tmp_path,), (tmp_path / "absent",), False)


def test_fonts_are_loaded_once_and_laid_out_by_raqm():
    font = load_font(DEJAVU / "DejaVuSans.ttf", 30)
    assert load_font(DEJAVU / "DejaVuSans.ttf", 30) is font
    assert font.layout_engine == ImageFont.Layout.RAQM
