"""Human tasks: the rows the inbox reads, who may do them, and keeping them in step.

After every step the write path calls ``sync``: READY user tasks in the workflow
get a row; rows whose task moved on become COMPLETED or CANCELLED. The inbox
queries rows only; it never deserializes a workflow.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Forbidden, NotFound
from ..models import HumanTask, ProcessInstance, Role, TaskState, Ticket, User

_EXPR = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)


def ready_user_tasks(workflow) -> list:
    """READY tasks a person must do (user and manual tasks), in this workflow and those it called."""
    return [t for t in workflow.get_tasks(state=SpiffState.READY) if t.task_spec.manual]


def find_task(workflow, guid: str):
    """The SpiffWorkflow task with this id, or None once it is gone from the tree."""
    try:
        return workflow.get_task_from_id(UUID(guid))
    except TaskNotFoundException:
        return None


# who is offered a user task the diagram gives to no one (no lane, group, user or assignee)
UNASSIGNED_ROLES = ["lead", "admin"]


def _resolve_roles(session: Session, task_spec) -> list[str]:
    """candidateGroups when given, else the lane matched to a role by code or name.

    A task with neither, and no assignee or candidate users (common in diagrams from
    other modelers; validation warns about it), goes to the leads and admins.
    """
    ext = getattr(task_spec, "extensions", None) or {}
    if ext.get("candidateGroups"):
        return list(ext["candidateGroups"])
    lane = getattr(task_spec, "lane", None)
    if not lane:
        return [] if ext.get("assignee") or ext.get("candidateUsers") else list(UNASSIGNED_ROLES)
    role = session.scalars(select(Role).where(or_(Role.code == lane, Role.name == lane, Role.name_en == lane))).first()
    return [role.code] if role else [lane]


def describe(session: Session, row: HumanTask, task_spec) -> None:
    """Copy what the inbox shows of a step from its spec onto a row.

    New rows get it here, and so do rows kept across a migration to another version.
    """
    ext = getattr(task_spec, "extensions", None) or {}
    row.bpmn_id = task_spec.bpmn_id
    row.name = task_spec.bpmn_name or task_spec.bpmn_id
    row.lane = getattr(task_spec, "lane", None)
    row.roles = _resolve_roles(session, task_spec)
    row.candidate_users = list(ext.get("candidateUsers", []))
    row.form_key = getattr(getattr(task_spec, "form", None), "key", None) or None


def _evaluate_assignee(workflow, task, expression: str) -> str | None:
    """``${engineer}`` (or a plain username) → the user named in task data."""
    match = _EXPR.match(expression)
    if not match:
        return expression.strip() or None
    value = workflow.script_engine.evaluate(task, match.group(1))
    return str(value) if value else None


def _evaluate_groups(workflow, task, groups: list[str]) -> list[str]:
    """``camunda:candidateGroups="${pm_group}"``: the group named in task data (the project's PM group)."""
    result = []
    for group in groups:
        match = _EXPR.match(group)
        value = workflow.script_engine.evaluate(task, match.group(1)) if match else group
        result.extend(g.strip() for g in str(value or "").split(",") if g.strip())
    return result


def _timer_due(task) -> datetime | None:
    """The earliest waiting timer on this task or on any call activity that encloses it.

    SLA warning timers (``level=warning``) are left out: the task is due when the
    SLA is breached, not when the lead is warned.
    """
    dues = []
    current = task
    while current is not None:
        parent = current.parent
        if parent is not None:
            for sibling in parent.children:
                spec = sibling.task_spec
                if sibling is current or not isinstance(getattr(spec, "event_definition", None), TimerEventDefinition):
                    continue
                if sibling.state != SpiffState.WAITING:
                    continue
                props = (getattr(spec, "extensions", None) or {}).get("properties") or {}
                if props.get("level") == "warning":
                    continue
                value = sibling._get_internal_data("event_value")
                if isinstance(value, str):
                    try:
                        dues.append(TimerEventDefinition.get_datetime(value))
                    except ValueError:
                        pass
        sub = current.workflow
        parent_id = getattr(sub, "parent_task_id", None)
        current = sub.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None
    return min(dues) if dues else None


def sync(
    session: Session,
    instance: ProcessInstance,
    workflow,
    *,
    actor: str,
    ticket: Ticket | None = None,
    continued_by: tuple[User, HumanTask] | None = None,
) -> list[HumanTask]:
    """Bring the human_task rows of an instance in line with the workflow; return the READY rows.

    ``continued_by`` is (the person, the step they just did): a new step for the same
    group that the person belongs to stays with them, claimed. The agent who registers
    a call classifies it and tries the online fix without claiming each step from
    the group inbox; they can still release it. A step for another group (the
    lead's close after the agent's callback) goes to that group as before.
    """
    open_rows = {
        row.task_guid: row
        for row in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == TaskState.READY)
        )
    }
    at = now()
    ready = []
    for task in ready_user_tasks(workflow):
        guid = str(task.id)
        if guid in open_rows:
            row = open_rows.pop(guid)
            row.due_at = _timer_due(task) or row.due_at
            ready.append(row)
            continue
        ext = getattr(task.task_spec, "extensions", None) or {}
        row = HumanTask(
            instance_id=instance.id,
            ticket_id=ticket.id if ticket else None,
            task_guid=guid,
            process_id=task.workflow.spec.name,
            assignee=_evaluate_assignee(workflow, task, ext["assignee"]) if ext.get("assignee") else None,
            claimed=False,
            state=TaskState.READY,
            created_at=at,
            due_at=_timer_due(task),
        )
        describe(session, row, task.task_spec)
        row.roles = _evaluate_groups(workflow, task, row.roles)
        if row.assignee is None and continued_by is not None and _continues(*continued_by, row):
            row.assignee = continued_by[0].username
            row.claimed = True
        session.add(row)
        ready.append(row)
    for guid, row in open_rows.items():
        spiff_task = find_task(workflow, guid)
        if spiff_task is not None and spiff_task.state == SpiffState.COMPLETED:
            row.state = TaskState.COMPLETED
            row.completed_by = row.completed_by or actor
        else:
            row.state = TaskState.CANCELLED
        row.completed_at = row.completed_at or at
    return ready


def _continues(user: User, done: HumanTask, new: HumanTask) -> bool:
    """Whether ``new`` is the same group's next step and ``user`` is in that group (an admin's override is not)."""
    shared = set(done.roles or []).intersection(new.roles or []).intersection(user.role_codes)
    return bool(shared) and not new.candidate_users


def may_do(user: User, task: HumanTask) -> bool:
    """Whether ``user`` may complete (or claim) ``task``."""
    if user.has_role("admin"):
        return True
    if task.assignee:
        return task.assignee == user.username
    if user.username in (task.candidate_users or []):
        return True
    return bool(user.role_codes.intersection(task.roles or []))


def check_may_do(user: User, task: HumanTask) -> None:
    if may_do(user, task):
        return
    if task.assignee and task.assignee != user.username:
        raise Forbidden(f"该任务已分配给 {task.assignee} / this task is assigned to {task.assignee}")
    raise Forbidden("您没有处理该任务的权限 / you are not allowed to do this task")


def get(session: Session, task_id: int) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"任务 {task_id} 不存在 / no task {task_id}")
    return task


def inbox(
    session: Session,
    user: User,
    *,
    scope: str = "mine",
    ticket: str | None = None,
    instance_id: int | None = None,
) -> list[HumanTask]:
    """READY tasks for a user, soonest due first.

    ``mine``: assigned to or claimed by the user; ``group``: unassigned tasks of
    the user's roles (and their own); ``all``: every open task (leads and admins).
    """
    stmt = select(HumanTask).where(HumanTask.state == TaskState.READY)
    if ticket:
        stmt = stmt.join(Ticket, Ticket.id == HumanTask.ticket_id).where(Ticket.number == ticket)
    if instance_id:
        stmt = stmt.where(HumanTask.instance_id == instance_id)
    rows = list(session.scalars(stmt.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)))
    if scope == "all" and user.has_role("lead", "admin"):
        return rows
    if scope == "mine":
        return [t for t in rows if t.assignee == user.username]
    return [t for t in rows if may_do(user, t)]


def spec_of(task: HumanTask):
    """The task's spec in its instance's own version (the inbox needs no workflow for this)."""
    from . import definitions

    spec, subprocess_specs = definitions.specs_of(task.instance.version)
    process = spec if spec.name == task.process_id else subprocess_specs.get(task.process_id)
    return process.task_specs.get(task.bpmn_id) if process is not None else None


def form_of(task: HumanTask) -> list:
    """The task's form fields (``engine.forms.FieldDef``), from its version's spec."""
    from . import forms

    return forms.field_defs(getattr(spec_of(task), "form", None))
