"""The kiosk agent: prints the server's ticket jobs on a USB or device-file printer attached to the kiosk PC.

Run it as `python -m kiosk.agent` (see kiosk/agent/README.md); tests and tools use `Agent` directly.
"""

__version__ = "0.1.0"

from .agent import Agent  # noqa: E402 (the agent module reads __version__)

__all__ = ["Agent", "__version__"]
