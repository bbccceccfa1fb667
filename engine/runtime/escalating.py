"""故障升级: a breach that rules/sla.dmn names raises the priority one level and re-plans the clocks.

sla.dmn's output ``breach_raises`` names the clock (e.g. ``"resolution"``) whose
breach escalates the ticket; empty means never. When that clock's breach timer
fires, before the step is saved:

1. the priority goes up one level (P4 → P3 → P2 → P1), once per clock per ticket
   (the clock is remembered in ``raised_on_breach`` in the process data);
2. sla.dmn is evaluated again, from the process's own deployed decision table,
   with the new priority: new minutes and calendar for every clock;
3. every clock still running other than the one that breached is re-planned
   from its own start with the new targets (``{clock}_due``/``{clock}_warn_at``
   in the data, and its waiting boundary timers re-armed; a clock parked by a
   pause stays parked and moves on resume). A re-planned clock already past its
   new due breaches on the next timer round, as it should.

The projection then shows the new priority and due times, and the customer is
told of the escalation (``notifications.after_step``).
"""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState as SpiffState

from ..desk import pauses
from ..desk.tickets import SLAS
from .sandbox import sla_due

PRIORITIES = ("P4", "P3", "P2", "P1")
WARN_SHARE = 0.75
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


def raise_on_breach(workflow, sla_events: list[tuple[str, str]], data: dict) -> str | None:
    """Raise the priority for a breach sla.dmn names; returns the new priority, or None when nothing changed."""
    clock = data.get("breach_raises") or ""
    if not clock or (clock, "breach") not in set(sla_events):
        return None
    raised = list(data.get("raised_on_breach") or [])
    old = data.get("priority")
    if clock in raised or old not in PRIORITIES[:-1]:
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
    updates = {**targets, "priority": new, "raised_on_breach": raised + [clock]}
    replanned = {}
    for name, (start_var, stop_var) in SLAS.items():
        minutes = targets.get(f"{name}_minutes")
        if name == clock or not data.get(f"{name}_due") or not data.get(start_var) or data.get(stop_var):
            continue
        if minutes is None:
            continue
        calendar = targets.get("sla_calendar") or data.get("sla_calendar")
        updates[f"{name}_due"] = replanned[f"{name}_due"] = sla_due(minutes, calendar, data[start_var])
        updates[f"{name}_warn_at"] = replanned[f"{name}_warn_at"] = sla_due(minutes * WARN_SHARE, calendar,
                                                                            data[start_var])
    for task in live:
        task.data.update(updates)
    for task, name, level in pauses.sla_timers(workflow, {key.rsplit("_", 1)[0] for key in replanned if key.endswith("_due")}):
        key = f"{name}_due" if level == "breach" else f"{name}_warn_at"
        if key in replanned and task._get_internal_data("event_value") != pauses.PARKED:
            task._set_internal_data(event_value=replanned[key])
    return new
