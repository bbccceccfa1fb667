"""Process instances and the one write path every change goes through.

Every change to an instance — start, complete a task, claim, fire timers — is
one function here that reads top to bottom: lock the instance, load it, check,
apply, run engine steps, refresh timers, then ``save``: state (without the
spec), next timer, human-task rows, ticket projection and audit, all in the
caller's transaction. The caller (a request, the CLI, the timer worker) commits
once; on any error it rolls back and nothing has changed.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..clock import now
from ..desk import audit, customers, notifications, pauses, roster, tickets
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import HumanTask, InstanceStatus, PathStep, ProcessInstance, TaskState, Ticket, User
from . import archive, definitions, escalating, forms, sandbox, sla_marks, tasks
from .serialization import dump_state, load_workflow

DESK_PROCESS = "service_desk"
MAX_STEP_ROUNDS = 50


# --- loading and saving -------------------------------------------------------------


def lock(session: Session, instance_id: int) -> ProcessInstance:
    """The instance, locked for this transaction.

    PostgreSQL: ``SELECT … FOR UPDATE`` on the row. SQLite: every transaction is
    already a write transaction (``BEGIN IMMEDIATE``, see ``db.configure``), so
    only one writer is ever inside.
    """
    stmt = select(ProcessInstance).where(ProcessInstance.id == instance_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=ProcessInstance)
    instance = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if instance is None:
        raise NotFound(f"流程实例 {instance_id} 不存在 / no instance {instance_id}")
    return instance


# Workflows this process saved last, keyed by instance id, with a digest of the state
# they were saved as. Restoring a workflow is most of a step's cost; when the stored
# state is byte-for-byte what we saved, the object we already hold is that workflow.
# An entry is taken out while in use (one writer per instance holds the lock anyway)
# and put back by ``save``; a rolled-back save leaves a digest the database never
# had, so the stale object is never used.
_workflows: OrderedDict[int, tuple[bytes, BpmnWorkflow]] = OrderedDict()
_workflows_lock = threading.Lock()
WORKFLOW_CACHE_SIZE = 256


def _digest(state: bytes) -> bytes:
    return hashlib.blake2b(state, digest_size=16).digest()


def load(instance: ProcessInstance, *, marks: list | None = None) -> BpmnWorkflow:
    """The instance's workflow, for changing it: call only with the instance locked.

    ``marks`` (a list) receives the SLA marks ``read`` fired on the way.
    """
    with _workflows_lock:
        cached = _workflows.pop(instance.id, None)
    if cached is not None and cached[0] == _digest(instance.state) and cached[1].spec is definitions.specs_of(instance.version)[0]:
        fired = sla_marks.catch_up(cached[1])
        if marks is not None:
            marks.extend(fired)
        return cached[1]
    return read(instance, marks=marks)


def read(instance: ProcessInstance, *, marks: list | None = None) -> BpmnWorkflow:
    """A fresh copy of the instance's workflow from its stored state (for reading).

    SLA marks a wake in SQL left waiting fire here (``sla_marks.catch_up``), so the
    path shows them and a step that ends their activity does not cancel them unseen.
    """
    spec, subprocess_specs = definitions.specs_of(instance.version)
    workflow = load_workflow(instance.state, spec, subprocess_specs, sandbox.script_engine())
    fired = sla_marks.catch_up(workflow)
    if marks is not None:
        marks.extend(fired)
    return workflow


def _remember(instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    with _workflows_lock:
        _workflows[instance.id] = (_digest(instance.state), workflow)
        while len(_workflows) > WORKFLOW_CACHE_SIZE:
            _workflows.popitem(last=False)


def run_steps(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
    """Engine steps until only people or timers are awaited; returns SLA timer events fired.

    ``do_engine_steps`` refreshes timers at its end, which can make more tasks
    READY (a due boundary timer); those need another round.
    """
    fired: list[tuple[str, str]] = []

    def did_complete(task) -> None:
        spec = task.task_spec
        if not isinstance(getattr(spec, "event_definition", None), TimerEventDefinition):
            return
        props = (getattr(spec, "extensions", None) or {}).get("properties") or {}
        if props.get("sla"):
            fired.append((props["sla"], props.get("level", "breach")))

    for _ in range(MAX_STEP_ROUNDS):
        workflow.refresh_timers()
        workflow.do_engine_steps(did_complete_task=did_complete)
        if not any(not t.task_spec.manual for t in workflow.get_tasks(state=SpiffState.READY)):
            break
    return fired


def next_timer_at(workflow: BpmnWorkflow):
    """The earliest due time among the workflow's waiting timers, or None."""
    dues = []
    for task in workflow.event_manager.tasks.values():
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        value = definition.details(task).value
        if isinstance(value, str):
            try:
                dues.append(TimerEventDefinition.get_datetime(value))
            except ValueError:
                continue
    return min(dues) if dues else None


def current_data(workflow: BpmnWorkflow, ready_tasks: list | None = None) -> dict:
    """The process data as of now: the data the open user tasks carry, or the final data.

    ``ready_tasks``: ``tasks.ready_user_tasks(workflow)`` when the caller has it already.
    """
    if workflow.completed:
        return dict(workflow.data)
    ready = sorted(tasks.ready_user_tasks(workflow) if ready_tasks is None else ready_tasks,
                   key=lambda t: t.last_state_change)
    if ready:
        merged: dict = {}
        for task in ready:
            merged.update(task.data)
        return merged
    return dict(workflow.last_task.data) if workflow.last_task else {}


def _earliest(*moments):
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _ticket_of(session: Session, instance: ProcessInstance) -> Ticket | None:
    """The instance's ticket: the one the session already holds (the step read it), else one ``SELECT``."""
    for held in session.identity_map.values():
        if isinstance(held, Ticket) and held.__dict__.get("instance_id") == instance.id:
            return held
    with session.no_autoflush:
        return session.scalars(select(Ticket).where(Ticket.instance_id == instance.id)).first()


@dataclass
class Prefetched:
    """Each instance's ticket (None: it has none) and open task rows, read before its step changes anything.

    Read while nothing is pending, they cost no flush, and ``save`` no longer reads them
    halfway through a step (which flushed half of it, so the instance was updated twice).
    A timer batch reads them in two statements for all its instances (``prefetch``); with
    no other read between its steps it flushes once, at its commit, each table's rows together.
    """

    tickets: dict[int, Ticket | None]
    open_rows: dict[int, list[HumanTask]]


def prefetch(session: Session, batch: list[ProcessInstance]) -> Prefetched:
    """:class:`Prefetched` for instances this transaction holds locked (their rows change only under that lock)."""
    ids = [instance.id for instance in batch]
    found = Prefetched(tickets=dict.fromkeys(ids), open_rows={i: [] for i in ids})
    if ids:
        for ticket in session.scalars(select(Ticket).where(Ticket.instance_id.in_(ids))):
            found.tickets[ticket.instance_id] = ticket
        for row in session.scalars(tasks.open_rows_of(ids)):
            found.open_rows[row.instance_id].append(row)
    return found


def save(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    *,
    actor: str,
    sla_events: list[tuple[str, str]],
    continued_by: tuple[User, HumanTask] | None = None,
    prefetched: Prefetched | None = None,
) -> Ticket | None:
    """Write the step: state, next timer, task rows, ticket projection; returns the ticket (None: no ticket).

    ``continued_by`` (who did it, which step) keeps the group's next step with them.
    ``prefetched``: this instance's ticket and open rows, read before the step (``Prefetched``).
    """
    at = now()
    if prefetched is not None:
        ticket, open_rows = prefetched.tickets[instance.id], prefetched.open_rows[instance.id]
    else:  # before the state changes: no autoflush of the blob twice
        ticket, open_rows = _ticket_of(session, instance), None
    _archive(session, instance, archive.compact(workflow))
    instance.state = dump_state(workflow)
    _remember(instance, workflow)
    instance.revision = (instance.revision or 0) + 1
    instance.updated_at = at
    instance.last_error = None
    if workflow.completed:
        instance.status = InstanceStatus.COMPLETED
        instance.completed_at = at
        instance.next_timer_at = instance.flow_timer_at = None
    else:
        instance.next_timer_at = next_timer_at(workflow)
        instance.flow_timer_at = sla_marks.flow_timer_at(workflow)
    ready = tasks.ready_user_tasks(workflow)  # walking the task tree once serves the rows and the data
    ready_rows = tasks.sync(session, instance, workflow, actor=actor, ticket=ticket, continued_by=continued_by,
                            ready_tasks=ready, open_rows=open_rows)
    if ticket is not None:
        before = notifications.snapshot(ticket)
        roster.route(session, ticket, ready_rows, first=before["new"], since=at)  # out of hours: the on-duty person
        data = current_data(workflow, ready)
        holding = tickets.project(session, ticket, data, ready_tasks=ready_rows, finished=workflow.completed,
                                  actor=actor, sla_events=sla_events)
        raised = None if workflow.completed else escalating.raise_on_breach(workflow, ticket, data)
        if raised:  # 故障升级: project again on the new targets, move the diagram's timers, save that state
            holding = tickets.project(session, ticket, current_data(workflow), ready_tasks=ready_rows,
                                      finished=False, actor=actor, sla_events=[])
            escalating.rearm(workflow, ticket)
            instance.state = dump_state(workflow)
            _remember(instance, workflow)
            instance.next_timer_at = next_timer_at(workflow)
            instance.flow_timer_at = sla_marks.flow_timer_at(workflow)
            ready_rows = tasks.sync(session, instance, workflow, actor=actor, ticket=ticket)
        escalating.mark_raising(ticket, current_data(workflow) if raised else data)
        if not workflow.completed:
            # the ticket's clocks warn and breach on time even where the diagram has no timer for them
            next_check = tickets.next_check(session, ticket, held=holding)
            instance.next_timer_at = _earliest(instance.next_timer_at, next_check)
        notifications.after_step(session, ticket, before, ready_tasks=ready_rows, since=at, actor=actor)
        if raised:
            audit.record(session, "priority_raised", actor=actor, instance_id=instance.id, ticket_id=ticket.id,
                         name=raised, data={"from": before["priority"], "to": raised})
    elif sla_events:
        for name, level in sla_events:
            audit.record(session, f"sla_{level}", actor=actor, instance_id=instance.id, name=name, data={"sla": name})
    return ticket


def _archive(session: Session, instance: ProcessInstance, steps: list[archive.Step]) -> None:
    """Keep the steps ``archive.compact`` cut off the state, in one statement (none when nothing was cut)."""
    if not steps:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"instance_id": instance.id, "process": s.process, "element": s.element, "came_from": s.came_from}
            for s in steps]
    session.execute(insert(PathStep).values(rows).on_conflict_do_nothing())


# --- starting ------------------------------------------------------------------------


def _new_workflow(session: Session, key: str, data: dict) -> tuple:
    version = definitions.get_version(session, key)
    spec, subprocess_specs = definitions.specs_of(version)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=sandbox.script_engine())
    for task in workflow.get_tasks(state=SpiffState.READY):
        task.data.update(data)
    return version, workflow


def start(session: Session, key: str, *, user: User, data: dict | None = None) -> ProcessInstance:
    """Start any deployed process on its latest active version (admins, and the desk itself)."""
    if not user.has_role("admin"):
        raise Forbidden("只有管理员可以直接启动流程 / only admins start processes directly")
    if data is not None and not isinstance(data, dict):
        raise Invalid("data 应为对象 / data must be an object")
    version, workflow = _new_workflow(session, key, sandbox.strip_reserved(data or {}))
    fired = run_steps(workflow)
    instance = ProcessInstance(
        version_id=version.id, process_key=key, state=b"", started_by=user.username, started_at=now()
    )
    session.add(instance)
    session.flush()
    save(session, instance, workflow, actor=user.username, sla_events=fired)
    audit.record(session, "start", actor=user.username, instance_id=instance.id,
                 name=f"{key} v{version.version}", data=data or {})
    return instance


def create_ticket(session: Session, data: dict, *, user: User) -> Ticket:
    """Register a call: start the desk process and complete its intake task with ``data``.

    The intake form is validated before anything is stored, so a bad record
    leaves no half-made ticket behind.
    """
    if not user.has_role("agent", "lead", "admin"):
        raise Forbidden("只有服务台人员可以登记工单 / only desk staff register tickets")
    return receive(session, data, actor=user.username, user=user)


def receive(session: Session, data: dict, *, actor: str, user: User | None = None) -> Ticket:
    """A ticket from any channel: the intake task completed with ``data`` on behalf of ``actor``.

    The phone screen and the staff API come through ``create_ticket``; the other
    channels (monitoring alarms, mail, the customer portal) authenticate their
    sender themselves and call this with their own actor name, so every ticket has
    the same intake validation, completeness rule and SLA clocks. A staff ``user``
    keeps the next step of their group (issue 13's ``continued_by``).
    """
    version, workflow = _new_workflow(session, DESK_PROCESS, {})
    run_steps(workflow)
    intake = next(iter(tasks.ready_user_tasks(workflow)), None)
    if intake is None:
        raise Conflict(f"{DESK_PROCESS} v{version.version} 没有受理登记任务 / has no intake task")
    values = forms.validate(session, forms.field_defs(intake.task_spec.form), sandbox.strip_reserved(data or {}))
    _check_complaint_about(session, values)
    at = now()
    number = tickets.next_number(session, values.get("type", ""), at)
    instance = ProcessInstance(
        version_id=version.id, process_key=DESK_PROCESS, state=b"", started_by=actor, started_at=at
    )
    session.add(instance)
    session.flush()
    ticket = Ticket(number=number, instance_id=instance.id, type=values.get("type", ""), created_by=actor,
                    accepted_at=at, clocks=[], pauses=[])  # a new ticket has none: no SELECT to find out
    session.add(ticket)
    session.flush()
    row = HumanTask(
        instance_id=instance.id, ticket_id=ticket.id, task_guid=str(intake.id), process_id=workflow.spec.name,
        state=TaskState.COMPLETED, created_at=at, assignee=actor, completed_at=at, completed_by=actor,
    )
    tasks.describe(session, row, intake.task_spec)
    session.add(row)
    session.flush()
    intake.data.update(values)
    intake.data["number"] = number
    intake.run()
    fired = run_steps(workflow)
    new = Prefetched(tickets={instance.id: ticket}, open_rows={instance.id: []})  # a new instance has no open rows
    save(session, instance, workflow, actor=actor, sla_events=fired, continued_by=(user, row) if user else None,
         prefetched=new)
    customers.link(session, ticket, {**values, **{k: data[k] for k in customers.LINK_KEYS if k in (data or {})}})
    audit.record(session, "create_ticket", actor=actor, instance_id=instance.id, ticket_id=ticket.id,
                 task_id=row.id, bpmn_id=row.bpmn_id, name=row.name, data=values)
    # the ticket keeps its instance and version: the answer reads its version number and its tasks' forms
    # off them (the session alone holds them weakly: both read again, the instance's state with it)
    set_committed_value(instance, "version", version)
    set_committed_value(ticket, "instance", instance)
    return ticket


def _check_complaint_about(session: Session, values: dict) -> None:
    """A complaint names the ticket it is about; the number must be a ticket's, and only complaints name one."""
    number = (values.get("complaint_about") or "").strip()
    if values.get("type") != "complaint":
        values.pop("complaint_about", None)
        return
    if not number:
        return
    if session.scalars(select(Ticket.id).where(Ticket.number == number)).first() is None:
        raise Invalid("表单有错误，请按各项下方的提示修改 / The form has errors: see the notes under the fields.",
                      fields={"complaint_about": [f"没有工单 {number} / no ticket {number}"]})
    values["complaint_about"] = number


# --- the write path for tasks ---------------------------------------------------------


# Built once, with its cache key: every step, claim and release runs it.
_LOCKED_TASK = (
    select(HumanTask)
    .join(HumanTask.instance)
    .options(
        # row.instance holds it (the answer reads its form), with its version (the engine's spec)
        contains_eager(HumanTask.instance).joinedload(ProcessInstance.version, innerjoin=True),
        joinedload(HumanTask.ticket),  # the step's ticket, held for the whole step: no SELECT later
    )
    .where(HumanTask.id == bindparam("task_id"))
    .execution_options(populate_existing=True)
)
_LOCKED_TASK_PG = _LOCKED_TASK.with_for_update(of=(HumanTask, ProcessInstance))


def _locked_ready_task(session: Session, task_id: int) -> tuple[HumanTask, ProcessInstance]:
    """The task row and its instance, both locked, read fresh, in one statement.

    PostgreSQL locks both rows (``FOR UPDATE OF``), so the task's state is the one
    committed last, as a second ``SELECT`` after locking the instance used to ensure.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    row = session.scalars(_LOCKED_TASK_PG if postgresql else _LOCKED_TASK, {"task_id": task_id}).first()
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在 / no task {task_id}")
    instance = row.instance
    if row.state != TaskState.READY:
        who = row.completed_by or "系统"
        when = row.completed_at.isoformat() if row.completed_at else ""
        state = "已完成" if row.state == TaskState.COMPLETED else "已取消"
        raise Conflict(
            f"该任务{state}：已由 {who} 于 {when} 处理 / task already done by {who}",
            by=row.completed_by,
            at=row.completed_at,
        )
    return row, instance


def complete(session: Session, task_id: int, data: dict, *, user: User) -> HumanTask:
    """Complete a user task with form data: the one function that moves a process forward."""
    row, instance = _locked_ready_task(session, task_id)
    tasks.check_may_do(user, row)
    return _complete(session, row, instance, data, actor=user.username, user=user)


def complete_for_channel(session: Session, task_id: int, data: dict, *, actor: str) -> HumanTask:
    """A channel completes a step of a ticket it raised (an alarm classifies and resolves its own).

    The channel authenticated its sender itself; everything else is ``complete``'s path.
    """
    row, instance = _locked_ready_task(session, task_id)
    return _complete(session, row, instance, data, actor=actor)


def _complete(
    session: Session, row: HumanTask, instance: ProcessInstance, data: dict, *, actor: str, user: User | None = None
) -> HumanTask:
    workflow = load(instance)
    task = tasks.find_task(workflow, row.task_guid)
    if task is None or task.state != SpiffState.READY:
        raise Conflict("该任务已不在待办状态 / task is no longer ready")
    defs = forms.field_defs(getattr(task.task_spec, "form", None))
    values = forms.validate(session, defs, sandbox.strip_reserved(data or {}))
    # held for the whole step (read with the lock): the answer reads its number
    ticket = row.ticket if row.ticket_id is not None else _ticket_of(session, instance)
    prefetched = Prefetched(tickets={instance.id: ticket},
                            open_rows={instance.id: list(session.scalars(tasks.open_rows_of([instance.id])))})
    if ticket is not None:  # a step done on a paused ticket ends the pause first (issue 10)
        pauses.resume_open(session, ticket, workflow, actor=actor)
    task.data.update(values)
    task.run()
    at = now()
    row.state = TaskState.COMPLETED
    row.completed_by = actor
    row.completed_at = at
    if not row.assignee:
        row.assignee = actor
    fired = run_steps(workflow)
    save(session, instance, workflow, actor=actor, sla_events=fired, continued_by=(user, row) if user else None,
         prefetched=prefetched)
    audit.record(session, "complete", actor=actor, instance_id=instance.id, ticket_id=row.ticket_id,
                 task_id=row.id, bpmn_id=row.bpmn_id, name=row.name, data=values)
    if row.ticket_id is not None and _opens_complaint(defs, values):
        open_complaint(session, row.ticket_id, actor=actor, reason=str(values.get("review_reason") or ""))
    return row


def _opens_complaint(defs, values: dict) -> bool:
    """A form field with the property ``opens_complaint`` whose answer equals it (the lead's "转为投诉")."""
    for fd in defs:
        wanted = dict(fd.properties).get("opens_complaint")
        if wanted and values.get(fd.id) == wanted:
            return True
    return False


def open_complaint(session: Session, ticket_id: int, *, actor: str, reason: str) -> Ticket:
    """Register a complaint about a ticket as its own complaint ticket that names it (004 §4.1).

    ``actor`` is whoever decided so on the step (a lead); the complaint is received on their behalf.
    """
    about = session.get(Ticket, ticket_id)
    data = {
        "type": "complaint", "channel": about.channel or "phone", "title": f"投诉：{about.title}"[:200],
        "description": reason or f"对工单 {about.number} 的处理不满意", "reporter_name": about.reporter_name,
        "organisation": about.organisation, "phone": about.phone, "email": about.email,
        "occurred_at": now().isoformat(), "complaint_about": about.number,
    }  # fmt: skip
    complaint = receive(session, data, actor=actor)
    audit.record(session, "open_complaint", actor=actor, instance_id=about.instance_id, ticket_id=about.id,
                 name=complaint.number, data={"complaint": complaint.number, "reason": reason})
    return complaint


def claim(session: Session, task_id: int, *, user: User) -> HumanTask:
    """Take a group task into one's own inbox; a task someone already holds stays theirs.

    Claiming a task the process assigned to oneself changes nothing: it stays the
    process's assignment (``claimed`` false), which ``unclaim`` never gives away.
    """
    row, _instance = _locked_ready_task(session, task_id)
    tasks.check_may_do(user, row)
    if row.assignee == user.username:
        return row
    if row.assignee and not row.claimed:
        raise Forbidden(f"该任务由流程指派给 {row.assignee}，只有组长可以改派 / "
                        f"the process assigned this task to {row.assignee}; only a desk lead can reassign it")
    if row.assignee:
        raise Conflict(f"该任务已由 {row.assignee} 认领 / already claimed by {row.assignee}", by=row.assignee)
    row.assignee = user.username
    row.claimed = True
    _touch_ticket_assignee(session, row)
    audit.record(session, "claim", actor=user.username, instance_id=row.instance_id, ticket_id=row.ticket_id,
                 task_id=row.id, bpmn_id=row.bpmn_id, name=row.name)
    return row


def unclaim(session: Session, task_id: int, *, user: User) -> HumanTask:
    """Give a claimed task back to its group (the claimer, a lead or an admin).

    A task the process assigned (``camunda:assignee``) never goes back to the group,
    where anyone could claim it: only a lead's reassignment (``handling.reassign``,
    with a reason, audited) gives it to someone else.
    """
    row, _instance = _locked_ready_task(session, task_id)
    if row.assignee and not row.claimed:
        raise Forbidden(f"该任务由流程指派给 {row.assignee}，不能退回组内；请组长改派 / "
                        f"the process assigned this task to {row.assignee}; it cannot go back to the group "
                        f"— a desk lead can reassign it")
    if not row.assignee:
        raise Invalid("该任务没有人认领 / nobody has claimed this task")
    if row.assignee != user.username and not user.has_role("lead", "admin"):
        raise Forbidden(f"该任务由 {row.assignee} 认领 / claimed by {row.assignee}")
    row.assignee = None
    row.claimed = False
    _touch_ticket_assignee(session, row)
    audit.record(session, "unclaim", actor=user.username, instance_id=row.instance_id, ticket_id=row.ticket_id,
                 task_id=row.id, bpmn_id=row.bpmn_id, name=row.name)
    return row


def assign(session: Session, task_id: int, assignee: str, *, user: User) -> HumanTask:
    """A lead or admin gives an open task to one person who may do it (the inbox's bulk assignment).

    The task counts as claimed by them, so they (or a lead) can give it back to the group.
    A task the process assigned is refused: it changes hands only by ``handling.reassign``,
    which asks for a reason.
    """
    if not user.has_role("lead", "admin"):
        raise Forbidden("只有组长和管理员可以分派任务 / only leads and admins assign tasks")
    row, _instance = _locked_ready_task(session, task_id)
    if row.assignee and not row.claimed:
        raise Forbidden(f"该任务由流程指派给 {row.assignee}，请在工单页改派并写明原因 / the process assigned this "
                        f"task to {row.assignee}; reassign it on the ticket's page, with a reason")
    target = session.scalars(select(User).where(User.username == assignee, User.active.is_(True))).first()
    if target is None:
        raise Invalid(f"没有用户 {assignee} / no user {assignee}", fields={"assignee": [assignee]})
    if not tasks.eligible(target, row):
        raise Invalid(f"{assignee} 不能处理“{row.name}” / {assignee} may not do this task", fields={"assignee": [assignee]})
    row.assignee = target.username
    row.claimed = True
    _touch_ticket_assignee(session, row)
    audit.record(session, "assign", actor=user.username, instance_id=row.instance_id, ticket_id=row.ticket_id,
                 task_id=row.id, bpmn_id=row.bpmn_id, name=row.name, data={"assignee": target.username})
    return row


def _touch_ticket_assignee(session: Session, row: HumanTask) -> None:
    if row.ticket_id is not None:
        ticket = session.get(Ticket, row.ticket_id)
        if ticket is not None:
            ticket.assignee = row.assignee
    session.flush()


def fire_timers(session: Session, instance_id: int, *, actor: str = "timer") -> bool:
    """Fire whatever timers of this instance are due; False when there was nothing to do."""
    return fire_locked(session, lock(session, instance_id), actor=actor)


def fire_locked(session: Session, instance: ProcessInstance, *, actor: str = "timer",
                prefetched: Prefetched | None = None) -> bool:
    """``fire_timers`` for an instance this transaction has already locked.

    The timer worker claims a batch of due instances with one ``SELECT … FOR UPDATE
    SKIP LOCKED`` (``timers.claim_batch``) and fires each through here, without
    selecting it a second time, with what ``prefetch`` read for the batch. A wake
    where only SLA marks and clocks are due is done in SQL, without the workflow
    (``sla_marks.wake``).
    """
    if instance.status != InstanceStatus.RUNNING or instance.next_timer_at is None or instance.next_timer_at > now():
        return False
    if sla_marks.wake(session, instance, actor=actor):
        return True
    fired: list[tuple[str, str]] = []
    workflow = load(instance, marks=fired)
    fired += run_steps(workflow)
    ticket = save(session, instance, workflow, actor=actor, sla_events=fired, prefetched=prefetched)
    audit.record(session, "timer", actor=actor, instance_id=instance.id, ticket_id=ticket.id if ticket else None,
                 data={"fired": [f"{name}:{level}" for name, level in fired]})
    return True


def retry(session: Session, instance_id: int, *, user: User) -> ProcessInstance:
    """Run a failed instance's steps again, after an admin fixed the cause (admins only).

    The timer worker parks an instance whose step fails (``status`` error, the reason in
    ``last_error``). Once the cause is fixed — the instance migrated to a corrected
    version, a rule table redeployed — this runs its steps through the same write path.
    Failing again raises; the caller rolls back and records the new reason.
    """
    if not user.has_role("admin"):
        raise Forbidden("只有管理员可以重试实例 / only admins retry instances")
    instance = lock(session, instance_id)
    if instance.status != InstanceStatus.ERROR:
        raise Conflict(f"实例 {instance_id} 没有出错（{instance.status}）/ instance {instance_id} is not in error")
    workflow = load(instance)
    fired = run_steps(workflow)
    instance.status = InstanceStatus.RUNNING
    ticket = save(session, instance, workflow, actor=user.username, sla_events=fired)
    audit.record(session, "retry", actor=user.username, instance_id=instance.id,
                 ticket_id=ticket.id if ticket else None, data={"fired": [f"{n}:{lv}" for n, lv in fired]})
    return instance


def get(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"流程实例 {instance_id} 不存在 / no instance {instance_id}")
    return instance
