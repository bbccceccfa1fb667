"""Tickets: numbers, the business projection written after every step, SLA clocks, search.

The projection reads well-known variables from the process data, so the diagram
stays in charge of *when* things happen (its scripts stamp ``accepted_at``,
``response_at``, ``resolved_at`` … and compute ``<sla>_due`` from rules/sla.dmn),
while this module turns them into columns that SQL reports can trust.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import NotFound
from ..models import SlaClock, Ticket, TicketCounter, TicketStatus
from . import audit, knowledge

PREFIXES = {"incident": "INC", "request": "SR", "consultation": "CON", "complaint": "CMP"}
TYPE_NAMES = {"incident": "事件", "request": "服务请求", "consultation": "咨询", "complaint": "投诉"}
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# SLA name → (variable that starts the clock, variable that stops it)
SLAS = {
    "response": ("accepted_at", "response_at"),
    "handoff": ("accepted_at", "handoff_at"),
    "resolution": ("accepted_at", "resolved_at"),
    "callback": ("resolved_at", "callback_at"),
}
SLA_NAMES = {"response": "响应", "handoff": "转交", "resolution": "解决", "callback": "回访"}

HARDWARE_CATEGORIES = {"network", "server", "storage", "desktop"}
TEXT_FIELDS = (
    "type", "channel", "title", "description", "reporter_name", "organisation", "phone", "email",
    "device_model", "device_serial", "category", "impact", "urgency", "priority", "project",
    "pm_group", "sla_calendar", "solution", "vendor_case", "summary",
)  # fmt: skip


def next_number(session: Session, ticket_type: str, at: datetime | None = None) -> str:
    """INC-20261123-0001: prefix by type, the local day, a counter per prefix and day."""
    prefix = PREFIXES.get(ticket_type, "TKT")
    day = (at or now()).astimezone(LOCAL_TZ).strftime("%Y%m%d")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(TicketCounter).values(prefix=prefix, day=day, last=0).on_conflict_do_nothing())
    last = session.execute(
        update(TicketCounter)
        .where(TicketCounter.prefix == prefix, TicketCounter.day == day)
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
    ).scalar_one()
    return f"{prefix}-{day}-{last:04d}"


def parse_time(value) -> datetime | None:
    """An ISO string (or datetime) from process data as aware UTC; None when absent or bad."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed.astimezone(timezone.utc)


def missing_fields(data: dict) -> list[str]:
    """What an unqualified record (不合格工单) lacks; an empty list means qualified."""
    missing = [f for f in ("reporter_name", "organisation", "description") if not data.get(f)]
    if not data.get("phone") and not data.get("email"):
        missing.append("phone")
    if not data.get("occurred_at"):
        missing.append("occurred_at")
    if data.get("category") in HARDWARE_CATEGORIES:
        missing.extend(f for f in ("device_model", "device_serial") if not data.get(f))
    return missing


def project(
    session: Session,
    ticket: Ticket,
    data: dict,
    *,
    ready_tasks: list,
    finished: bool,
    actor: str,
    sla_events: list[tuple[str, str]],
) -> None:
    """Rewrite the ticket from the process data after a step, and record SLA warnings/breaches."""
    for name in TEXT_FIELDS:
        if name in data and data[name] is not None:
            setattr(ticket, name, str(data[name]))
    ticket.occurred_at = parse_time(data.get("occurred_at"))
    ticket.engineer = data.get("engineer") or None
    ticket.satisfaction = data.get("satisfaction") or None
    ticket.to_kb = bool(data.get("to_kb"))
    ticket.reopened = int(data.get("reopened") or 0)
    ticket.missing_fields = missing_fields(data)
    ticket.qualified = not ticket.missing_fields
    accepted = parse_time(data.get("accepted_at"))
    if accepted:
        ticket.accepted_at = accepted
    resolved_at = parse_time(data.get("resolved_at"))
    if resolved_at and ticket.resolved_at != resolved_at:
        ticket.resolved_by = actor
        ticket.resolved_role = data.get("resolver") or None
    ticket.resolved_at = resolved_at
    ticket.closed_at = parse_time(data.get("closed_at")) or (now() if finished else None)
    if finished or ticket.closed_at:
        ticket.status = TicketStatus.CLOSED
    elif resolved_at:
        ticket.status = TicketStatus.RESOLVED
    else:
        ticket.status = TicketStatus.OPEN
    ticket.stage = ",".join(t.bpmn_id for t in ready_tasks)
    ticket.assignee = next((t.assignee for t in ready_tasks if t.assignee), None)
    ticket.updated_at = now()
    _project_clocks(session, ticket, data, actor=actor, sla_events=sla_events)
    if ticket.to_kb and ticket.status == TicketStatus.CLOSED:  # 总结知识到知识库: a draft for review
        knowledge.draft_from_ticket(session, ticket, actor=actor)


def _project_clocks(session: Session, ticket: Ticket, data: dict, *, actor: str, sla_events) -> None:
    at = now()
    for name, (start_var, stop_var) in SLAS.items():
        due = parse_time(data.get(f"{name}_due"))
        clock = ticket.clock(name)
        if due is None and clock is None:
            continue
        if clock is None:
            clock = SlaClock(name=name)
            ticket.clocks.append(clock)
        clock.minutes = int(data[f"{name}_minutes"]) if data.get(f"{name}_minutes") is not None else clock.minutes
        clock.calendar = str(data.get("sla_calendar") or clock.calendar or "")
        clock.started_at = parse_time(data.get(start_var)) or clock.started_at
        clock.due_at = due or clock.due_at
        clock.warn_at = parse_time(data.get(f"{name}_warn_at")) or clock.warn_at
        clock.stopped_at = parse_time(data.get(stop_var))
        if clock.stopped_at and clock.due_at and clock.stopped_at > clock.due_at and not clock.breached:
            _breach(session, ticket, clock, clock.due_at, actor=actor, late_stop=True)
    for name, level in sla_events:
        clock = ticket.clock(name)
        if clock is None or clock.stopped_at is not None:
            continue  # the clock already stopped: the timer came too late to matter
        if level == "breach" and not clock.breached:
            _breach(session, ticket, clock, at, actor=actor, late_stop=False)
        elif level == "warning" and clock.warned_at is None and not clock.breached:
            clock.warned_at = at
            audit.record(session, "sla_warning", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id,
                         name=name, data={"sla": name, "due_at": _iso(clock.due_at)})


def _breach(session: Session, ticket: Ticket, clock: SlaClock, at: datetime, *, actor: str, late_stop: bool) -> None:
    clock.breached = True
    clock.breached_at = at
    audit.record(session, "sla_breach", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id,
                 name=clock.name, data={"sla": clock.name, "due_at": _iso(clock.due_at), "late_stop": late_stop})


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _local(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M") if value else "-"


def get_by_number(session: Session, number: str) -> Ticket:
    ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
    if ticket is None:
        raise NotFound(f"工单 {number} 不存在 / no ticket {number}")
    return ticket


def search(
    session: Session,
    *,
    status: str | None = None,
    type: str | None = None,
    priority: str | None = None,
    q: str | None = None,
    organisation: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Ticket], int]:
    """Tickets newest first, filtered; returns (page of tickets, total count)."""
    stmt = select(Ticket)
    if status:
        stmt = stmt.where(Ticket.status == status)
    if type:
        stmt = stmt.where(Ticket.type == type)
    if priority:
        stmt = stmt.where(Ticket.priority == priority)
    if organisation:
        stmt = stmt.where(Ticket.organisation == organisation)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(
                Ticket.number.ilike(like),
                Ticket.title.ilike(like),
                Ticket.description.ilike(like),
                Ticket.organisation.ilike(like),
                Ticket.reporter_name.ilike(like),
                Ticket.phone.ilike(like),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, int(page or 1))
    rows = session.scalars(stmt.order_by(Ticket.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def contacts(session: Session, prefix: str, limit: int = 8) -> list[dict]:
    """Earlier callers whose organisation, name or phone starts with ``prefix``, latest first.

    The intake screen offers these while the agent is still on the phone.
    """
    like = _like_prefix(prefix)
    cols = (Ticket.organisation, Ticket.reporter_name, Ticket.phone, Ticket.email)
    last = func.max(Ticket.id).label("last")
    stmt = (
        select(*cols, last)
        .where(
            or_(
                Ticket.organisation.like(like, escape="\\"),
                Ticket.reporter_name.like(like, escape="\\"),
                Ticket.phone.like(like, escape="\\"),
            )
        )
        .group_by(*cols)
        .order_by(last.desc())
        .limit(limit)
    )
    return [
        {"organisation": o, "reporter_name": r, "phone": p, "email": e}
        for o, r, p, e, _last in session.execute(stmt)
    ]
