"""The session cookie: the key it is signed with, its flags, and its end at sign-out.

Flask signs the cookie with ``SECRET_KEY``; whoever knows the key can write a cookie
that says "admin1". So there is no fallback key: ``SECRET_KEY`` from the environment
wins, else the key ``desk init`` made in the instance folder (``secret_key``, readable
by its owner only), and the app refuses to start with neither.

The cookie is ``SameSite=Lax`` and ``HttpOnly``, and ``Secure`` whenever the request
came over HTTPS (``request.is_secure``; behind a proxy, see ``webforms.clients``).
Signing out, or a new password, gives the user a new ``session_nonce``: a cookie
copied before then names the old one and is no longer signed in (``auth.load_user``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

KEY_FILE = "secret_key"
NONCE = "session_nonce"  # the session's copy of the user's nonce


class MissingSecretKey(RuntimeError):
    """Raised by ``create_app`` when no key is configured: signing sessions with a known key is no lock."""


def read_key(instance_path: str | Path) -> str | None:
    """The key ``desk init`` keeps in the instance folder, if it made one."""
    try:
        return (Path(instance_path) / KEY_FILE).read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def ensure_key(instance_path: str | Path) -> bool:
    """Make the instance folder's key (64 random hex digits, mode 0600) unless there is one; True if made."""
    path = Path(instance_path) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
    return True


def require_key(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        raise MissingSecretKey(
            "没有会话密钥：请运行 `desk init`（在实例目录生成密钥）或设置环境变量 SECRET_KEY / "
            f"no secret key: run `desk init` (it keeps one in {os.path.join(app.instance_path, KEY_FILE)}) "
            "or set SECRET_KEY in the environment"
        )


class DeskSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked ``Secure`` on requests that came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    require_key(app)
    if not app.config.get("SESSION_COOKIE_SAMESITE"):  # Flask's default is None: sent along from other sites
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.session_interface = DeskSessionInterface()
