"""The escalation chain and 故障升级: who hears of warnings and breaches, exactly once; a breach
sla.dmn names (breach_raises = resolution for P2–P4 incidents) raises the priority one level and
re-plans the clocks still running. Times by hand: P3 business hours (winter 08:00–18:00);
P2 targets 30/60/240/240 minutes on 24x7."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from engine.models import AuditEvent, Notification, OutboxMail, SlaEscalation, Ticket
from engine.runtime import timers
from webforms.extensions import db

SH = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def run_worker(app) -> int:
    with app.app_context():
        return timers.run_due(sessionmaker(bind=db.engine))


def bells(app, number: str) -> dict[str, list[str]]:
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        rows = db.session.execute(select(Notification.kind, Notification.username)
                                  .where(Notification.ticket_id == ticket.id).order_by(Notification.id)).all()
    found: dict[str, list[str]] = {}
    for kind, username in rows:
        found.setdefault(kind, []).append(username)
    return found


def test_a_dispatched_breach_reaches_holder_lead_and_the_pm_once_and_raises_the_priority(app, api):
    with time_machine.travel(sh(2026, 11, 23, 9, 0), tick=False) as clock:  # Monday
        number = api.new_ticket(email="wang@example.cn")["number"]
        api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
        api.complete("agent1", number, "online_fix", outcome="dispatch")
        api.complete("pm1", number, "pm_assign", engineer="eng1")
        assert api.ticket(number)["priority"] == "P3"
        clock.move_to(sh(2026, 11, 23, 15, 0, 1))  # 75 % of 480 business minutes
        assert run_worker(app) == 1
        clock.move_to(sh(2026, 11, 23, 17, 0, 1))  # resolution due
        assert run_worker(app) == 1
        assert run_worker(app) == 0
        ticket = api.ticket(number)
        assert ticket["priority"] == "P2" and ticket["sla_calendar"] == "24x7"
        assert ticket["sla"]["resolution"]["breached"] is True
        assert any(h["action"] == "priority_raised" for h in ticket["history"])
        clock.move_to(sh(2026, 11, 23, 19, 0))
        api.complete("eng1", number, "engineer", outcome="resolved", solution="更换光模块")
        # the callback now runs on P2's target: 240 minutes, 24x7
        assert at(api.ticket(number)["sla"]["callback"]["due_at"]) == sh(2026, 11, 23, 23, 0)
    seen = bells(app, number)
    assert seen["sla_warning"] == ["eng1", "lead1"]  # the holder, then the lead
    assert seen["sla_breach"] == ["eng1", "lead1", "pm1"]  # up the chain: the PM who dispatched it
    with app.app_context():
        kinds = db.session.scalars(select(OutboxMail.kind).where(OutboxMail.to_addr == "wang@example.cn")
                                   .order_by(OutboxMail.id)).all()
        assert kinds == ["customer_accepted", "customer_escalated", "customer_resolved"]
        levels = db.session.execute(select(SlaEscalation.clock, SlaEscalation.level)).all()
        assert sorted(levels) == [("resolution", "breach"), ("resolution", "warning")]


def test_an_undispatched_breach_reaches_the_desk_manager_and_replans_running_clocks(app, api):
    with time_machine.travel(sh(2026, 11, 23, 9, 0), tick=False) as clock:
        number = api.new_ticket()["number"]
        api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
        clock.move_to(sh(2026, 11, 23, 10, 0, 1))  # response (60 business minutes) breaches at the desk
        run_worker(app)
        assert api.ticket(number)["priority"] == "P3"  # those breaches raise nothing (sla.dmn: resolution)
        clock.move_to(sh(2026, 11, 23, 17, 0, 1))
        while run_worker(app):
            pass
        ticket = api.ticket(number)
    assert ticket["priority"] == "P2"
    # still running, re-planned from acceptance on P2's 24x7 targets: response 30, hand-off 60
    assert at(ticket["sla"]["response"]["due_at"]) == sh(2026, 11, 23, 9, 30)
    assert at(ticket["sla"]["handoff"]["due_at"]) == sh(2026, 11, 23, 10, 0)
    assert at(ticket["sla"]["resolution"]["due_at"]) == sh(2026, 11, 23, 17, 0)  # the breached clock keeps its due
    seen = bells(app, number)
    # issue 8's clocks: at 10:00 response, hand-off (60 business minutes) and timely handling (60 minutes,
    # 7×24) breach, at 17:00 resolution; each reaches the holder group (agent1 and lead1 are agents), the
    # lead and the desk manager, once
    assert seen["sla_breach"] == ["agent1", "lead1", "mgr1"] * 4
    with app.app_context():
        breached = db.session.scalars(select(SlaEscalation.clock).where(SlaEscalation.level == "breach")).all()
        assert sorted(breached) == ["handoff", "resolution", "response", "timely"]
        raised = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "priority_raised"))
    assert raised == 1


def test_a_p1_breach_raises_nothing(app, api):
    with time_machine.travel(sh(2026, 11, 23, 9, 0), tick=False) as clock:
        number = api.new_ticket()["number"]
        api.complete("agent1", number, "classify", category="network", impact="high", urgency="high")
        clock.move_to(sh(2026, 11, 23, 12, 0))
        while run_worker(app):
            pass
        assert api.ticket(number)["priority"] == "P1"
