"""The JSON API: bearer tokens, tickets, tasks, definitions, any process's instances.

Views read input, call one engine function, commit, and answer JSON. Engine
errors become JSON ``{error, message, fields?}`` in ``webforms.errors``.
"""

from functools import wraps

from flask import Blueprint, g, request

from engine.desk import accounts, users
from engine.errors import Forbidden, Invalid

from ..extensions import db

bp = Blueprint("api", __name__, url_prefix="/api")


def token_required(*roles: str):
    """Authenticate ``Authorization: Bearer <token>``; optionally require one of ``roles``."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return {"error": "unauthorized", "message": "需要令牌 / bearer token required"}, 401
            try:
                g.user, g.token_id, touched = users.user_for_token(db.session, header[7:].strip())
            except Forbidden as exc:
                return {"error": "unauthorized", "message": exc.message}, 401
            if touched:  # the token's last use, kept whatever the view does (at most every ten minutes)
                db.session.commit()
            if accounts.is_customer_only(g.user):  # issue 15: portal accounts use the portal, not the staff API
                return {"error": "unauthorized", "message": "客户账号不能使用工作人员接口 / customer accounts cannot use the staff API"}, 401
            if roles and not g.user.has_role(*roles):
                raise Forbidden("您没有该操作的权限 / you are not allowed to do this")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def json_body() -> dict:
    """The request's JSON object, or a clear 422 for anything else."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("请求体应为 JSON 对象 / the request body must be a JSON object")
    return data


from . import definitions, openapi, tasks, tickets, tokens  # noqa: E402,F401  (routes)
from . import reports  # noqa: E402,F401  (routes)
from . import announcements, attachments, customers, knowledge, notes, onsite  # noqa: E402,F401  (issue 14)
from . import alerts, portal_accounts  # noqa: E402,F401  (issue 15: monitoring alarms, portal accounts)
from . import pauses  # noqa: E402,F401  (issue 10)
