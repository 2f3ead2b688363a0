"""The bytes of one printed ticket, made by python-escpos for the printer's profile: init, raster, cut."""

from __future__ import annotations

from escpos.capabilities import get_profile
from escpos.printer import Dummy
from PIL import Image

from .ticket_image import PAPER_WIDTHS

# A profile with a known width keeps python-escpos quiet and checks the image fits; these are common models.
DEFAULT_PROFILES = {80: "TM-T20II", 58: "RP-F10-58mm"}  # both cut the paper


def profile_name(printer: dict) -> str:
    return printer.get("profile") or DEFAULT_PROFILES[printer.get("paper", 80)]


def image_width(printer: dict) -> int:
    """The paper's printable dots, or fewer if the profile says its head is narrower (180 dpi Epsons: 512)."""
    width = PAPER_WIDTHS[printer.get("paper", 80)]
    pixels = get_profile(profile_name(printer)).profile_data.get("media", {}).get("width", {}).get("pixels")
    return min(width, pixels) if isinstance(pixels, int) else width


FRAGMENT_ROWS = 960  # rows per GS v 0 command, python-escpos's default: within every printer's buffer


def build_job(image: Image.Image, printer: dict) -> bytes:
    """ESC @, the ticket as GS v 0 raster (in fragments of at most 960 rows), feed and cut."""
    out = Dummy(profile=profile_name(printer))
    out.hw("INIT")
    # Cut into fragments here: python-escpos would convert the whole image once more before splitting it.
    for top in range(0, image.height, FRAGMENT_ROWS):
        out.image(image.crop((0, top, image.width, min(top + FRAGMENT_ROWS, image.height))),
                  impl="bitImageRaster", fragment_height=FRAGMENT_ROWS)
    out.cut()
    return out.output
