"""SLA marks: boundary timers that only mark a moment, and waking their instances in SQL.

The desk's diagrams model each SLA warning and breach as a *non-interrupting*
boundary timer on the step it watches, leading straight to a plain end event
(``resolution_sla_warning`` → ``已预警``). Firing such a timer changes nothing a
person or a report sees: the work carries on, no script runs, no data changes.
What the desk shows for it — the breach flag, the warning time, the audit entry,
the messages up the escalation chain — comes from the ticket's clocks
(``desk.clocks``), judged from the ticket's timestamps whenever the instance is
woken, and recorded once (the flags change once; ``sla_escalation`` has a unique
key per ticket, clock and level). A full workflow round-trip (restore the state,
run SpiffWorkflow, serialize it again, rewrite every task row and the projection)
for such a wake is ~20 statements and most of a worker's time in a burst.

So:

* :func:`is_mark` classifies a timer's spec from the deployed diagram: a
  non-interrupting boundary timer (a date or a duration, not a cycle) whose every
  outgoing path is a plain end event with no scripts or data outputs. Any other
  timer *moves the flow* (an interrupting escalation, the callback retry wait …).
* ``instances.save`` stores, beside ``next_timer_at``, ``flow_timer_at``: the
  earliest due among the timers that move the flow (:func:`flow_timer_at`).
* :func:`wake` is what the timer worker does for a due instance whose
  ``flow_timer_at`` is not due: judge the ticket's running clocks now (breach flag,
  warning, audit), send the escalation messages (``notifications.after_step``),
  write a ``timer`` audit entry and the next wake time — all in SQL, the stored
  workflow state untouched. The marks themselves stay waiting in the state.
  The worker wakes a claimed batch at once (:func:`wake_batch`): what the batch
  reads (tickets, clocks, pauses, open tasks, and the users, preferences,
  templates and escalations of its messages) is read once for the batch, what it
  writes goes out in one flush — a burst of SLA marks costs a few statements per
  batch instead of ~24 per wake.
* :func:`catch_up` fires the marks that are due when the workflow is next loaded
  (before a person's step changes it, and when the ticket page reads its path),
  so the path still shows them; their firing there changes nothing, as above.

Kept on the full round-trip, and why:

* a breach of the clock sla.dmn's ``breach_raises`` names, on a ticket whose
  priority can still rise (``SlaClock.raises_on_breach`` is not False): 故障升级
  changes the process data and moves the diagram's timers (``runtime.escalating``);
* any wake where a timer that moves the flow is due;
* instances without a ticket, and clocks whose ``raises_on_breach`` is not known
  yet (rows from before this column: NULL).

Exactly once: the worker holds the instance's row lock (``SKIP LOCKED``) for the
whole wake and moves ``next_timer_at`` past now in the same commit; a worker that
dies before the commit changes nothing, and the next one does the same wake again.
A level of a clock is escalated once (``sla_escalation``'s unique key): should a
person's step escalate the same level at the same moment, one of the two
transactions fails on that key and rolls back with its messages (the worker then
fires its batch again one instance per transaction, ``timers.run_due``).
"""

from __future__ import annotations

from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..desk import audit, clocks, notifications
from ..models import HumanTask, InstanceStatus, ProcessInstance, Ticket, TicketPause
from . import tasks

ACTOR = "timer"


# --- which timers are marks (from the deployed diagram) ------------------------------------


def _plain_end(spec) -> bool:
    return (
        isinstance(spec, EndEvent)
        and type(spec.event_definition) is NoneEventDefinition
        and not getattr(spec, "prescript", None)
        and not getattr(spec, "postscript", None)
        and not getattr(spec, "data_output_associations", None)
    )


def is_mark(spec) -> bool:
    """A non-interrupting boundary timer (date or duration) whose every outgoing path is a plain end event."""
    cached = getattr(spec, "_desk_sla_mark", None)
    if cached is None:
        definition = getattr(spec, "event_definition", None)
        cached = (
            isinstance(spec, BoundaryEvent)
            and not spec.cancel_activity
            and isinstance(definition, TimerEventDefinition)
            and not isinstance(definition, CycleTimerEventDefinition)
            and not getattr(spec, "prescript", None)
            and not getattr(spec, "postscript", None)
            and not getattr(spec, "data_output_associations", None)
            and any(_plain_end(out) for out in spec.outputs)
            # SpiffWorkflow's own join of the activity and its non-interrupting events is not an element
            and all(_plain_end(out) or isinstance(out, BoundaryEventJoin) for out in spec.outputs)
        )
        spec._desk_sla_mark = cached  # specs are shared per deployed version: classified once
    return cached


def _due_value(task) -> datetime | None:
    value = task.task_spec.event_definition.details(task).value
    if not isinstance(value, str):
        return None
    try:
        return TimerEventDefinition.get_datetime(value)
    except ValueError:
        return None


def flow_timer_at(workflow) -> datetime | None:
    """The earliest due time among the waiting timers that move the flow (not marks), or None."""
    dues = []
    for task in workflow.event_manager.tasks.values():
        spec = task.task_spec
        if not isinstance(getattr(spec, "event_definition", None), TimerEventDefinition) or is_mark(spec):
            continue
        due = _due_value(task)
        if due is not None:
            dues.append(due)
    return min(dues) if dues else None


def catch_up(workflow) -> list[tuple[str, str]]:
    """Fire the marks that are due (a wake in SQL left them waiting); their (clock, level) each.

    Only the marks and the end events they lead to run: other due timers keep
    waiting for the worker, as before. SpiffWorkflow reads ``datetime.now`` itself.
    """
    at = datetime.now(timezone.utc)
    fired: list[tuple[str, str]] = []
    for task in list(workflow.event_manager.tasks.values()):
        if not task.state & (SpiffState.WAITING | SpiffState.READY) or not is_mark(task.task_spec):
            continue
        due = _due_value(task)
        if due is None or due >= at:
            continue
        if task.state == SpiffState.WAITING:
            task.task_spec._update(task)  # (firing one mark can already make its due sibling READY)
        if task.state == SpiffState.READY:
            _run_chain(task)
            props = (getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}
            if props.get("sla"):
                fired.append((props["sla"], props.get("level", "breach")))
    return fired


def _run_chain(task) -> None:
    """Run a fired mark and the plain end events after it (nothing else is READY in a stored workflow)."""
    task.run()
    for child in list(task.children):
        if child.state == SpiffState.READY and not child.task_spec.manual and _plain_end(child.task_spec):
            _run_chain(child)


# --- the wake in SQL ------------------------------------------------------------------------


def wake(session: Session, instance: ProcessInstance, *, actor: str = ACTOR) -> bool:
    """Wake a due instance without loading its workflow, when only SLA marks and clocks are due.

    False (nothing written) when the wake needs the full step: see the module's docstring.
    """
    return instance.id in wake_batch(session, [instance], actor=actor)


def wake_batch(session: Session, due: list[ProcessInstance], *, actor: str = ACTOR) -> set[int]:
    """:func:`wake` for a batch of due instances this transaction holds locked; the ids woken in SQL.

    What the batch needs is read once for all of it — the tickets with their clocks,
    their open pauses and open tasks, and for the messages the users with their roles,
    preferences, templates, the escalations already sent (``notifications.Lookups``)
    — and what it writes goes out in one flush (one insert per table for the batch).
    The others (a flow timer due, no ticket, a breach that raises the priority) are
    left untouched for the full step.
    """
    at = now()
    candidates = {i.id: i for i in due if _may_wake(i, at)}
    if not candidates:
        return set()
    tickets = {t.instance_id: t for t in session.scalars(select(Ticket).where(Ticket.instance_id.in_(candidates)))}
    if not tickets:
        return set()
    pauses: dict[int, TicketPause] = {}
    for pause in session.scalars(select(TicketPause).where(TicketPause.ticket_id.in_([t.id for t in tickets.values()]),
                                                          TicketPause.ended_at.is_(None)).order_by(TicketPause.id)):
        pauses.setdefault(pause.ticket_id, pause)
    held = {instance_id: clocks.holding(pauses.get(t.id)) for instance_id, t in tickets.items()}
    tickets = {i: t for i, t in tickets.items() if not _raises(t, held[i], at)}
    if not tickets:
        return set()
    ready: dict[int, list[HumanTask]] = {}
    for task in session.scalars(tasks.open_rows_of(list(tickets))):
        ready.setdefault(task.instance_id, []).append(task)
    lookups = notifications.Lookups(session)
    lookups.preload([t.id for t in tickets.values()])
    with session.no_autoflush:  # the batch's rows are written together, at the commit
        for instance_id, ticket in tickets.items():
            _wake_one(session, candidates[instance_id], ticket, held[instance_id], ready.get(instance_id, []),
                      lookups=lookups, at=at, actor=actor)
    return set(tickets)


def _may_wake(instance: ProcessInstance, at: datetime) -> bool:
    """Running, due, and no timer that moves the flow due with it."""
    return (
        instance.status == InstanceStatus.RUNNING
        and instance.next_timer_at is not None
        and instance.next_timer_at <= at
        and (instance.flow_timer_at is None or instance.flow_timer_at > at)
    )


def _running(ticket: Ticket) -> list[tuple]:
    return [(c, clocks.BY_NAME[c.name]) for c in ticket.clocks
            if c.name in clocks.BY_NAME and c.stopped_at is None and c.due_at is not None]


def _raises(ticket: Ticket, held: dict[str, datetime], at: datetime) -> bool:
    """A running clock breaches now and may raise the priority (故障升级, or not known): the full step does that."""
    return any(not clock.breached and rule.late(held.get(clock.name) or at, clock.due_at)
               and clock.raises_on_breach is not False for clock, rule in _running(ticket))


def _wake_one(session: Session, instance: ProcessInstance, ticket: Ticket, held: dict[str, datetime],
              ready: list[HumanTask], *, lookups: notifications.Lookups, at: datetime, actor: str) -> None:
    """One instance of :func:`wake_batch`: judge the running clocks, send what they crossed, the next wake."""
    running = _running(ticket)
    before = notifications.snapshot(ticket)
    for clock, rule in running:
        clocks.judge(session, ticket, clock, rule, at=held.get(clock.name) or at, actor=actor)
    fired = [(c.name, "warning") for c in ticket.clocks if c.warned_at is not None and not before["clocks"].get(c.name, (False, False))[0]]
    fired += [(c.name, "breach") for c in ticket.clocks if c.breached and not before["clocks"].get(c.name, (False, False))[1]]
    notifications.after_step(session, ticket, before, ready_tasks=ready, since=at, actor=actor, lookups=lookups)
    instance.next_timer_at = clocks.earliest(instance.flow_timer_at, clocks.next_check(ticket, held))
    audit.record(session, "timer", actor=actor, instance_id=instance.id, ticket_id=ticket.id,
                 data={"fired": [f"{name}:{level}" for name, level in fired], "in_sql": True})
