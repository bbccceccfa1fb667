"""Monitoring alarms: ``POST /api/alerts`` with an alert source's token (``desk alert-source add NAME``).

Takes Alertmanager's webhook body as it is (``version`` "4", ``alerts[]``) or a plain
alert ``{source, host, severity, summary, fingerprint}``; answers 202 with the ticket
numbers. The work is ``engine.runtime.alerts.receive``; this view only authenticates,
reads the body within its size limit and commits.
"""

import json

from flask import current_app, request

from engine.desk import channels
from engine.errors import Forbidden
from engine.runtime import alerts

from ..extensions import db
from . import bp


def _refuse(status: int, error: str, message: str):
    return {"error": error, "message": message}, status


@bp.post("/alerts")
def receive_alerts():
    """Raise, repeat or resolve monitoring alarms (Alertmanager webhook or generic JSON) → 202."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _refuse(401, "unauthorized", "需要告警来源令牌 / an alert source token is required")
    try:
        source = channels.source_for_token(db.session, header[7:].strip())
    except Forbidden as exc:
        return _refuse(401, "unauthorized", exc.message)
    if (request.content_length or 0) > alerts.MAX_BODY:
        return _refuse(413, "too_large", f"请求体超过 {alerts.MAX_BODY // 1024} KB / the body is too large")
    raw = request.stream.read(alerts.MAX_BODY + 1)
    if len(raw) > alerts.MAX_BODY:
        return _refuse(413, "too_large", f"请求体超过 {alerts.MAX_BODY // 1024} KB / the body is too large")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return _refuse(422, "invalid", f"JSON 格式错误 / malformed JSON: {exc}")
    except RecursionError:
        return _refuse(422, "invalid", "JSON 嵌套过深 / the JSON is nested too deeply")
    try:
        result = alerts.receive(db.session, source, raw, body,
                                rate_limit=current_app.config.get("DESK_ALERT_RATE", alerts.RATE_LIMIT))
    except channels.Throttled as exc:
        db.session.rollback()
        return {"error": exc.code, "message": exc.message}, 429, {"Retry-After": "60"}
    db.session.commit()
    return result, 202
