"""CivicQueue: queue management for citizens' offices."""

__version__ = "0.1.0"
