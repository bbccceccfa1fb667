"""What the desk does to a ticket besides completing its steps: reassign, 补录, 催单.

Each is one function on the same terms as the write path in ``instances``: it
takes a session, locks what it changes, audits, and never commits; the request
or CLI commits once. Kept apart from ``instances`` so that module stays the
start/complete/claim/timer path it is.
"""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..desk import audit, tickets
from ..errors import Forbidden, Invalid
from ..models import HumanTask, Notification, TaskState, Ticket, User
from . import forms, sandbox
from .instances import _locked_ready_task, _remember, _touch_ticket_assignee, load, lock, save
from .serialization import dump_state


def reassign(session: Session, task_id: int, *, user: User, to: str, reason: str) -> HumanTask:
    """A lead gives any open task to a named person, saying why; audited, and the person is told."""
    if not user.has_role("lead", "admin"):
        raise Forbidden("只有组长可以改派任务 / only the desk lead reassigns tasks")
    reason = (reason or "").strip()
    target = session.scalars(select(User).where(User.username == (to or "").strip(), User.active.is_(True))).first()
    errors = {}
    if not reason:
        errors["reason"] = ["请写明改派原因 / say why"]
    if target is None:
        errors["username"] = [f"没有在职用户 {to} / no active user {to}"]
    if errors:
        raise Invalid("请求有错误 / the request has errors", fields=errors)
    row, _instance = _locked_ready_task(session, task_id)
    before = row.assignee
    # the person may give a group task back to the group; one the process assigned stays assigned
    # (to the lead's choice now), so only another reassignment moves it on
    row.claimed = not (row.assignee and not row.claimed)
    row.assignee = target.username
    _touch_ticket_assignee(session, row)
    number = session.get(Ticket, row.ticket_id).number if row.ticket_id else ""
    session.add(Notification(username=target.username, ticket_id=row.ticket_id, kind="task_assigned",
                             message=f"组长 {user.username} 将工单 {number} 的“{row.name}”改派给您：{reason} / "
                                     f"{user.username} handed you a step of ticket {number}: {reason}",
                             created_at=now()))
    audit.record(session, "reassign", actor=user.username, instance_id=row.instance_id, ticket_id=row.ticket_id,
                 task_id=row.id, bpmn_id=row.bpmn_id, name=row.name,
                 data={"from": before, "to": target.username, "reason": reason})
    return row


def supplement(session: Session, number: str, data: dict, *, user: User) -> Ticket:
    """补录: fill in a ticket's missing record fields at any step, or after it closed; audited.

    The values go into the process data (so later steps and the projection see them)
    and the ticket is requalified with the same rule the intake uses
    (``tickets.missing_fields``). Only the intake's record fields may be filled in.
    """
    if not user.has_role("agent", "lead", "admin"):
        raise Forbidden("只有服务台人员可以补录 / only desk staff fill in records")
    ticket = tickets.get_by_number(session, number)
    instance = lock(session, ticket.instance_id)
    workflow = load(instance)
    intake = workflow.spec.task_specs.get("intake")
    defs = [fd for fd in forms.field_defs(getattr(intake, "form", None)) if fd.id in tickets.RECORD_FIELDS]
    given = {k: v for k, v in sandbox.strip_reserved(data or {}).items() if k in {fd.id for fd in defs}}
    if not given:
        raise Invalid("没有可补录的字段 / nothing to fill in",
                      fields={k: ["不能补录 / not a record field"] for k in (data or {})} or None)
    values = forms.validate(session, [fd for fd in defs if fd.id in given], given)
    values = {k: v for k, v in values.items() if v not in (None, "")}
    before = ticket.missing_fields
    if workflow.completed:
        workflow.data.update(values)
        instance.state = dump_state(workflow)
        _remember(instance, workflow)
        instance.revision = (instance.revision or 0) + 1
        tickets.project(session, ticket, dict(workflow.data), ready_tasks=[], finished=True, actor=user.username,
                        sla_events=[])
    else:
        waiting = workflow.get_tasks(state=SpiffState.READY | SpiffState.WAITING)
        for task in [*waiting, *([workflow.last_task] if workflow.last_task else [])]:
            task.data.update(values)
        save(session, instance, workflow, actor=user.username, sla_events=[])
    audit.record(session, "supplement", actor=user.username, instance_id=instance.id, ticket_id=ticket.id,
                 data={"values": values, "missing_before": before, "missing_after": ticket.missing_fields})
    return ticket


def chase(session: Session, number: str, *, user: User, note: str = "") -> Ticket:
    """催单: a caller chasing an open ticket adds to it instead of opening a duplicate.

    Counted and audited; whoever holds the ticket's open tasks is told.
    """
    if not user.has_role("agent", "lead", "admin"):
        raise Forbidden("只有服务台人员可以登记催单 / only desk staff register chase calls")
    ticket = tickets.get_by_number(session, number)
    if ticket.status == "closed":
        raise Invalid(f"工单 {number} 已关闭，请新建工单 / ticket {number} is closed: register a new one",
                      fields={"number": ["已关闭 / closed"]})
    lock(session, ticket.instance_id)
    ticket.chased = (ticket.chased or 0) + 1
    holders = session.scalars(select(HumanTask).where(HumanTask.ticket_id == ticket.id,
                                                      HumanTask.state == TaskState.READY)).all()
    message = (f"工单 {number} 客户催单（第 {ticket.chased} 次）：{note or ticket.title} / "
               f"ticket {number} chased by the customer (time {ticket.chased}): {note or ticket.title}")
    told = set()
    for row in holders:
        if row.assignee and row.assignee not in told:
            told.add(row.assignee)
            session.add(Notification(username=row.assignee, ticket_id=ticket.id, kind="chase", message=message,
                                     created_at=now()))
        elif not row.assignee:
            for role in row.roles or []:
                audit.notify_role(session, role, "chase", message, ticket_id=ticket.id)
    audit.record(session, "chase", actor=user.username, instance_id=ticket.instance_id, ticket_id=ticket.id,
                 data={"note": note, "count": ticket.chased})
    return ticket
