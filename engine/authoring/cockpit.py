"""The admins' cockpit: where a version's running instances stand, and which ones failed.

Everything here is SQL over the rows the write path keeps (``human_task`` and
``process_instance``); no workflow is deserialized, so the counts stay cheap with
many instances. A READY human task is where a running instance waits for a person;
an instance in ``error`` (a timer step whose script failed) carries its reason in
``last_error`` until an admin retries it (``engine.runtime.instances.retry``) after
fixing the cause, for example by migrating it to a corrected version.

Called processes (``ticket_resolution``, ``complaint``) never have instances of their
own: they run inside the desk's instances. ``called_runs`` counts those.
"""

from __future__ import annotations

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from ..models import HumanTask, InstanceStatus, ProcessInstance, ProcessVersion, TaskState, Ticket

__all__ = ["called_runs", "failed", "positions"]


def positions(session: Session, version: ProcessVersion) -> dict[str, dict[str, int]]:
    """{BPMN process id: {element id: running instances waiting there}} for one version."""
    rows = session.execute(
        select(HumanTask.process_id, HumanTask.bpmn_id, func.count(distinct(HumanTask.instance_id)))
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            ProcessInstance.version_id == version.id,
            ProcessInstance.status == InstanceStatus.RUNNING,
            HumanTask.state == TaskState.READY,
        )
        .group_by(HumanTask.process_id, HumanTask.bpmn_id)
    )
    counts: dict[str, dict[str, int]] = {}
    for process_id, bpmn_id, count in rows:
        counts.setdefault(process_id, {})[bpmn_id] = count
    return counts


def failed(session: Session, key: str | None = None) -> list[tuple[ProcessInstance, str | None]]:
    """Instances in ``error`` (oldest first) with their ticket numbers; their reason is ``last_error``."""
    stmt = (
        select(ProcessInstance, Ticket.number)
        .outerjoin(Ticket, Ticket.instance_id == ProcessInstance.id)
        .where(ProcessInstance.status == InstanceStatus.ERROR)
        .order_by(ProcessInstance.updated_at, ProcessInstance.id)
    )
    if key:
        stmt = stmt.where(ProcessInstance.process_key == key)
    return [(instance, number) for instance, number in session.execute(stmt)]


def called_runs(session: Session) -> dict[str, dict[str, int]]:
    """{called process id: {"running" | "completed" | "error": runs}}: runs inside other processes.

    A called process shows up as the ``process_id`` of the human tasks it created in
    its caller's instance. A run is running while one of its steps is open, completed
    when none is (the caller went on: a ticket resolved online is a finished
    ticket_resolution, though the ticket still waits for its callback), and in error
    with its caller.
    """
    per_run = (
        select(HumanTask.process_id, HumanTask.instance_id, ProcessInstance.status,
               func.max(case((HumanTask.state == TaskState.READY, 1), else_=0)).label("open"))
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.process_id != ProcessInstance.process_key)
        .group_by(HumanTask.process_id, HumanTask.instance_id, ProcessInstance.status)
        .subquery()
    )
    state = case((per_run.c.status == InstanceStatus.ERROR, "error"), (per_run.c.open == 1, "running"),
                 else_="completed")
    runs: dict[str, dict[str, int]] = {}
    for process_id, status, count in session.execute(
        select(per_run.c.process_id, state, func.count()).group_by(per_run.c.process_id, state)
    ):
        runs.setdefault(process_id, {})[status] = count
    return runs
