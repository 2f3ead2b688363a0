"""Persistence: models, engine and sessions, migrations."""

from .engine import Database, make_engine
from .models import Base

__all__ = ["Base", "Database", "make_engine"]
