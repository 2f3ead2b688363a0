"""The use-case context for the current request."""

from flask import current_app, request

from server.services.context import Context


def context() -> Context:
    ctx: Context = current_app.extensions["civicqueue"]
    base = current_app.config.get("QMS_PUBLIC_URL") or request.host_url
    return ctx.with_base_url(base)
