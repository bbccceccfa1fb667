"""The escalation chain (逐级向上联系): who hears of an SLA warning or breach.

A warning goes to whoever holds the ticket (the assignee of its open task, or
that task's whole group when nobody has taken it) and to the desk leads, so the
person who can act hears it, not only their lead. A breach goes up the chain:
holder → lead → the desk manager, or, for a ticket already dispatched to the
back line, the project's PM (who assigned the engineer).

Each level fires exactly once per clock per ticket: the ``sla_escalation`` row
with its unique (ticket, clock, level) key is written first, and a level that
already has a row sends nothing again — whether the timer, a late stop or a
re-planned clock notices it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..models import HumanTask, SlaClock, SlaEscalation, TaskState, Ticket
from . import notifications
from .users import users_with_role

MANAGER_ROLE = "manager"


def project_pm(session: Session, ticket: Ticket) -> list[str]:
    """The PM who dispatched the ticket (completed its pm_assign step), else its project's PM group."""
    done_by = session.scalar(
        select(HumanTask.completed_by)
        .where(HumanTask.ticket_id == ticket.id, HumanTask.bpmn_id == "pm_assign",
               HumanTask.state == TaskState.COMPLETED)
        .order_by(HumanTask.completed_at.desc())
        .limit(1)
    )
    if done_by:
        return [done_by]
    return [u.username for u in users_with_role(session, ticket.pm_group or "pm")]


def dispatched(session: Session, ticket: Ticket) -> bool:
    """Handed to the back line: an engineer named, or a PM has assigned it."""
    return bool(ticket.engineer or ticket.handoff_at) or bool(
        session.scalar(select(HumanTask.id).where(HumanTask.ticket_id == ticket.id, HumanTask.bpmn_id == "pm_assign",
                                                  HumanTask.state == TaskState.COMPLETED).limit(1))
    )


def chain(session: Session, ticket: Ticket, level: str, holders: list[str]) -> list[str]:
    """The usernames a level reaches, in order up the chain, each once."""
    people = list(holders) + [u.username for u in users_with_role(session, "lead")]
    if level == "breach":
        if dispatched(session, ticket):
            people += project_pm(session, ticket)
        else:
            people += [u.username for u in users_with_role(session, MANAGER_ROLE)]
    return list(dict.fromkeys(people))


def escalate(session: Session, ticket: Ticket, clock: SlaClock, kind: str, holders: list[str]) -> SlaEscalation | None:
    """Send one level of one clock up the chain, unless it was sent already (then None)."""
    level = "breach" if kind == "sla_breach" else "warning"
    done = session.scalar(
        select(SlaEscalation.id).where(SlaEscalation.ticket_id == ticket.id, SlaEscalation.clock == clock.name,
                                       SlaEscalation.level == level)
    )
    if done is not None:
        return None
    recipients = chain(session, ticket, level, holders)
    row = SlaEscalation(ticket_id=ticket.id, clock=clock.name, level=level, at=now(), recipients=recipients)
    session.add(row)
    session.flush()
    context = {
        **notifications.ticket_context(ticket),
        "sla": notifications.SLA_NAMES.get(clock.name, clock.name),
        "due": notifications.local_time(clock.due_at),
        "holder": "、".join(holders) or "-",
    }
    for username in recipients:
        notifications.notify_staff(session, username, kind, context, ticket=ticket)
    return row
