"""SLA clocks: when each of the desk's clocks starts, stops and is late, as the rules define them.

Every clock of a ticket is a pure function of the ticket's timestamps (the columns
KPIs read) and the targets rules/sla.dmn put in the process data. The diagram
decides *when* things happen (its scripts stamp ``accepted_at``, ``responded_at``,
``handoff_at`` …); this module decides what each clock measures:

=================  ======================================  ==========================================  ==========
clock              starts                                  stops (the first of)                        late when
=================  ======================================  ==========================================  ==========
response           accepted; P1: occurred, or accepted     responded (online fix taken or dispatched   > target
                   when unknown or later (001 §7.3(2))     to the PM; complaint recorded), closed
handoff            accepted                                hand-off to the back line, resolved, closed > target
resolution         accepted                                resolved, closed                            > target
callback           resolved                                customer reached on a callback, closed      > target
emergency_close    accepted (P1 only, 001 §7.3(3))         closed                                      > target
timely             accepted (every ticket, 001 §7.4)       hand-off to the back line, closed           >= target
=================  ======================================  ==========================================  ==========

Targets in minutes come from sla.dmn (``<clock>_minutes``; the callback of a
consultation or of a fix the desk guided on the phone uses
``callback_phone_minutes``, 003: 2 hours). ``timely``, ``emergency_close`` and
that phone callback are wall clock (the desk works 7×24, 001 §四); the others run
on the ticket's ``sla_calendar``. ``timely`` is met only *strictly* under its target
(“小于 1 小时”); the others are met at exactly their target (“≤ 15 分钟”).

A clock is judged by :func:`judge` every time the ticket is projected, with the
time it stopped or, while it runs, the current time; so the breach flag always
equals ``late(stopped_at or now, due_at)`` and a due time that moves (the ticket
is classified, or reopened) re-judges it. Warnings (75 %) and breaches are each
recorded and notified once. :func:`next_check` tells the write path when the
next warning or breach falls due, so the timer worker wakes the instance then,
whether or not the diagram has a boundary timer for that clock.

Pauses (issue 10, the ledger in ``desk.pauses``): a pause stops the clocks its
``TicketPause.clocks`` lists (those the pause rules stop that were running when it
began: resolution and emergency_close by default). While a pause is open such a
clock stands still — it is judged, warned and woken as of the pause's start —
and every finished pause moves its due and warning times by the paused time
measured in the clock's own calendar (a night on business hours costs nothing):
``due = start + (minutes + paused minutes)``, and ``paused_seconds`` holds that
paused time, so KPIs can be read with and without pauses. ``timely`` is wall clock
(001 §7.4) and stops at the hand-off to the back line, before any step a pause is
allowed on, so no pause ever stops it; should an admin list it anyway, its paused
time is wall-clock time.

故障升级 (issue 10, ``runtime.escalating``): when the priority is raised on a breach,
the clocks that had already stopped and the one that breached keep their targets
(``sla_kept`` in the process data: minutes and calendar per clock); the running
ones are re-planned from their own start with the new priority's targets.

Notifications of warnings and breaches go up the escalation chain once per clock
per ticket (``desk.notifications.after_step`` → ``desk.escalation``), for every
clock here, the new ones included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import SlaClock, Ticket, TicketPause
from . import audit
from .calendars import CALENDARS, add_minutes, working_minutes

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WALL_CLOCK = "24x7"
WARN_AT = 0.75
# A clock met at exactly its target is late from the next instant; the worker checks then.
JUST_AFTER = timedelta(seconds=1)


def earliest(*moments: datetime | None) -> datetime | None:
    """The earliest of the moments given, ignoring missing ones."""
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _response_start(t: Ticket) -> datetime | None:
    if t.priority == "P1":
        return earliest(t.occurred_at, t.accepted_at)
    return t.accepted_at


def _phone_callback(t: Ticket) -> bool:
    """A consultation, or a ticket the desk itself solved by guiding the customer."""
    return t.type == "consultation" or t.resolved_role == "agent"


def _minutes(data: dict, key: str) -> float | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Rule:
    """One clock: what starts and stops it, its target and calendar, and how lateness is judged."""

    name: str
    label: str  # as the desk says it, for notifications
    start: Callable[[Ticket], datetime | None]
    stop: Callable[[Ticket], datetime | None]
    minutes: Callable[[Ticket, dict], float | None]
    calendar: Callable[[Ticket, dict], str]
    strict: bool = False  # met only strictly under the target

    def late(self, at: datetime, due: datetime) -> bool:
        return at >= due if self.strict else at > due


def _sla_calendar(t: Ticket, data: dict) -> str:
    return str(data.get("sla_calendar") or t.sla_calendar or WALL_CLOCK)


def _wall(t: Ticket, data: dict) -> str:
    return WALL_CLOCK


RULES: tuple[Rule, ...] = (
    Rule("response", "响应", _response_start, lambda t: earliest(t.responded_at, t.closed_at),
         lambda t, d: _minutes(d, "response_minutes"), _sla_calendar),
    Rule("handoff", "转交", lambda t: t.accepted_at, lambda t: earliest(t.handoff_at, t.resolved_at, t.closed_at),
         lambda t, d: _minutes(d, "handoff_minutes"), _sla_calendar),
    Rule("resolution", "解决", lambda t: t.accepted_at, lambda t: earliest(t.resolved_at, t.closed_at),
         lambda t, d: _minutes(d, "resolution_minutes"), _sla_calendar),
    Rule("callback", "回访", lambda t: t.resolved_at, lambda t: earliest(t.callback_at, t.closed_at),
         lambda t, d: _minutes(d, "callback_phone_minutes" if _phone_callback(t) else "callback_minutes"),
         lambda t, d: WALL_CLOCK if _phone_callback(t) else _sla_calendar(t, d)),
    Rule("emergency_close", "突发事件关单", lambda t: t.accepted_at if t.priority == "P1" else None,
         lambda t: t.closed_at, lambda t, d: _minutes(d, "emergency_close_minutes"), _wall),
    Rule("timely", "及时处理", lambda t: t.accepted_at, lambda t: earliest(t.handoff_at, t.closed_at),
         lambda t, d: _minutes(d, "timely_minutes"), _wall, strict=True),
)  # fmt: skip
NAMES = {rule.name: rule.label for rule in RULES}
BY_NAME = {rule.name: rule for rule in RULES}


def _target(start: datetime, minutes: float, calendar: str) -> datetime:
    return add_minutes(start, minutes, calendar)


def _pause_calendar(calendar: str) -> str:
    return calendar if calendar in CALENDARS else WALL_CLOCK


def held(session: Session, ticket: Ticket) -> dict[str, datetime]:
    """The clocks an open pause holds still, each with the moment it stopped them."""
    return holding(next((p for p in ticket.pauses if p.ended_at is None), None))


def holding(pause: TicketPause | None) -> dict[str, datetime]:
    """The clocks an open pause holds, each with the moment it stopped them (none for no pause)."""
    return {name: pause.started_at for name in pause.clocks or []} if pause is not None else {}


def _paused_minutes(pauses: list[TicketPause], name: str, calendar: str) -> float:
    """Working minutes of the clock's calendar that finished pauses of this clock took."""
    cal = _pause_calendar(calendar)
    return sum(working_minutes(p.started_at, p.ended_at, cal) for p in pauses if name in (p.clocks or []))


def project(session: Session, ticket: Ticket, data: dict, *, at: datetime, actor: str) -> dict[str, datetime]:
    """Bring every clock of the ticket up to date with its timestamps and judge it at ``at``.

    Returns what ``held`` would (the clocks an open pause holds), read on the way, for ``next_check``.

    A clock exists once it has a start and a target; a clock that no longer
    applies (a ticket reclassified from P1) keeps its row but is stopped.
    """
    kept = data.get("sla_kept") if isinstance(data.get("sla_kept"), dict) else {}
    # every pause of the ticket (read once per request): the finished ones move the clocks, an open one holds them
    ledger = ticket.pauses
    finished_pauses = [p for p in ledger if p.ended_at is not None]
    stopped = holding(next((p for p in ledger if p.ended_at is None), None))
    for rule in RULES:
        clock = ticket.clock(rule.name)
        start = rule.start(ticket)
        keep = kept.get(rule.name) if isinstance(kept.get(rule.name), dict) else None
        minutes = _minutes(keep, "minutes") if keep else rule.minutes(ticket, data)
        if start is None or minutes is None:
            if clock is not None and clock.stopped_at is None and rule.name == "emergency_close":
                clock.stopped_at = at  # no longer an emergency: nothing left to measure
            continue
        if clock is None:
            clock = SlaClock(name=rule.name)
            ticket.clocks.append(clock)
        calendar = str(keep.get("calendar") or WALL_CLOCK) if keep else rule.calendar(ticket, data)
        paused = _paused_minutes(finished_pauses, rule.name, calendar) if finished_pauses else 0.0
        clock.minutes = round(minutes)
        clock.calendar = calendar
        clock.started_at = start
        clock.paused_seconds = round(paused * 60)
        clock.due_at = _target(start, minutes + paused, calendar)
        clock.warn_at = _target(start, minutes * WARN_AT + paused, calendar)
        stop = rule.stop(ticket)
        clock.stopped_at = stop if stop is not None and stop >= start else (start if stop is not None else None)
        judge(session, ticket, clock, rule, at=stopped.get(rule.name) or at, actor=actor)
    ticket.sla_due_at = earliest(*(c.due_at for c in ticket.clocks if c.stopped_at is None))
    return stopped


def judge(session: Session, ticket: Ticket, clock: SlaClock, rule: Rule, *, at: datetime, actor: str) -> None:
    """Set the breach flag from the clock's end (its stop, or ``at`` while running); warn once.

    ``at`` is the moment the clock has run to: now, or the start of the pause holding it.
    The escalation chain hears of each warning and breach once (``notifications.after_step``).
    """
    end = clock.stopped_at or at
    breached = rule.late(end, clock.due_at)
    if breached and not clock.breached:
        clock.breached = True
        clock.breached_at = clock.due_at
        audit.record(session, "sla_breach", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id,
                     name=clock.name, data={"sla": clock.name, "due_at": _iso(clock.due_at),
                                            "late_stop": clock.stopped_at is not None})
    elif not breached and clock.breached:
        clock.breached = False  # the target moved (reclassified, reopened): judged against the new one
        clock.breached_at = None
    if clock.stopped_at is None and not clock.breached and clock.warned_at is None and at >= clock.warn_at:
        clock.warned_at = at
        audit.record(session, "sla_warning", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id,
                     name=clock.name, data={"sla": clock.name, "due_at": _iso(clock.due_at)})


def next_check(ticket: Ticket, held: dict | None = None) -> datetime | None:
    """When a running clock of this ticket next warns or breaches, or None; clocks a pause holds wait."""
    moments = []
    for clock in ticket.clocks:
        rule = BY_NAME.get(clock.name)
        if rule is None or clock.stopped_at is not None or clock.due_at is None or clock.breached:
            continue
        if held and clock.name in held:
            continue
        if clock.warned_at is None and clock.warn_at is not None:
            moments.append(clock.warn_at)
        moments.append(clock.due_at if rule.strict else clock.due_at + JUST_AFTER)
    return min(moments) if moments else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _local(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M") if value else "-"
