"""Tickets: numbers, the business projection written after every step, SLA clocks (search: ``search``).

The projection reads well-known variables from the process data, so the diagram
stays in charge of *when* things happen (its scripts stamp ``accepted_at``,
``response_at``, ``resolved_at`` … and compute ``<sla>_due`` from rules/sla.dmn),
while this module turns them into columns that SQL reports can trust.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import NotFound
from ..models import Ticket, TicketCounter, TicketStatus
from . import audit, clocks, knowledge

PREFIXES = {"incident": "INC", "request": "SR", "consultation": "CON", "complaint": "CMP"}
TYPE_NAMES = {"incident": "事件", "request": "服务请求", "consultation": "咨询", "complaint": "投诉"}
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

SLA_NAMES = clocks.NAMES
SLAS = tuple(clocks.NAMES)  # the clocks in the order pages show them
# resolver (who the diagram says solved it) → the role code the KPIs count by
RESOLVER_ROLES = {"online_fix": "agent", "engineer": "engineer", "tech_support": "tech_support", "lead": "lead"}

HARDWARE_CATEGORIES = {"network", "server", "storage", "desktop"}
TEXT_FIELDS = (
    "type", "channel", "title", "description", "reporter_name", "organisation", "phone", "email",
    "device_model", "device_serial", "category", "impact", "urgency", "priority", "project",
    "pm_group", "sla_calendar", "solution", "vendor_case", "summary",
)  # fmt: skip


def next_number(session: Session, ticket_type: str, at: datetime | None = None) -> str:
    """INC-20261123-0001: prefix by type, the local day, a counter per prefix and day.

    PostgreSQL: the counter is bumped in a transaction of its own, committed at
    once, so its row is locked for a millisecond, not for the whole creation
    (creations queued behind it: p50 83 → 683 ms from 4 to 16 clients). The price
    is a skipped number when the creation fails after this point (the intake form
    is validated before). SQLite runs one writer at a time anyway.
    """
    prefix = PREFIXES.get(ticket_type, "TKT")
    day = (at or now()).astimezone(LOCAL_TZ).strftime("%Y%m%d")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        engine = bind if isinstance(bind, Engine) else bind.engine
        with engine.begin() as connection:
            last = _bump(connection, pg_insert, prefix, day)
    else:
        last = _bump(session, sqlite_insert, prefix, day)
    return f"{prefix}-{day}-{last:04d}"


def _bump(executor, insert, prefix: str, day: str) -> int:
    """The day's next number in one upsert: the first of the day inserts 1, the others add 1."""
    return executor.execute(
        insert(TicketCounter)
        .values(prefix=prefix, day=day, last=1)
        .on_conflict_do_update(index_elements=[TicketCounter.prefix, TicketCounter.day],
                               set_={"last": TicketCounter.last + 1})
        .returning(TicketCounter.last)
    ).scalar_one()


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


# The fields of the service record (服务信息记录单) that can be filled in later (补录).
RECORD_FIELDS = ("reporter_name", "organisation", "phone", "email", "device_model", "device_serial", "occurred_at",
                 "description")


def required_fields(category: str | None = None) -> list[str]:
    """What a complete record holds for a category: the intake screen says so before the category is known.

    ``phone`` stands for "a phone number or an e-mail address".
    """
    fields = ["reporter_name", "organisation", "description", "phone", "occurred_at"]
    if category in HARDWARE_CATEGORIES:
        fields += ["device_model", "device_serial"]
    return fields


def missing_fields(data: dict) -> list[str]:
    """What an unqualified record (不合格工单) lacks; an empty list means qualified.

    The one rule: the intake's live check, every step's projection and 补录 all use it.
    """
    missing = []
    for name in required_fields(data.get("category")):
        if name == "phone":
            if not data.get("phone") and not data.get("email"):
                missing.append("phone")
        elif not data.get(name):
            missing.append(name)
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
) -> dict[str, datetime]:
    """Rewrite the ticket from the process data after a step, then bring its SLA clocks up to date.

    Returns the clocks an open pause holds (``clocks.held``), for ``next_check`` without reading them again.

    ``sla_events`` (boundary timers that fired) need no handling of their own: the
    timers fire when a clock warns or breaches, and :func:`clocks.project` judges
    every clock at this moment anyway.
    """
    at = now()
    for name in TEXT_FIELDS:
        if name in data and data[name] is not None:
            setattr(ticket, name, str(data[name]))
    ticket.occurred_at = parse_time(data.get("occurred_at"))
    ticket.engineer = data.get("engineer") or None
    ticket.satisfaction = data.get("satisfaction") or None
    ticket.to_kb = bool(data.get("to_kb"))
    ticket.reopened = int(data.get("reopened") or 0)
    ticket.complaint_about = data.get("complaint_about") or ticket.complaint_about
    ticket.missing_fields = missing_fields(data)
    ticket.qualified = not ticket.missing_fields
    _project_moments(ticket, data, actor=actor, finished=finished, at=at)
    if ticket.closed_at:
        ticket.status = TicketStatus.CLOSED
    elif ticket.resolved_at:
        ticket.status = TicketStatus.RESOLVED
    else:
        ticket.status = TicketStatus.OPEN
    ticket.stage = ",".join(t.bpmn_id for t in ready_tasks)
    ticket.assignee = next((t.assignee for t in ready_tasks if t.assignee), None)
    ticket.updated_at = at
    holding = clocks.project(session, ticket, data, at=at, actor=actor)
    if ticket.to_kb and ticket.status == TicketStatus.CLOSED:  # 总结知识到知识库: a draft for review
        knowledge.draft_from_ticket(session, ticket, actor=actor)
    return holding


def _project_moments(ticket: Ticket, data: dict, *, actor: str, finished: bool, at: datetime) -> None:
    """The timestamps the rules measure (001 §五–§七), from the variables the diagram stamps.

    ``responded_at`` and ``handoff_at`` keep their first value: a ticket responded
    to, or handed to the back line, stays so when it is returned or reopened.
    ``response_at`` is the name diagrams before this one used.
    """
    accepted = parse_time(data.get("accepted_at"))
    if accepted:
        ticket.accepted_at = accepted
    responded = parse_time(data.get("responded_at")) or parse_time(data.get("response_at"))
    ticket.responded_at = clocks.earliest(ticket.responded_at, responded)
    ticket.handoff_at = clocks.earliest(ticket.handoff_at, parse_time(data.get("handoff_at")))
    ticket.returned = int(data.get("returned") or 0)
    resolved_at = parse_time(data.get("resolved_at"))
    if resolved_at and ticket.resolved_at != resolved_at:
        ticket.resolved_by = actor
        resolver = data.get("resolver") or None
        ticket.resolved_role = RESOLVER_ROLES.get(resolver, resolver) if resolver else None
    ticket.resolved_at = resolved_at
    ticket.callback_at = parse_time(data.get("callback_at"))
    ticket.callback_attempts = int(data.get("callback_attempts") or 0)
    ticket.closed_at = parse_time(data.get("closed_at")) or ticket.closed_at or (at if finished else None)


def next_check(session: Session, ticket: Ticket, *, held: dict[str, datetime] | None = None) -> datetime | None:
    """When this ticket's SLA clocks next need a look (a warning or breach falls due; paused clocks wait).

    ``held``: what ``project`` just returned for this ticket (else it is read).
    """
    return clocks.next_check(ticket, clocks.held(session, ticket) if held is None else held)


def get_by_number(session: Session, number: str) -> Ticket:
    ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
    if ticket is None:
        raise NotFound(f"工单 {number} 不存在 / no ticket {number}")
    return ticket


def open_for(session: Session, *, phone: str | None = None, reporter_name: str | None = None, limit: int = 10) -> list[Ticket]:
    """A caller's tickets that are not closed yet, newest first: a chase call (催单) adds to one of these."""
    conditions = []
    if phone and phone.strip():
        conditions.append(Ticket.phone == phone.strip())
    if reporter_name and reporter_name.strip():
        conditions.append(Ticket.reporter_name == reporter_name.strip())
    if not conditions:
        return []
    stmt = select(Ticket).where(or_(*conditions), Ticket.status != TicketStatus.CLOSED)
    return list(session.scalars(stmt.order_by(Ticket.id.desc()).limit(limit)))


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
