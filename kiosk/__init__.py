"""The touch kiosk where citizens draw a ticket, and the status page their phone opens from its QR code."""


def __getattr__(name: str):
    # Flask and the server load only when the blueprint is asked for: kiosk/agent runs on kiosk PCs without them.
    if name == "bp":
        from . import status, views  # noqa: F401 (they add their routes to bp)
        from .blueprint import bp

        return bp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["bp"]
