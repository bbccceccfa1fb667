"""Who is calling: the client's address (the login throttle counts by it) and its scheme.

Behind a reverse proxy every request comes from the proxy's address, over plain
HTTP: the throttle would count all clients as one and the session cookie would not
be marked Secure. ``DESK_PROXY_HOPS`` (the number of proxies in front of the desk)
makes the app believe that many ``X-Forwarded-For`` / ``X-Forwarded-Proto`` entries
(werkzeug's ProxyFix); without it, those headers are ignored, since any client can
send them.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix


def address() -> str:
    """The calling client's address, as far as the desk can trust it."""
    return request.remote_addr or ""


def init_app(app: Flask) -> None:
    hops = int(app.config.get("DESK_PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
