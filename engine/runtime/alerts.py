"""Monitoring alarms become tickets: Prometheus Alertmanager's webhook, or a plain JSON alert.

Like the timer worker, this module is a caller of the one write path: an alarm's
ticket is registered with ``instances.receive`` (the intake task completed by the
channel, the same completeness rule and SLA clocks as a phone call) and its
classification is the classify task completed by the channel with the impact and
urgency that ``rules/alerts.dmn`` gives for the alert's severity; the process's own
``rules/priority.dmn`` then makes them a priority (critical → P1 … info → P4).

One fingerprint has at most one open ticket: a repeat is counted on it (``Alarm.repeats``)
and noted in its history. A ``resolved`` alert notes the recovery and, where the table
says ``resolve_on_recovery``, completes the ticket's open step that can resolve it
(outcome ``resolved``); critical alarms wait for a person to confirm the cause. The
diagram goes on as after a person's resolution: a first-line fix to the callback, a
back-line one (engineer, tech support) first to the PM's and the desk's confirmation.

Nothing half-made: the whole request is validated before anything is written, the
caller commits once. Refused outright: malformed or oversized bodies (422/413), a
token that is not a source's (401), more requests than the source's share (429), the
very same body again within ``REPLAY_WINDOW`` (409: a retry or a second Alertmanager
of an HA pair). Skipped inside an accepted request, and kept in the quarantine: a
firing alert that started before its fingerprint's last recovery (a replay of old news).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..desk import audit, channels, notes, tickets
from ..errors import Invalid
from ..models import Alarm, AlarmStatus, AlertSource, HumanTask, TaskState, Ticket, TicketStatus
from . import instances, safe_xml, sandbox, tasks
from .parser import make_parser

CHANNEL = "monitoring"
MAX_BODY = 256 * 1024
MAX_ALERTS = 100
REPLAY_WINDOW = timedelta(minutes=10)
RATE_WINDOW = timedelta(minutes=1)
RATE_LIMIT = 60  # requests per source per minute; Alertmanager batches a group into one request
CLOCK_SKEW = timedelta(minutes=5)
RULES = Path(__file__).resolve().parents[2] / "rules" / "alerts.dmn"
DECISION = "alert_priority"
CATEGORIES = {"network", "server", "storage", "desktop", "application", "security", "other"}


@dataclass
class AlertIn:
    """One alert of a request, validated; the fields the desk reads from either format."""

    fingerprint: str
    status: str
    severity: str
    title: str
    description: str
    host: str
    starts_at: datetime
    ends_at: datetime | None
    labels: dict = field(default_factory=dict)


# --- reading the request ----------------------------------------------------------------


def _text(value, limit: int) -> str:
    return str(value if value is not None else "").strip()[:limit]


def _time(value, where: str, errors: dict, *, required: bool, future_ok: bool = False) -> datetime | None:
    if value in (None, "") or (isinstance(value, str) and value.startswith("0001-01-01")):
        if required:
            errors.setdefault(where, []).append("必填的 RFC 3339 时间 / an RFC 3339 time is required")
        return None
    if not isinstance(value, str):
        errors.setdefault(where, []).append("应为 RFC 3339 时间 / must be an RFC 3339 time")
        return None
    # Alertmanager writes nanoseconds; Python reads microseconds.
    head, dot, rest = value.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
    parsed = tickets.parse_time(value)
    if parsed is None or "T" not in value:
        errors.setdefault(where, []).append("应为 RFC 3339 时间 / must be an RFC 3339 time")
    elif parsed > now() + CLOCK_SKEW and not future_ok:
        errors.setdefault(where, []).append("时间在未来 / the time is in the future")
        return None
    return parsed


def _string_map(value, where: str, errors: dict) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        errors.setdefault(where, []).append("应为字符串到字符串的对象 / must be an object of strings")
        return {}
    return value


def _fingerprint(value, where: str, errors: dict) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        errors.setdefault(where, []).append("必填，最多 128 个字符 / required, at most 128 characters")
        return ""
    return value.strip()


def _status(value, where: str, errors: dict) -> str:
    if value not in ("firing", "resolved"):
        errors.setdefault(where, []).append("应为 firing 或 resolved / must be firing or resolved")
    return value if isinstance(value, str) else ""


def _alertmanager(body: dict, errors: dict) -> list[AlertIn]:
    """Alertmanager's webhook body (version "4"), as Alertmanager sends it."""
    if body.get("version") != "4":
        errors.setdefault("version", []).append('只支持 Alertmanager 的 version "4" / only version "4" is supported')
    items = body.get("alerts")
    if not isinstance(items, list) or not items:
        errors.setdefault("alerts", []).append("应为非空数组 / must be a non-empty array")
        return []
    if len(items) > MAX_ALERTS:
        errors.setdefault("alerts", []).append(f"一次最多 {MAX_ALERTS} 条 / at most {MAX_ALERTS} alerts per request")
        return []
    common = body.get("commonLabels") if isinstance(body.get("commonLabels"), dict) else {}
    found = []
    for i, item in enumerate(items):
        at = f"alerts[{i}]"
        if not isinstance(item, dict):
            errors.setdefault(at, []).append("应为对象 / must be an object")
            continue
        labels = _string_map(item.get("labels"), f"{at}.labels", errors)
        annotations = _string_map(item.get("annotations"), f"{at}.annotations", errors)
        title = annotations.get("summary") or labels.get("alertname") or ""
        if not title:
            errors.setdefault(f"{at}.labels", []).append("缺少 alertname / alertname is missing")
        lines = [annotations.get("description", "")]
        lines += [f"{k}={v}" for k, v in sorted(labels.items())]
        if item.get("generatorURL"):
            lines.append(_text(item["generatorURL"], 500))
        found.append(AlertIn(
            fingerprint=_fingerprint(item.get("fingerprint"), f"{at}.fingerprint", errors),
            status=_status(item.get("status"), f"{at}.status", errors),
            severity=(labels.get("severity") or common.get("severity") or "").strip().lower()[:40],
            title=_text(title, 200),
            description="\n".join(line for line in lines if line)[:10000],
            host=_text(labels.get("instance") or labels.get("host") or "", 120),
            starts_at=_time(item.get("startsAt"), f"{at}.startsAt", errors, required=True),
            # a firing alert's endsAt is when it would lapse unless repeated: a future time
            ends_at=_time(item.get("endsAt"), f"{at}.endsAt", errors, required=False, future_ok=True),
            labels=labels,
        ))
    return found


def _generic(item, at: str, errors: dict) -> AlertIn | None:
    """The plain format: {source, host, severity, summary, fingerprint[, status, description, starts_at]}."""
    if not isinstance(item, dict):
        errors.setdefault(at or "body", []).append("应为对象 / must be an object")
        return None
    prefix = f"{at}." if at else ""
    summary = _text(item.get("summary"), 200)
    if not summary:
        errors.setdefault(f"{prefix}summary", []).append("必填 / required")
    host = _text(item.get("host"), 120)
    source = _text(item.get("source"), 80)
    starts = item.get("starts_at")
    description = _text(item.get("description"), 10000)
    lines = [description, f"host={host}" if host else "", f"source={source}" if source else ""]
    return AlertIn(
        fingerprint=_fingerprint(item.get("fingerprint"), f"{prefix}fingerprint", errors),
        status=_status(item.get("status", "firing"), f"{prefix}status", errors),
        severity=_text(item.get("severity"), 40).lower(),
        title=summary,
        description="\n".join(line for line in lines if line),
        host=host,
        starts_at=_time(starts, f"{prefix}starts_at", errors, required=False) if starts else now(),
        ends_at=None,
        labels={k: v for k, v in (("host", host), ("source", source)) if v},
    )


def parse(body) -> list[AlertIn]:
    """The request's alerts, all valid, or Invalid naming every bad field (nothing is written)."""
    errors: dict[str, list[str]] = {}
    if isinstance(body, dict) and "alerts" in body and "version" in body:
        found = _alertmanager(body, errors)
    elif isinstance(body, list):
        if not body or len(body) > MAX_ALERTS:
            raise Invalid(f"应为 1–{MAX_ALERTS} 条告警 / send 1–{MAX_ALERTS} alerts")
        found = [_generic(item, f"[{i}]", errors) for i, item in enumerate(body)]
    elif isinstance(body, dict):
        found = [_generic(body, "", errors)]
    else:
        raise Invalid("请求体应为 JSON 对象 / the request body must be a JSON object")
    if errors:
        raise Invalid("告警内容有误 / the alert is not valid", fields=errors)
    return [a for a in found if a is not None]


# --- the rule table ------------------------------------------------------------------------

_table: dict = {}
_table_lock = threading.Lock()


def _engine():
    """rules/alerts.dmn, parsed once per change of the file."""
    mtime = RULES.stat().st_mtime_ns
    with _table_lock:
        if _table.get("mtime") != mtime:
            parser = make_parser()
            parser.add_dmn_xml(safe_xml.parse_xml(RULES.read_bytes(), RULES.name), filename=RULES.name)
            _table["engine"] = parser.get_engine(DECISION, None)
            _table["mtime"] = mtime
        return _table["engine"]


def decide(severity: str) -> dict:
    """``{impact, urgency, resolve_on_recovery}`` for a severity, from rules/alerts.dmn."""
    task = SimpleNamespace(data={"severity": severity or ""},
                           workflow=SimpleNamespace(script_engine=sandbox.script_engine()))
    result = dict(_engine().result(task))
    if not result:
        raise Invalid(f"alerts.dmn 没有适用于 {severity!r} 的规则 / no rule for severity {severity!r}")
    return result


# --- turning alerts into tickets --------------------------------------------------------------


def _actor(source: AlertSource) -> str:
    return f"{CHANNEL}:{source.name}"[:80]


def _open_alarm(session: Session, source: AlertSource, fingerprint: str) -> Alarm | None:
    """The fingerprint's alarm whose ticket is still open; a closed ticket frees the fingerprint."""
    alarm = session.scalars(
        select(Alarm).where(Alarm.source_id == source.id, Alarm.fingerprint == fingerprint,
                            Alarm.status == AlarmStatus.FIRING).order_by(Alarm.id.desc()).limit(1)
    ).first()
    if alarm is not None and session.get(Ticket, alarm.ticket_id).status == TicketStatus.CLOSED:
        alarm.status = AlarmStatus.CLOSED
        return None
    return alarm


def _last_recovery(session: Session, source: AlertSource, fingerprint: str) -> Alarm | None:
    return session.scalars(
        select(Alarm).where(Alarm.source_id == source.id, Alarm.fingerprint == fingerprint,
                            Alarm.status == AlarmStatus.RESOLVED).order_by(Alarm.id.desc()).limit(1)
    ).first()


def _ready(session: Session, ticket: Ticket) -> list[HumanTask]:
    return list(session.scalars(
        select(HumanTask).where(HumanTask.ticket_id == ticket.id, HumanTask.state == TaskState.READY)
        .order_by(HumanTask.id)
    ))


def _note(session: Session, ticket: Ticket, actor: str, action: str, text: str, data: dict) -> None:
    """An internal note the desk reads on the ticket, and an audit event a report can count."""
    notes.add(session, ticket, text, internal=True, actor=actor)
    audit.record(session, action, actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id,
                 name=text, data=data)


def _open(session: Session, source: AlertSource, alert: AlertIn) -> Ticket:
    actor = _actor(source)
    rule = decide(alert.severity)
    ticket = instances.receive(session, {
        "type": "incident",
        "channel": CHANNEL,
        "title": alert.title,
        "description": alert.description or alert.title,
        "reporter_name": source.name,
        "organisation": alert.labels.get("organisation") or alert.labels.get("customer") or source.organisation,
        "phone": source.phone,
        "email": source.email,
        "device_model": alert.labels.get("device_model", "")[:120],
        "device_serial": alert.labels.get("device_serial", "")[:120],
        "occurred_at": alert.starts_at.isoformat(),
    }, actor=actor)
    category = alert.labels.get("category", "")
    classify = next((t for t in _ready(session, ticket) if t.bpmn_id == "classify"), None)
    if classify is not None:
        instances.complete_for_channel(session, classify.id, {
            "category": category if category in CATEGORIES else "other",
            "impact": rule["impact"],
            "urgency": rule["urgency"],
        }, actor=actor)
    session.add(Alarm(source_id=source.id, fingerprint=alert.fingerprint, ticket_id=ticket.id,
                      severity=alert.severity, starts_at=alert.starts_at, first_at=now(), last_at=now()))
    return ticket


def _resolve(session: Session, source: AlertSource, alarm: Alarm, alert: AlertIn) -> str:
    """Note the recovery; resolve the ticket where the table says so and a step can."""
    actor = _actor(source)
    ticket = session.get(Ticket, alarm.ticket_id)
    alarm.status = AlarmStatus.RESOLVED
    alarm.ends_at = alert.ends_at or now()
    alarm.last_at = now()
    ends = tickets.parse_time(alarm.ends_at).astimezone(tickets.LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
    text = f"告警已恢复（{ends}）/ alert resolved"
    _note(session, ticket, actor, "alert_resolved", text, {"fingerprint": alarm.fingerprint, "ends_at": alarm.ends_at.isoformat()})
    if not decide(alarm.severity).get("resolve_on_recovery"):
        return "noted"
    for row in _ready(session, ticket):
        outcome = next((f for f in tasks.form_of(row) if f.id == "outcome"), None)
        if outcome is not None and "resolved" in dict(outcome.options):
            instances.complete_for_channel(session, row.id, {"outcome": "resolved", "solution": text}, actor=actor)
            return "resolved"
    return "noted"


def _one(session: Session, source: AlertSource, alert: AlertIn) -> dict:
    result = {"fingerprint": alert.fingerprint, "status": alert.status, "ticket": None}
    alarm = _open_alarm(session, source, alert.fingerprint)
    if alert.status == "resolved":
        if alarm is None:
            return {**result, "action": "ignored", "reason": "没有未恢复的告警 / no firing alarm with this fingerprint"}
        ticket = session.get(Ticket, alarm.ticket_id)
        return {**result, "ticket": ticket.number, "action": _resolve(session, source, alarm, alert)}
    if alarm is not None:
        alarm.repeats += 1
        alarm.last_at = now()
        ticket = session.get(Ticket, alarm.ticket_id)
        _note(session, ticket, _actor(source), "alert_repeated", f"告警重复第 {alarm.repeats} 次 / alert repeated",
              {"fingerprint": alert.fingerprint, "repeats": alarm.repeats})
        return {**result, "ticket": ticket.number, "action": "repeated", "repeats": alarm.repeats}
    last = _last_recovery(session, source, alert.fingerprint)
    if last is not None and last.ends_at is not None and alert.starts_at <= tickets.parse_time(last.ends_at):
        return {**result, "action": "replayed", "reason": "告警开始于上次恢复之前 / the alert started before its last recovery"}
    ticket = _open(session, source, alert)
    return {**result, "ticket": ticket.number, "action": "created"}


def receive(session: Session, source: AlertSource, raw: bytes, body, *, rate_limit: int = RATE_LIMIT) -> dict:
    """One webhook request from ``source``: every alert handled, or nothing written.

    Returns ``{tickets, alerts}``: the ticket numbers touched and, per alert, what
    was done (created, repeated, resolved, noted, ignored, replayed).
    """
    if len(raw) > MAX_BODY:
        raise Invalid(f"请求体超过 {MAX_BODY // 1024} KB / the body is larger than {MAX_BODY // 1024} KB")
    if session.get_bind().dialect.name == "postgresql":  # one request of a source at a time: one ticket per fingerprint
        session.execute(select(AlertSource.id).where(AlertSource.id == source.id).with_for_update())
    sender = source.name
    channels.throttle(session, CHANNEL, sender, limit=rate_limit, window=RATE_WINDOW)
    body_digest = channels.digest(raw)
    earlier = channels.seen(session, CHANNEL, sender, body_digest, window=REPLAY_WINDOW)
    if earlier is not None:
        raise channels.Replayed(f"同一请求已于 {earlier.received_at.isoformat()} 收到 / the same request was already received")
    alerts = parse(body)
    results = [_one(session, source, alert) for alert in alerts]
    source.last_used_at = now()
    replayed = [r for r in results if r["action"] == "replayed"]
    numbers = list(dict.fromkeys(r["ticket"] for r in results if r["ticket"]))
    channels.record(session, CHANNEL, sender=sender, digest=body_digest, outcome=channels.ACCEPTED,
                    subject=", ".join(numbers)[:300])
    if replayed:
        channels.record(session, CHANNEL, sender=sender, outcome=channels.QUARANTINED, payload=raw,
                        reason="; ".join(f"{r['fingerprint']}: {r['reason']}" for r in replayed))
    return {"tickets": numbers, "alerts": results}
