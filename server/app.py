"""The application factory."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server.cluster import Leadership
from server.config import Settings, database_url, load_settings, secret_key
from server.db import Database
from server.health import healthz
from server.message_queue import ClusterRedisManager, RedisProbe, client_manager
from server.queue.numbering import utc_now
from server.realtime import namespaces, socketio
from server.realtime.publisher import Publisher
from server.services.context import Context

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, db: Database | None = None, clock=utc_now) -> Flask:
    """Build the Flask app; tests pass their own settings, database and clock."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(settings),
        MAX_CONTENT_LENGTH=settings.server.max_body_bytes,
        JSON_SORT_KEYS=False,
        QMS_LANGUAGES=settings.server.languages,
        QMS_PUBLIC_URL=settings.server.public_url.rstrip("/"),
        QMS_SETTINGS=settings,
    )
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    db = db or Database(database_url(settings))
    message_queue = settings.server.message_queue or None
    manager = client_manager(message_queue, settings.server.message_queue_channel)
    publisher = Publisher(app, always_state=bool(message_queue) and not isinstance(manager, ClusterRedisManager))
    if isinstance(manager, ClusterRedisManager):
        publisher.notify = manager.state_due
        manager.on_state_due, manager.on_resubscribed = publisher.state_due, publisher.resync_all
    app.extensions["civicqueue"] = Context(db=db, publish=publisher, clock=clock)
    app.extensions["civicqueue_publisher"] = publisher
    from server.printing.spooler import Spooler

    app.extensions["civicqueue_spooler"] = Spooler(app)
    app.extensions["civicqueue_cluster"] = Leadership(db)
    if message_queue:
        app.extensions["civicqueue_redis_probe"] = RedisProbe(message_queue)
    socketio.init_app(app, message_queue=message_queue, client_manager=manager, async_mode=_async_mode())
    namespaces.register(socketio)
    from server.api import api, errors
    from server.web import init_web

    errors.register(app)
    init_web(app, settings)
    app.register_blueprint(api)
    _register_rooms(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    if settings.server.trusted_proxies:
        n = settings.server.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.add_url_rule("/", "home", _home)
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    return app


ROOMS = ("kiosk", "display", "counter", "admin")


def _register_rooms(app: Flask) -> None:
    """The client rooms' blueprints, by name: server never imports them at module level."""
    import importlib

    for name in ROOMS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        if hasattr(module, "bp"):
            app.register_blueprint(module.bp)


def _home():
    """A landing page listing the pages of this server."""
    from flask import render_template

    return render_template("home.html")


def _async_mode() -> str:
    """gevent when the process was monkey-patched for it (python -m server run), else threading."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"
