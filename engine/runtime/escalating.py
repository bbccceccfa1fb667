"""故障升级: a breach that rules/sla.dmn names raises the priority one level and re-plans the clocks.

sla.dmn's output ``breach_raises`` names the clock (e.g. ``"resolution"``) whose
breach escalates the ticket; empty means never. When the projection
(``desk.clocks``) finds that clock breached while it still runs — the timer
worker woke the instance at its due time, or any step noticed it — the write
path (``instances.save``) calls :func:`raise_on_breach`:

1. the priority goes up one level (P4 → P3 → P2 → P1), once per clock per ticket
   (the clock is remembered in ``raised_on_breach`` in the process data);
2. sla.dmn is evaluated again, from the process's own deployed decision table,
   with the new priority: new targets and calendar for every clock;
3. the clocks that already stopped and the one that breached keep their targets
   (``sla_kept``), and every clock still running is re-planned from its own start
   with the new targets when the ticket is projected again; :func:`rearm` then moves
   the diagram's waiting SLA timers of those clocks to their new times (a clock a
   pause holds keeps its timers parked; they move on resume). A re-planned clock
   already past its new due breaches at once, as it should.

The projection then shows the new priority and due times, and the customer is
told of the escalation (``notifications.after_step``).
"""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState as SpiffState

from ..desk import clocks, pauses
from ..models import Ticket

PRIORITIES = ("P4", "P3", "P2", "P1")
LIVE = SpiffState.READY | SpiffState.WAITING | SpiffState.STARTED


def sla_engine(workflow):
    """The DMN engine of the SLA decision (the table with ``*_minutes`` and ``sla_calendar`` outputs), or None."""
    specs = [workflow.spec, *(sp.spec for sp in workflow.subprocesses.values())]
    for spec in specs:
        for task_spec in spec.task_specs.values():
            engine = getattr(task_spec, "dmnEngine", None)
            outputs = {o.name for o in getattr(getattr(engine, "decision_table", None), "outputs", [])}
            if {"resolution_minutes", "sla_calendar"} <= outputs:
                return engine
    return None


def raise_on_breach(workflow, ticket: Ticket, data: dict) -> str | None:
    """Raise the priority for a running clock's breach sla.dmn names; the new priority, or None."""
    name = data.get("breach_raises") or ""
    clock = ticket.clock(name) if name else None
    if clock is None or not clock.breached or clock.stopped_at is not None:
        return None
    raised = list(data.get("raised_on_breach") or [])
    old = data.get("priority")
    if name in raised or old not in PRIORITIES[:-1]:
        return None
    new = PRIORITIES[PRIORITIES.index(old) + 1]
    live = workflow.get_tasks(state=LIVE)
    engine = sla_engine(workflow)
    probe = next((t for t in live if t.state == SpiffState.READY), None) or (live[0] if live else None)
    if engine is None or probe is None:
        return None
    saved = probe.data.get("priority")
    probe.data["priority"] = new
    try:
        targets = engine.result(probe)
    finally:
        probe.data["priority"] = saved
    kept = dict(data.get("sla_kept") or {})
    for row in ticket.clocks:
        if row.name in clocks.BY_NAME and row.name not in kept and (row.stopped_at is not None or row.name == name):
            kept[row.name] = {"minutes": row.minutes, "calendar": row.calendar}
    updates = {**targets, "priority": new, "raised_on_breach": raised + [name], "sla_kept": kept}
    for task in live:
        task.data.update(updates)
    return new


def mark_raising(ticket: Ticket, data: dict) -> None:
    """Tell each clock whether its breach would raise the priority (``raise_on_breach``'s rule).

    The timer worker wakes an instance in SQL only when no such breach is due
    (``runtime.sla_marks``): raising changes the process data and the diagram's timers.
    """
    name = data.get("breach_raises") or ""
    raised = data.get("raised_on_breach") or []
    can_rise = data.get("priority") in PRIORITIES[:-1]
    for clock in ticket.clocks:
        clock.raises_on_breach = bool(name) and clock.name == name and name not in raised and can_rise


def rearm(workflow, ticket: Ticket) -> None:
    """Move the waiting SLA timers of the re-planned (running) clocks to their new warning and due times."""
    running = {c.name: c for c in ticket.clocks if c.stopped_at is None and not c.breached}
    values: dict[str, str] = {}
    for task, name, level in pauses.sla_timers(workflow, set(running)):
        if task._get_internal_data("event_value") == pauses.PARKED:
            continue
        moment = running[name].due_at if level == "breach" else running[name].warn_at
        if moment is None:
            continue
        key = f"{name}_due" if level == "breach" else f"{name}_warn_at"
        values[key] = moment.isoformat()
        task._set_internal_data(event_value=values[key])
    for task in workflow.get_tasks(state=LIVE):
        for key, value in values.items():
            if key in task.data:
                task.data[key] = value
