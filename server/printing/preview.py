"""The ticket as a PNG, drawn by the same code that prints it (staff reprints, the on-screen ticket)."""

from __future__ import annotations

import io

from .content import ticket_content
from .escpos_job import image_width
from .ticket_image import render_ticket


def ticket_png(facts: dict, printer: dict | None = None) -> bytes:
    """PNG of the 1-bit ticket image for this printer (default: an 80 mm roll at 203 dpi)."""
    printer = printer or {"paper": facts.get("paper", 80)}
    image = render_ticket(ticket_content(facts), image_width(printer))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
