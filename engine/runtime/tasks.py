"""Human tasks: the rows the inbox reads, who may do them, and keeping them in step.

After every step the write path calls ``sync``: READY user tasks in the workflow
get a row; rows whose task moved on become COMPLETED or CANCELLED. The inbox
queries rows only; it never deserializes a workflow.

Who may take an open task is also kept as ``task_candidate`` rows (one per role
or user, only while the task is READY), because the JSON lists on the row cannot
be indexed: with 100,000 open tasks the inbox must filter, sort and page in SQL
(``inbox_page``), never load every READY row to pick a page in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import and_, bindparam, delete, event, func, insert, inspect, or_, select, text, union, update
from sqlalchemy.orm import Session, contains_eager

from ..clock import now
from ..errors import Forbidden, Invalid, NotFound
from ..models import OPEN_TICKET_SORTS, HumanTask, ProcessInstance, ProcessVersion, Role, TaskCandidate, TaskState, Ticket, User

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


# --- task_candidate rows: kept in step by the flush, whoever changes the task ---


def _candidate_rows(row: HumanTask) -> list[dict]:
    """What ``task_candidate`` must hold for a row: its roles and users while READY and nobody holds it.

    A task someone holds (assigned by the process, claimed, assigned or reassigned by a
    lead, kept by whoever did the previous step) is offered to no group, so it has none:
    a group's inbox is then one walk of the candidate index, with no open task of the
    group read to find out it is taken.
    """
    if row.state != TaskState.READY or row.assignee:
        return []
    wanted = [("role", code) for code in dict.fromkeys(row.roles or [])]
    wanted += [("user", name) for name in dict.fromkeys(row.candidate_users or [])]
    return [{"task_id": row.id, "kind": kind, "code": code, "due_at": row.due_at, "ticket_id": row.ticket_id}
            for kind, code in wanted]


_CANDIDATE_FIELDS = ("state", "assignee", "roles", "candidate_users", "ticket_id")


@event.listens_for(HumanTask, "after_insert")
def _candidates_of_new_task(_mapper, connection, row: HumanTask) -> None:
    """A new row's candidates, in the same flush (one statement; none for a held or finished task)."""
    rows = _candidate_rows(row)
    if rows:
        connection.execute(insert(TaskCandidate.__table__), rows)


@event.listens_for(HumanTask, "after_update")
def _candidates_of_changed_task(_mapper, connection, row: HumanTask) -> None:
    """Rewrite a row's candidates when its assignee, state or candidates changed; move their due time with it.

    This is the one place that keeps ``task_candidate`` in step: claim, unclaim,
    complete, a lead's (re)assignment, the process assigning the next step, ``sync``
    closing rows, a migration re-describing them all only set the row's attributes.
    """
    state = inspect(row)
    table = TaskCandidate.__table__
    if any(state.attrs[name].history.has_changes() for name in _CANDIDATE_FIELDS):
        connection.execute(delete(table).where(table.c.task_id == row.id))
        rows = _candidate_rows(row)
        if rows:
            connection.execute(insert(table), rows)
    elif state.attrs.due_at.history.has_changes() and row.state == TaskState.READY and not row.assignee:
        connection.execute(update(table).where(table.c.task_id == row.id).values(due_at=row.due_at))


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


def open_rows_of(instance_ids: list[int]):
    """The READY task rows of these instances (a statement)."""
    return (select(HumanTask).where(HumanTask.instance_id.in_(instance_ids), HumanTask.state == TaskState.READY)
            .order_by(HumanTask.id))


def sync(
    session: Session,
    instance: ProcessInstance,
    workflow,
    *,
    actor: str,
    ticket: Ticket | None = None,
    continued_by: tuple[User, HumanTask] | None = None,
    ready_tasks: list | None = None,
    open_rows: list[HumanTask] | None = None,
) -> list[HumanTask]:
    """Bring the human_task rows of an instance in line with the workflow; return the READY rows.

    ``ready_tasks``: ``ready_user_tasks(workflow)`` when the caller has it already; ``open_rows``:
    the instance's READY rows, when the caller read them before the step (``instances.Prefetched``).

    ``continued_by`` is (the person, the step they just did): a new step for the same
    group that the person belongs to stays with them, claimed. The agent who registers
    a call classifies it and tries the online fix without claiming each step from
    the group inbox; they can still release it. A step for another group (the
    lead's close after the agent's callback) goes to that group as before.
    """
    if open_rows is None:
        open_rows = list(session.scalars(open_rows_of([instance.id])))
    open_rows = {row.task_guid: row for row in open_rows}
    at = now()
    ready = []
    for task in ready_user_tasks(workflow) if ready_tasks is None else ready_tasks:
        guid = str(task.id)
        if guid in open_rows:
            row = open_rows.pop(guid)
            row.due_at = _timer_due(task) or row.due_at  # the flush moves the candidates' due time too
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


def eligible(user: User, task: HumanTask) -> bool:
    """Whether ``user`` is one the task may be given to, whoever holds it now (admins always)."""
    if user.has_role("admin") or user.username in (task.candidate_users or []):
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


PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
SCOPES = ("mine", "group", "all")
# sort key → column; the ticket's columns need the ticket joined
SORTS = {
    "due": HumanTask.due_at,
    "created": HumanTask.created_at,
    "task": HumanTask.name,
    "ticket": Ticket.number,
    "type": Ticket.type,
    "priority": Ticket.priority,
    "organisation": Ticket.organisation,
    "assignee": HumanTask.assignee,
    "sla_due": Ticket.sla_due_at,
    "ticket_created": Ticket.accepted_at,
}
TICKET_FILTERS = {"type": Ticket.type, "priority": Ticket.priority, "organisation": Ticket.organisation}


@dataclass
class Page:
    """One page of a list: its rows, how many match in all, and where it is."""

    rows: list
    total: int  # at most COUNT_CAP; ``total_exact`` says whether there are more
    page: int
    per_page: int
    total_exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


COUNT_CAP = 1_000


def _reach(user: User, scope: str) -> str:
    """Which open tasks ``user`` sees in ``scope`` (the rule of ``may_do``): ``mine``, ``group`` or ``every``."""
    if scope == "mine":
        return "mine"
    if scope == "all" and user.has_role("lead", "admin") or user.has_role("admin"):
        return "every"
    return "group"


def _parts(user: User, reach: str) -> list[tuple[tuple[str, str] | None, list]]:
    """The parts of what ``user`` sees (``reach``, from ``_reach``): (candidate, conditions) each.

    ``group`` is "assigned to me" plus, for each of my roles (and my name), "unassigned
    and offered to it", read from ``task_candidate`` in due order. The parts are
    queried apart and put together: each walks an index in the list's order and
    stops when a page is full, where one ``OR`` made PostgreSQL read and sort every
    open task.
    """
    if reach == "mine":
        return [(None, [HumanTask.assignee == user.username])]
    if reach == "every":
        return [(None, [])]
    offered = [("role", code) for code in sorted(user.role_codes)] + [("user", user.username)]
    return [(None, [HumanTask.assignee == user.username])] + [(c, [HumanTask.assignee.is_(None)]) for c in offered]


def _wrapped(limited):
    """A limited select as a plain one (SQLite allows no LIMIT inside a UNION's parts)."""
    inner = limited.subquery()
    return select(inner.c.id)


def inbox_page(
    session: Session,
    user: User,
    *,
    scope: str = "mine",
    ticket: str | None = None,
    instance_id: int | None = None,
    filters: dict[str, str] | None = None,
    sort: str = "due",
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> Page:
    """One page of READY tasks a user sees, filtered, sorted and counted in SQL.

    ``mine``: assigned to or claimed by the user; ``group``: the user's own and
    the unassigned tasks of their roles (or naming them); ``all``: every open
    task (leads and admins; others get ``group``). ``sort`` is a key of ``SORTS``,
    ``-`` in front for descending; ties go by due time, then id. ``filters``:
    ``type``, ``priority``, ``organisation`` (the ticket's) and ``stage`` (BPMN id).
    The total is counted up to ``COUNT_CAP`` ("1000+"): counting every open task
    of a busy group cost more than the page.
    """
    if scope not in SCOPES:
        raise Invalid("scope 应为 mine、group 或 all / scope must be mine, group or all", fields={"scope": [scope]})
    key = sort.lstrip("-")
    if key not in SORTS:
        raise Invalid(f"无法按 {sort} 排序 / cannot sort by {sort}", fields={"sort": [sort]})
    if not 1 <= per_page <= MAX_PAGE_SIZE:
        raise Invalid(f"每页条数应在 1 到 {MAX_PAGE_SIZE} 之间 / per_page must be 1 to {MAX_PAGE_SIZE}",
                      fields={"per_page": [str(per_page)]})
    page = max(1, page)
    filters = {name: value for name, value in (filters or {}).items() if value}
    stage = [HumanTask.bpmn_id == filters["stage"]] if filters.get("stage") else []
    ticket_filters = [TICKET_FILTERS[name] == value for name, value in filters.items() if name in TICKET_FILTERS]
    column = SORTS[key]
    order = [column.desc() if sort.startswith("-") else column.asc()]
    if key == "due":
        order = [order[0].nulls_last()]  # tasks without a deadline last, as the index stores them
    order += [HumanTask.due_at.asc().nulls_last(), HumanTask.id]
    sees = _reach(user, scope)
    every = sees == "every"
    if (ticket or instance_id) and not (every and key in OPEN_TICKET_SORTS):
        return _narrowed(session, user, sees, ticket=ticket, instance_id=instance_id, extra=stage + ticket_filters,
                         order=None if sort == "due" else order, page=page, per_page=per_page)
    conditions = [HumanTask.state == TaskState.READY]
    if instance_id:
        conditions.append(HumanTask.instance_id == instance_id)
    conditions += stage
    ticket_conditions = ticket_filters + ([Ticket.number == ticket] if ticket else [])
    joined = bool(ticket_conditions) or column.class_ is Ticket

    def base(*columns):
        stmt = select(*columns).where(*conditions)
        if joined:
            stmt = stmt.outerjoin(Ticket, Ticket.id == HumanTask.ticket_id).where(*ticket_conditions)
        return stmt

    parts = _parts(user, sees)
    reach = page * per_page  # each part needs at most this many rows in the list's order

    plain = not joined and len(conditions) == 1  # no filter beyond READY

    def part(candidate, where, *, ordered: bool):
        if candidate is not None and plain and key == "due" and not sort.startswith("-"):
            # the default group inbox: one walk of the candidate index, nothing else read
            stmt = select(TaskCandidate.task_id.label("id")).where(
                TaskCandidate.kind == candidate[0], TaskCandidate.code == candidate[1])
            return stmt.order_by(TaskCandidate.due_at.asc().nulls_last(), TaskCandidate.task_id) if ordered else stmt
        stmt = base(HumanTask.id).where(*where)
        part_order = order
        if candidate is not None:
            stmt = stmt.join(TaskCandidate, TaskCandidate.task_id == HumanTask.id).where(
                TaskCandidate.kind == candidate[0], TaskCandidate.code == candidate[1])
            if key == "due" and not sort.startswith("-"):  # the candidate index's own order
                part_order = [TaskCandidate.due_at.asc().nulls_last(), TaskCandidate.task_id]
        return stmt.order_by(*part_order) if ordered else stmt

    if every and key in OPEN_TICKET_SORTS:
        return _all_by_ticket(session, conditions, ticket_conditions, key, sort.startswith("-"), page, per_page)
    if len(parts) == 1 and parts[0][0] is None:
        stmt = base(HumanTask).where(*parts[0][1])
        counted = base(HumanTask.id).where(*parts[0][1]).limit(COUNT_CAP + 1)
    else:
        ids = union(*(_wrapped(part(c, w, ordered=True).limit(reach)) for c, w in parts)).subquery()
        stmt = select(HumanTask).where(HumanTask.id.in_(select(ids.c.id)))
        if joined:
            stmt = stmt.outerjoin(Ticket, Ticket.id == HumanTask.ticket_id)
        counted = union(*(_wrapped(part(c, w, ordered=True).limit(COUNT_CAP + 1)) for c, w in parts))
    rows = list(session.scalars(stmt.order_by(*order).offset((page - 1) * per_page).limit(per_page)))
    if len(rows) < per_page and (rows or page == 1):
        total = (page - 1) * per_page + len(rows)  # a short page is the last one: no count needed
    else:
        total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    return Page(rows, min(total, COUNT_CAP), page, per_page, total <= COUNT_CAP)


# A list narrowed to one ticket or instance, by its shape (who sees what, narrowed by what):
# the statement and its conditions, built once with bind parameters. Building them per call
# (the visibility's ``EXISTS``, the joins, the loader options, the cache key) cost ~1 ms of
# the ~1.4 ms such a list takes, and the scripts stepping through a ticket ask for one before
# every step.
_NARROWED: dict[tuple[str, bool, bool], tuple] = {}
_DUE_ORDER = (HumanTask.due_at.asc().nulls_last(), HumanTask.id)  # what ``inbox_page``'s default sort comes to


def _narrowed_statement(reach: str, by_ticket: bool, by_instance: bool) -> tuple:
    """(statement in due order, paged; statement unordered; its conditions) for one shape of narrowed list."""
    key = (reach, by_ticket, by_instance)
    built = _NARROWED.get(key)
    if built is not None:
        return built
    conditions = [HumanTask.state == TaskState.READY]
    if by_instance:
        conditions.append(HumanTask.instance_id == bindparam("instance_id"))
    if by_ticket:
        conditions.append(Ticket.number == bindparam("number"))
    if reach != "every":  # ``_parts`` as one condition: mine, or nobody holds it and it is offered to me
        mine = HumanTask.assignee == bindparam("me")
        if reach == "group":
            offered = select(TaskCandidate.task_id).where(
                TaskCandidate.task_id == HumanTask.id,
                or_(and_(TaskCandidate.kind == "role", TaskCandidate.code.in_(bindparam("roles", expanding=True))),
                    and_(TaskCandidate.kind == "user", TaskCandidate.code == bindparam("me"))),
            ).exists()
            mine = or_(mine, and_(HumanTask.assignee.is_(None), offered))
        conditions.append(mine)
    # each row with its ticket's number and its instance's version in the same statement
    # (``row.ticket``, ``row.instance.version``, those columns alone): what such a list answers with
    unordered = (
        select(HumanTask)
        .outerjoin(Ticket, Ticket.id == HumanTask.ticket_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        .where(*conditions)
        .options(contains_eager(HumanTask.ticket).load_only(Ticket.number).lazyload(Ticket.clocks),
                 contains_eager(HumanTask.instance).load_only(ProcessInstance.version_id)
                 .contains_eager(ProcessInstance.version).load_only(ProcessVersion.content_hash))
    )
    by_due = (unordered.order_by(*_DUE_ORDER)
              .offset(bindparam("offset")).limit(bindparam("limit")))
    built = _NARROWED[key] = (by_due, unordered, conditions)
    return built


def _narrowed(session: Session, user: User, reach: str, *, ticket: str | None, instance_id: int | None,
              extra: list, order: list | None, page: int, per_page: int) -> Page:
    """A list narrowed to one ticket or instance (the scripts stepping through a ticket): one plain statement.

    Its few tasks need none of the index walks of ``inbox_page``'s parts: who sees
    them (``reach``, from ``_reach``) is one condition. The default (due order, no filter) runs a statement built
    once (``_narrowed_statement``); ``extra`` filters or another ``order`` are added to it.
    """
    by_due, unordered, conditions = _narrowed_statement(reach, bool(ticket), bool(instance_id))
    params = {"offset": (page - 1) * per_page, "limit": per_page}
    if ticket:
        params["number"] = ticket
    if instance_id:
        params["instance_id"] = instance_id
    if reach != "every":
        params["me"] = user.username
    if reach == "group":
        params["roles"] = sorted(user.role_codes)
    stmt = by_due
    if extra or order is not None:
        stmt = unordered.where(*extra).order_by(*(order or _DUE_ORDER))
        stmt = stmt.offset(bindparam("offset")).limit(bindparam("limit"))
    rows = list(session.scalars(stmt, params))
    if len(rows) < per_page and (rows or page == 1):
        total = (page - 1) * per_page + len(rows)
    else:
        counted = (select(HumanTask.id).outerjoin(Ticket, Ticket.id == HumanTask.ticket_id)
                   .where(*conditions, *extra).limit(COUNT_CAP + 1))
        total = session.scalar(select(func.count()).select_from(counted.subquery()), params) or 0
    return Page(rows, min(total, COUNT_CAP), page, per_page, total <= COUNT_CAP)


_OPEN = text("ticket.status <> 'closed'")  # as the partial indexes say it (a literal, so every plan uses them)


def _all_by_ticket(session: Session, conditions: list, ticket_conditions: list, key: str, descending: bool,
                   page: int, per_page: int) -> Page:
    """Every open task sorted by a column of its ticket (the lead's list): priority, SLA due, created, number.

    Driven from the ticket side: one partial index per sort (``ix_ticket_open_*``:
    the column and the ticket id, open tickets only) is walked in order, each
    ticket's READY tasks found by their ticket id, and the walk stops when the page
    is full; joining every open task to its ticket and sorting took 430 ms at
    100,000 open tickets. Ties go by ticket id (in the same direction, so the index
    serves them), then task id. Tasks of processes without a ticket have no such
    column and are not in these sorts (the task-column sorts list them).
    """
    column = SORTS[key]
    order = [column.desc(), Ticket.id.desc()] if descending else [column.asc(), Ticket.id.asc()]

    def base(*columns):
        return (select(*columns).join(Ticket, Ticket.id == HumanTask.ticket_id)
                .where(_OPEN, *conditions, *ticket_conditions))

    # a READY task's ticket is never closed (closing ends the process): without a ticket filter the
    # count needs no join (hashing every open ticket for it cost more than the page)
    counted = base(HumanTask.id) if ticket_conditions else select(HumanTask.id).where(
        HumanTask.ticket_id.is_not(None), *conditions)
    total = session.scalar(select(func.count()).select_from(counted.limit(COUNT_CAP + 1).subquery())) or 0
    if session.get_bind().dialect.name == "postgresql":
        # The planner cannot know that about one open ticket in one has a READY task (it guesses
        # one in eleven from the join's statistics), so past the first pages it starts parallel
        # workers for the walk: ~10 ms of their start-up for a 1 ms walk at a million tickets.
        # Off for the rest of this transaction (a list request's: nothing in it wants them).
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    rows = session.scalars(base(HumanTask).order_by(*order, HumanTask.id).offset((page - 1) * per_page).limit(per_page))
    return Page(list(rows), min(total, COUNT_CAP), page, per_page, total <= COUNT_CAP)


def inbox(
    session: Session,
    user: User,
    *,
    scope: str = "mine",
    ticket: str | None = None,
    instance_id: int | None = None,
) -> list[HumanTask]:
    """The first page (at most ``MAX_PAGE_SIZE``) of ``inbox_page``, soonest due first."""
    return inbox_page(
        session, user, scope=scope, ticket=ticket, instance_id=instance_id, per_page=MAX_PAGE_SIZE
    ).rows


def spec_of(task: HumanTask):
    """The task's spec in its instance's own version (the inbox needs no workflow for this)."""
    from . import definitions

    spec, subprocess_specs = definitions.specs_of(task.instance.version)
    process = spec if spec.name == task.process_id else subprocess_specs.get(task.process_id)
    return process.task_specs.get(task.bpmn_id) if process is not None else None


def forms_of(session: Session, rows: list[HumanTask]) -> dict[int, list]:
    """Each row's form fields by row id, in at most one small query for any number of rows.

    A form depends only on (version, process, step), so it is built once per such
    step from the cached spec; the instances' stored states are never loaded. The
    version of an instance the session already holds with it (the write path's, a
    new ticket's, a narrowed list's rows) is taken from there; the others' are read
    in one statement, their id and hash only.
    """
    from . import definitions, forms

    version_of = {}  # instance id -> (version id, content hash)
    for row in rows:
        if row.instance_id not in version_of:
            held = _held_version(session, row.instance_id)
            if held is not None:
                version_of[row.instance_id] = held
    missing = {r.instance_id for r in rows} - version_of.keys()
    if missing:
        stmt = (select(ProcessInstance.id, ProcessVersion.id, ProcessVersion.content_hash)
                .join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
                .where(ProcessInstance.id.in_(missing)))
        version_of.update((iid, (vid, digest)) for iid, vid, digest in session.execute(stmt))
    built: dict[tuple, list] = {}
    result = {}
    for row in rows:
        key = (*version_of[row.instance_id], row.process_id, row.bpmn_id)
        if key not in built:
            spec, subprocess_specs = definitions.specs_by_id(session, key[0], key[1])
            process = spec if spec.name == row.process_id else subprocess_specs.get(row.process_id)
            task_spec = process.task_specs.get(row.bpmn_id) if process is not None else None
            built[key] = forms.field_defs(getattr(task_spec, "form", None))
        result[row.id] = built[key]
    return result


def _held_version(session: Session, instance_id: int) -> tuple[int, str] | None:
    """(version id, content hash) of an instance the session holds loaded, with its version; else None.

    Only loaded attributes are read (``__dict__``): an expired object would read itself again.
    """
    instance = session.identity_map.get(session.identity_key(ProcessInstance, instance_id))
    version_id = instance.__dict__.get("version_id") if instance is not None else None
    if version_id is None:
        return None
    version = instance.__dict__.get("version")
    if version is None:
        version = session.identity_map.get(session.identity_key(ProcessVersion, version_id))
    if version is None or version.__dict__.get("id") != version_id or "content_hash" not in version.__dict__:
        return None
    return version_id, version.content_hash


def form_of(task: HumanTask) -> list:
    """The task's form fields (``engine.forms.FieldDef``), from its version's spec."""
    from . import forms

    return forms.field_defs(getattr(spec_of(task), "form", None))
