"""Pause and resume a ticket (挂起/恢复) on the one write path.

Each reads top to bottom like ``instances.complete``: find the ticket, lock its
instance, check (a back-line step is open, the user holds it or leads, the state
allows it), load the workflow, let ``desk.pauses`` park or re-arm the clocks'
timers and write the ledger, then ``instances.save`` (state, next timer, task
rows, ticket projection, audit) in the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..desk import pauses, tickets
from ..errors import Conflict
from ..models import Ticket, User
from . import instances, tasks


def pause(session: Session, number: str, reason, *, user: User) -> Ticket:
    """Stop the clocks a pause stops until ``resume``; 409 when already paused or not on a back-line step."""
    ticket = tickets.get_by_number(session, number)
    instance = instances.lock(session, ticket.instance_id)
    session.refresh(ticket)
    text = pauses.check_reason(reason)
    if pauses.open_pause(session, ticket) is not None:
        raise Conflict(f"工单 {number} 已挂起 / ticket {number} is already paused")
    steps = pauses.back_line_tasks(session, ticket)
    if not steps:
        raise Conflict(f"工单 {number} 不在后线处理环节，不能挂起 / ticket {number} is not on a back-line step")
    pauses.check_may(user, steps)
    workflow = instances.load(instance)
    pauses.start(session, ticket, workflow, text, user=user, step=",".join(t.bpmn_id for t in steps))
    _save(session, instance, workflow, user.username)
    return ticket


def resume(session: Session, number: str, *, user: User) -> Ticket:
    """Restart the stopped clocks with their due times moved by the paused time; 409 when not paused."""
    ticket = tickets.get_by_number(session, number)
    instance = instances.lock(session, ticket.instance_id)
    session.refresh(ticket)
    if pauses.open_pause(session, ticket) is None:
        raise Conflict(f"工单 {number} 未挂起 / ticket {number} is not paused")
    pauses.check_may(user, pauses.back_line_tasks(session, ticket))
    workflow = instances.load(instance)
    pauses.resume_open(session, ticket, workflow, actor=user.username)
    _save(session, instance, workflow, user.username)
    return ticket


def _save(session: Session, instance, workflow, actor: str) -> None:
    fired = instances.run_steps(workflow)  # a re-armed timer may be due already: it fires now, on this path
    instances.save(session, instance, workflow, actor=actor, sla_events=fired)
    pauses.clear_parked_due(list(session.scalars(tasks.open_rows_of([instance.id]))))
