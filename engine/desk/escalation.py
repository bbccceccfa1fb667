"""The escalation chain (逐级向上联系): who hears of an SLA warning or breach.

A warning goes to whoever holds the ticket (the assignee of its open task, or
that task's whole group when nobody has taken it) and to the desk leads, so the
person who can act hears it, not only their lead. A breach goes up the chain:
holder → lead → the desk manager, or, for a ticket already dispatched to the
back line, the project's PM (who assigned the engineer).

Each level fires exactly once per clock per ticket: the ``sla_escalation`` row
with its unique (ticket, clock, level) key is written in the same transaction as
its messages, and a level that already has a row sends nothing again — whether
the timer, a late stop or a re-planned clock notices it. Who is who (users, roles,
the PM's step, the rows already sent) comes from ``notifications.Lookups``, read
once per step or batch of timer wakes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..clock import now
from ..models import SlaClock, SlaEscalation, Ticket
from . import notifications

MANAGER_ROLE = "manager"


def project_pm(session: Session, ticket: Ticket, *, lookups: notifications.Lookups | None = None) -> list[str]:
    """The PM who dispatched the ticket (completed its pm_assign step), else its project's PM group."""
    lookups = lookups or notifications.Lookups(session)
    done_by = next(iter(lookups.pm_steps(ticket.id)), None)
    if done_by:
        return [done_by]
    return [u.username for u in lookups.with_role(ticket.pm_group or "pm")]


def dispatched(session: Session, ticket: Ticket, *, lookups: notifications.Lookups | None = None) -> bool:
    """Handed to the back line: an engineer named, or a PM has assigned it."""
    lookups = lookups or notifications.Lookups(session)
    return bool(ticket.engineer or ticket.handoff_at) or bool(lookups.pm_steps(ticket.id))


def chain(session: Session, ticket: Ticket, level: str, holders: list[str], *,
          lookups: notifications.Lookups | None = None) -> list[str]:
    """The usernames a level reaches, in order up the chain, each once."""
    lookups = lookups or notifications.Lookups(session)
    people = list(holders) + [u.username for u in lookups.with_role("lead")]
    if level == "breach":
        if dispatched(session, ticket, lookups=lookups):
            people += project_pm(session, ticket, lookups=lookups)
        else:
            people += [u.username for u in lookups.with_role(MANAGER_ROLE)]
    return list(dict.fromkeys(people))


def escalate(session: Session, ticket: Ticket, clock: SlaClock, kind: str, holders: list[str], *,
             lookups: notifications.Lookups | None = None) -> SlaEscalation | None:
    """Send one level of one clock up the chain, unless it was sent already (then None).

    The row is written with the step's other rows (one insert for a batch of wakes);
    its unique key still refuses a second one should two transactions race, and the
    loser rolls back with its messages.
    """
    lookups = lookups or notifications.Lookups(session)
    level = "breach" if kind == "sla_breach" else "warning"
    if lookups.escalated(ticket.id, clock.name, level):
        return None
    recipients = chain(session, ticket, level, holders, lookups=lookups)
    row = SlaEscalation(ticket_id=ticket.id, clock=clock.name, level=level, at=now(), recipients=recipients)
    session.add(row)
    lookups.mark_escalated(ticket.id, clock.name, level)
    context = {
        **notifications.ticket_context(ticket),
        "sla": notifications.SLA_NAMES.get(clock.name, clock.name),
        "due": notifications.local_time(clock.due_at),
        "holder": "、".join(holders) or "-",
    }
    for username in recipients:
        notifications.notify_staff(session, username, kind, context, ticket=ticket, lookups=lookups)
    return row
