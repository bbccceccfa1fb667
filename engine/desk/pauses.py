"""The pause ledger (挂起): a back-line step waits for the customer or the vendor.

While a ticket is paused the clocks a pause stops (``PauseRule`` rows an admin
edits; by default ``DEFAULT_STOPPED``: resolution, and the emergency close clock
where a ticket has one) do not run:

* pausing *parks* those clocks' waiting boundary timers (warning and breach):
  their stored due value becomes ``PARKED``, so no warning or breach can fire and
  the instance's ``next_timer_at`` ignores them;
* resuming measures the paused time in each clock's own calendar
  (``calendars.working_minutes``: a pause over a night or a weekend on the
  business calendar costs no working time at all) and moves the due and warning
  times by exactly that much (``calendars.add_minutes``), in the process data and
  in the parked timers, which are re-armed with the new values; the clock's
  ``paused_seconds`` grows by the same amount, so KPIs can be read with and
  without pauses.

Every pause is a ``TicketPause`` row (from, to, by, reason, clocks, minutes),
shown on the ticket. The write-path functions that lock, load and save the
instance around these are in ``engine.runtime.pausing``; a step completed on a
paused ticket resumes it first (``resume_open`` from the one write path).
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Conflict, Forbidden, Invalid
from ..models import HumanTask, PauseRule, TaskState, Ticket, TicketPause, User
from . import audit, calendars

DEFAULT_STOPPED = frozenset({"resolution", "emergency_close"})
BACK_LINE_ROLES = frozenset({"pm", "engineer", "tech_support"})
PARKED = "9999-12-31T00:00:00+00:00"  # a due value no clock reaches: the timer waits for the resume
MAX_REASON = 2000


# --- which clocks a pause stops (data) ---------------------------------------------------


def stopped_clocks(session: Session) -> set[str]:
    """Clock names a pause stops: the admins' rules over the defaults."""
    rules = {r.clock: r.stops for r in session.scalars(select(PauseRule))}
    names = set(DEFAULT_STOPPED) | set(rules)
    return {name for name in names if rules.get(name, name in DEFAULT_STOPPED)}


def rules(session: Session) -> dict[str, bool]:
    """Every clock name the desk knows, and whether a pause stops it (for the settings page)."""
    from .tickets import SLAS  # the projection's clock names

    stopped = stopped_clocks(session)
    names = set(SLAS) | set(DEFAULT_STOPPED) | {r.clock for r in session.scalars(select(PauseRule))}
    return {name: name in stopped for name in sorted(names)}


def set_rule(session: Session, clock: str, stops: bool, *, user: User) -> PauseRule:
    clock = (clock or "").strip()
    if not clock or len(clock) > 30:
        raise Invalid("请填写时限名称 / name the clock", fields={"clock": ["必填 / required"]})
    row = session.get(PauseRule, clock) or PauseRule(clock=clock)
    row.stops, row.updated_by, row.updated_at = bool(stops), user.username, now()
    session.add(row)
    session.flush()
    return row


# --- the ledger ----------------------------------------------------------------------------


def open_pause(session: Session, ticket: Ticket) -> TicketPause | None:
    """The ticket's open pause, from ``ticket.pauses`` (read once per request, after the instance lock)."""
    return next((p for p in ticket.pauses if p.ended_at is None), None)


def ledger(session: Session, ticket: Ticket) -> list[TicketPause]:
    return list(session.scalars(
        select(TicketPause).where(TicketPause.ticket_id == ticket.id).order_by(TicketPause.started_at, TicketPause.id)
    ))


def as_json(pause: TicketPause) -> dict:
    return {
        "from": pause.started_at.isoformat(), "to": pause.ended_at.isoformat() if pause.ended_at else None,
        "by": pause.started_by, "resumed_by": pause.ended_by, "reason": pause.reason, "step": pause.step,
        "clocks": list(pause.clocks or []), "paused_minutes": dict(pause.paused_minutes or {}),
    }  # fmt: skip


# --- who may, and where --------------------------------------------------------------------


def back_line_tasks(session: Session, ticket: Ticket) -> list[HumanTask]:
    rows = session.scalars(
        select(HumanTask).where(HumanTask.ticket_id == ticket.id, HumanTask.state == TaskState.READY)
    )
    return [r for r in rows if any(_back_line(role) for role in r.roles or [])]


def _back_line(role: str) -> bool:
    """A back-line group: PMs (also a project's own PM group, ``pm_infra`` …), engineers, tech support."""
    return role in BACK_LINE_ROLES or role.startswith("pm_")


def check_may(user: User, tasks: list[HumanTask]) -> None:
    """The holder of the back-line step (its assignee, or its group while nobody has it), a lead or an admin."""
    if user.has_role("lead", "admin"):
        return
    for task in tasks:
        if task.assignee == user.username or (not task.assignee and user.role_codes.intersection(task.roles or [])):
            return
    raise Forbidden("只有处理人、组长或管理员可以挂起或恢复 / only the holder, a lead or an admin may pause or resume")


def check_reason(reason) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise Invalid("请填写挂起原因 / give the reason", fields={"reason": ["必填 / required"]})
    if len(text) > MAX_REASON:
        raise Invalid("原因过长 / the reason is too long", fields={"reason": [f"最多 {MAX_REASON} 字 / at most {MAX_REASON}"]})
    return text


# --- the workflow side ---------------------------------------------------------------------


def sla_timers(workflow, names: set[str]) -> list:
    """Waiting SLA boundary timers of the given clocks, in the workflow and those it called."""
    found = []
    for task in workflow.get_tasks(state=SpiffState.WAITING):
        spec = task.task_spec
        if not isinstance(getattr(spec, "event_definition", None), TimerEventDefinition):
            continue
        props = (getattr(spec, "extensions", None) or {}).get("properties") or {}
        if props.get("sla") in names:
            found.append((task, props["sla"], props.get("level", "breach")))
    return found


def start(session: Session, ticket: Ticket, workflow, reason: str, *, user: User, step: str) -> TicketPause:
    """Open a pause: park the timers of the running clocks it stops, write the ledger row."""
    if open_pause(session, ticket) is not None:
        raise Conflict(f"工单 {ticket.number} 已挂起 / ticket {ticket.number} is already paused")
    at = now()
    stops = stopped_clocks(session)
    running = [c.name for c in ticket.clocks if c.name in stops and c.started_at and c.stopped_at is None]
    for task, _name, _level in sla_timers(workflow, set(running)):
        task._set_internal_data(event_value=PARKED)
    pause = TicketPause(ticket_id=ticket.id, step=step, reason=reason, started_at=at, started_by=user.username,
                        clocks=running, paused_minutes={})
    ticket.pauses.append(pause)
    session.flush()
    audit.record(session, "pause", actor=user.username, instance_id=ticket.instance_id, ticket_id=ticket.id,
                 bpmn_id=step, name="挂起", data={"reason": reason, "clocks": running})
    return pause


def resume_open(session: Session, ticket: Ticket, workflow, *, actor: str) -> TicketPause | None:
    """Close the open pause, if any: move each stopped clock by its paused working time, re-arm its timers."""
    pause = open_pause(session, ticket)
    if pause is None:
        return None
    at = now()
    moved: dict[str, float] = {}
    new_values: dict[str, str] = {}
    for name in pause.clocks or []:
        clock = ticket.clock(name)
        if clock is None:
            continue
        calendar = clock.calendar if clock.calendar in calendars.CALENDARS else "24x7"
        minutes = calendars.working_minutes(pause.started_at, at, calendar)
        moved[name] = round(minutes, 4)
        clock.paused_seconds = (clock.paused_seconds or 0) + round(minutes * 60)
        if clock.due_at is not None:
            clock.due_at = calendars.add_minutes(clock.due_at, minutes, calendar)
            new_values[f"{name}_due"] = clock.due_at.isoformat()
        if clock.warn_at is not None and clock.warned_at is None:
            clock.warn_at = calendars.add_minutes(clock.warn_at, minutes, calendar)
            new_values[f"{name}_warn_at"] = clock.warn_at.isoformat()
    _write_data(workflow, new_values)
    for task, name, level in sla_timers(workflow, set(pause.clocks or [])):
        key = f"{name}_due" if level == "breach" else f"{name}_warn_at"
        if key in new_values:
            task._set_internal_data(event_value=new_values[key])
    pause.ended_at, pause.ended_by, pause.paused_minutes = at, actor, moved
    audit.record(session, "resume", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id, name="恢复",
                 data={"paused_minutes": moved, "due": new_values})
    return pause


def _write_data(workflow, values: dict[str, str]) -> None:
    """The new due times in the data of every unfinished task, so scripts and the projection read them."""
    if not values:
        return
    for task in workflow.get_tasks(state=SpiffState.NOT_FINISHED_MASK):
        for key, value in values.items():
            if key in task.data:
                task.data[key] = value
    for key, value in values.items():
        if key in workflow.data:
            workflow.data[key] = value


def clear_parked_due(rows: list[HumanTask]) -> None:
    """A paused task has no due time in the inbox (its parked timer is not a deadline)."""
    parked = TimerEventDefinition.get_datetime(PARKED)
    for row in rows:
        if row.due_at is not None and row.due_at >= parked:
            row.due_at = None


def elapsed_minutes(clock, *, until: datetime | None = None, with_pauses: bool = True) -> float | None:
    """Working minutes a clock ran (to its stop, or ``until``/now): with pauses, or without (pauses taken out)."""
    if clock.started_at is None:
        return None
    end = clock.stopped_at or until or now()
    calendar = clock.calendar if clock.calendar in calendars.CALENDARS else "24x7"
    total = calendars.working_minutes(clock.started_at, end, calendar)
    return total if with_pauses else max(total - (clock.paused_seconds or 0) / 60, 0.0)
