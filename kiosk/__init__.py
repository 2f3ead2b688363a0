"""The touch kiosk where citizens draw a ticket, and the status page their phone opens from its QR code."""

from . import status, views  # noqa: F401 (they add their routes to bp)
from .blueprint import bp

__all__ = ["bp"]
