"""What every page needs: languages, staff sessions, CSRF, device cookies, security headers, vendor files."""

from __future__ import annotations

from flask import Flask

from server.config import ROOT, Settings

from . import devices, i18n, pairing, qr, security, staff, vendor


def init_web(app: Flask, settings: Settings) -> None:
    secure = settings.server.public_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_CHECK_DEFAULT=False,  # forms and cookie-authenticated API calls check it explicitly
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
        BABEL_DEFAULT_LOCALE=settings.server.default_language,
        QMS_DEFAULT_LANGUAGE=settings.server.default_language,
    )
    i18n.init_app(app)
    # Limits shared by every process when there is a Redis message queue; else counted in this process.
    storage = settings.server.message_queue if settings.server.message_queue.startswith("redis") else "memory://"
    staff.init_app(app, settings.server.login_limit, storage)
    security.init_app(app)
    devices.init_app(app)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(qr.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(pairing.bp)
