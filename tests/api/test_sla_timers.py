"""An emergency ticket with all three SLA timers firing, time moved with time-machine."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from engine.models import AuditEvent, Notification, ProcessInstance, Ticket
from engine.runtime import timers
from webforms.extensions import db

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai, a Monday


def run_worker(app) -> int:
    with app.app_context():
        return timers.run_due(sessionmaker(bind=db.engine))


def counts(app, number: str) -> dict:
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.name, func.count())
            .where(AuditEvent.ticket_id == ticket.id, AuditEvent.action.in_(["sla_warning", "sla_breach"]))
            .group_by(AuditEvent.action, AuditEvent.name)
        ).all()
        notes = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.ticket_id == ticket.id,
                                                                  Notification.username == "lead1")
        )
        return {"events": {(a, n): c for a, n, c in events}, "lead1_notifications": notes}


def test_emergency_sla_timers_fire_and_breaches_are_recorded_once(app, api):
    with time_machine.travel(T0, tick=False) as clock:
        number = api.new_ticket(title="全院网络中断", occurred_at=T0.isoformat())["number"]
        api.complete("agent1", number, "classify", category="network", impact="high", urgency="high")
        ticket = api.ticket(number)
        assert ticket["priority"] == "P1" and ticket["sla_calendar"] == "24x7"
        sla = ticket["sla"]
        assert datetime.fromisoformat(sla["response"]["due_at"]) == T0 + timedelta(minutes=15)
        assert datetime.fromisoformat(sla["handoff"]["due_at"]) == T0 + timedelta(minutes=60)
        assert datetime.fromisoformat(sla["resolution"]["due_at"]) == T0 + timedelta(minutes=60)
        # a task is due when its SLA breaches (the 75 % warning is for the lead)
        assert datetime.fromisoformat(api.task("agent1", number, "online_fix")["due_at"]) == T0 + timedelta(minutes=15)

        clock.move_to(T0 + timedelta(minutes=5))
        assert run_worker(app) == 0  # nothing due yet

        clock.move_to(T0 + timedelta(minutes=12))  # 75 % of 15 minutes has passed
        assert run_worker(app) == 1
        ticket = api.ticket(number)
        assert ticket["sla"]["response"]["warned_at"] and not ticket["sla"]["response"]["breached"]

        clock.move_to(T0 + timedelta(minutes=16))
        assert run_worker(app) == 1
        ticket = api.ticket(number)
        assert ticket["sla"]["response"]["breached"] is True
        assert ticket["stage"] == ["online_fix"]  # non-interrupting: the work carries on

        api.complete("agent1", number, "online_fix", outcome="dispatch")  # 16 min: handed to the back line
        clock.move_to(T0 + timedelta(minutes=50))
        run_worker(app)
        clock.move_to(T0 + timedelta(minutes=61))
        run_worker(app)
        ticket = api.ticket(number)
        assert ticket["handoff_at"] == ticket["responded_at"] == (T0 + timedelta(minutes=16)).isoformat()
        assert not ticket["sla"]["handoff"]["breached"] and not ticket["sla"]["timely"]["breached"]
        assert ticket["sla"]["resolution"]["breached"] is True and ticket["sla"]["resolution"]["warned_at"]
        assert ticket["sla"]["emergency_close"]["breached"] is True  # a P1 still open after 60 minutes

        api.complete("pm1", number, "pm_assign", engineer="eng1")
        api.complete("eng1", number, "engineer", outcome="resolved", solution="更换核心交换机板卡")
        clock.move_to(T0 + timedelta(minutes=61 + 91))  # 75 % of the 120-minute callback
        run_worker(app)
        clock.move_to(T0 + timedelta(hours=5))
        run_worker(app)
        assert run_worker(app) == 0

    seen = counts(app, number)
    assert seen["events"] == {
        ("sla_warning", "response"): 1, ("sla_breach", "response"): 1,
        ("sla_warning", "resolution"): 1, ("sla_breach", "resolution"): 1,
        ("sla_warning", "emergency_close"): 1, ("sla_breach", "emergency_close"): 1,
        ("sla_warning", "callback"): 1, ("sla_breach", "callback"): 1,
    }  # fmt: skip
    assert seen["lead1_notifications"] == 8


def test_a_clock_stopped_in_time_never_breaches(app, api):
    with time_machine.travel(T0, tick=False) as clock:
        number = api.new_ticket(occurred_at=T0.isoformat())["number"]
        api.complete("agent1", number, "classify", category="network", impact="high", urgency="high")
        clock.move_to(T0 + timedelta(minutes=5))
        api.complete("agent1", number, "online_fix", outcome="resolved", solution="远程恢复")
        clock.move_to(T0 + timedelta(minutes=30))
        run_worker(app)
        ticket = api.ticket(number)
    assert not ticket["sla"]["response"]["breached"]
    assert not ticket["sla"]["handoff"]["breached"]
    assert not ticket["sla"]["resolution"]["breached"]
    assert counts(app, number)["events"] == {}


def test_next_timer_at_is_the_earliest_due_timer(app, api):
    with time_machine.travel(T0, tick=False):
        number = api.new_ticket(occurred_at=T0.isoformat())["number"]
        api.complete("agent1", number, "classify", category="network", impact="high", urgency="high")
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        instance = db.session.get(ProcessInstance, ticket.instance_id)
        assert instance.next_timer_at == T0 + timedelta(minutes=11, seconds=15)
