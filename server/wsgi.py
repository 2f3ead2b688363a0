"""The WSGI entry point for gunicorn (production, several processes): one gevent worker per process.

    gunicorn -c config/deploy/gunicorn.conf.py -b 127.0.0.1:5001 server.wsgi:application

gunicorn's gevent worker patches the standard library before it imports this module, so the app runs in
gevent mode, like `python -m server run`. Settings come from QMS_* variables and QMS_CONFIG as usual.
"""

from __future__ import annotations

import logging
import sys

from server.config import ConfigError, database_url, load_settings

log = logging.getLogger("server.wsgi")
BOOT_ERROR = 3  # gunicorn's WORKER_BOOT_ERROR: the arbiter stops instead of restarting the worker forever


def _build():
    """The app, or a clear message and exit when the settings or the schema are wrong (restarts cannot fix that)."""
    from server.app import create_app
    from server.db import Database
    from server.db.schema_version import schema_problem
    from server.serve import prepare

    try:
        settings = load_settings()
    except ConfigError as exc:
        log.critical("invalid configuration: %s", exc)
        sys.exit(BOOT_ERROR)
    db = Database(database_url(settings))
    problem = schema_problem(db.engine)  # a database that is down raises: gunicorn tries again
    if problem:
        log.critical("%s. Run: python -m server init", problem)
        sys.exit(BOOT_ERROR)
    return prepare(create_app(settings, db=db))


application = _build()
