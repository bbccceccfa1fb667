"""The pause ledger (挂起): clocks stand still, due times move by exactly the paused working time.

Every expected time is computed by hand. Business hours: 08:00–17:30 (1 May – 30 Sep),
08:00–18:00 (1 Oct – 30 Apr), Chinese working days. 2026: National Day 1–7 Oct off,
Sat 10 Oct a make-up working day. P3 = impact medium × urgency medium: resolution 480
business minutes, warning at 75 % (360). P2 = impact medium × urgency high: resolution
240 minutes on the 24x7 calendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from engine.desk import pauses, users
from engine.models import AuditEvent, HumanTask, SlaClock, TaskState, Ticket
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


def sla_events(app, number: str) -> list[tuple[str, str]]:
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        return [tuple(r) for r in db.session.execute(
            select(AuditEvent.action, AuditEvent.name)
            .where(AuditEvent.ticket_id == ticket.id, AuditEvent.action.in_(["sla_warning", "sla_breach"]))
            .order_by(AuditEvent.id)
        )]


def dispatched_ticket(api, *, impact="medium", urgency="medium") -> str:
    from engine.clock import now

    number = api.new_ticket(occurred_at=now().isoformat())["number"]  # issue 13 refuses an occurrence in the future
    api.complete("agent1", number, "classify", category="network", impact=impact, urgency=urgency)
    api.complete("agent1", number, "online_fix", outcome="dispatch")
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    return number


def pause(api, number, who="eng1", reason="等待客户提供设备日志"):
    return api.post(who, f"/api/tickets/{number}/pause", json={"reason": reason})


def resume(api, number, who="eng1"):
    return api.post(who, f"/api/tickets/{number}/resume")


def test_a_pause_over_a_night_moves_due_and_warning_by_the_paused_working_time(app, api):
    with time_machine.travel(sh(2026, 11, 23, 9, 0), tick=False) as clock:  # Monday, winter hours
        number = dispatched_ticket(api)
        sla = api.ticket(number)["sla"]["resolution"]
        assert at(sla["due_at"]) == sh(2026, 11, 23, 17, 0)  # 09:00 + 480
        assert at(sla["warn_at"]) == sh(2026, 11, 23, 15, 0)  # 09:00 + 360

        clock.move_to(sh(2026, 11, 23, 14, 0))
        res = pause(api, number)
        assert res.status_code == 200, res.get_json()
        body = res.get_json()
        assert body["paused"] is True
        assert body["pauses"][0]["by"] == "eng1" and body["pauses"][0]["clocks"] == ["resolution"]
        assert body["pauses"][0]["reason"] == "等待客户提供设备日志" and body["pauses"][0]["to"] is None

        for hour, minute in ((15, 30), (17, 30), (23, 0)):  # past the old warning and due: nothing fires
            clock.move_to(sh(2026, 11, 23, hour, minute))
            assert run_worker(app) == 0
        clock.move_to(sh(2026, 11, 24, 10, 0))
        assert run_worker(app) == 0
        assert sla_events(app, number) == []

        res = resume(api, number)
        assert res.status_code == 200, res.get_json()
        ticket = res.get_json()
        sla = ticket["sla"]["resolution"]
        # paused: Mon 14:00–18:00 (240) + Tue 08:00–10:00 (120) = 360 working minutes
        assert ticket["paused"] is False and ticket["pauses"][0]["paused_minutes"] == {"resolution": 360}
        assert at(ticket["pauses"][0]["to"]) == sh(2026, 11, 24, 10, 0)
        assert sla["paused_seconds"] == 360 * 60
        assert at(sla["due_at"]) == sh(2026, 11, 24, 13, 0)  # Mon 17:00 + 360: 60 on Mon, Tue 08:00 + 300
        assert at(sla["warn_at"]) == sh(2026, 11, 24, 11, 0)  # Mon 15:00 + 360: 180 on Mon, Tue 08:00 + 180
        assert at(api.task("eng1", number, "engineer")["due_at"]) == sh(2026, 11, 24, 13, 0)

        clock.move_to(sh(2026, 11, 24, 10, 59))
        assert run_worker(app) == 0
        clock.move_to(sh(2026, 11, 24, 11, 0, 1))
        assert run_worker(app) == 1
        clock.move_to(sh(2026, 11, 24, 12, 59))
        assert run_worker(app) == 0
        clock.move_to(sh(2026, 11, 24, 13, 0, 1))
        assert run_worker(app) == 1
    assert sla_events(app, number) == [("sla_warning", "resolution"), ("sla_breach", "resolution")]


def test_pauses_across_a_holiday_the_season_change_and_a_make_up_day(app, api):
    with time_machine.travel(sh(2026, 9, 30, 16, 0), tick=False) as clock:  # Wed, last summer day (closes 17:30)
        number = dispatched_ticket(api)
        sla = api.ticket(number)["sla"]["resolution"]
        # 16:00–17:30 = 90; 1–7 Oct off; Thu 8 Oct (winter) 08:00 + 390 = 14:30
        assert at(sla["due_at"]) == sh(2026, 10, 8, 14, 30)
        assert at(sla["warn_at"]) == sh(2026, 10, 8, 12, 30)  # 90 + 270

        clock.move_to(sh(2026, 9, 30, 17, 0))
        assert pause(api, number).status_code == 200
        clock.move_to(sh(2026, 10, 9, 9, 0))
        assert run_worker(app) == 0
        sla = resume(api, number).get_json()["sla"]["resolution"]
        # paused: 30 Sep 17:00–17:30 (30) + 8 Oct 08:00–18:00 (600) + 9 Oct 08:00–09:00 (60) = 690
        assert sla["paused_seconds"] == 690 * 60
        assert at(sla["due_at"]) == sh(2026, 10, 9, 16, 0)  # 8 Oct 14:30 + 690: 210 on 8 Oct, 9 Oct 08:00 + 480
        assert at(sla["warn_at"]) == sh(2026, 10, 9, 14, 0)  # 8 Oct 12:30 + 690: 330, then 08:00 + 360

        clock.move_to(sh(2026, 10, 9, 12, 0))  # Friday noon: waiting for the vendor
        assert pause(api, number, reason="等待厂商备件").status_code == 200
        clock.move_to(sh(2026, 10, 12, 9, 0))  # Monday
        assert run_worker(app) == 0
        ticket = resume(api, number, who="lead1").get_json()
        sla = ticket["sla"]["resolution"]
        # paused: 9 Oct 12:00–18:00 (360) + Sat 10 Oct make-up day (600) + 12 Oct 08:00–09:00 (60) = 1020
        assert ticket["pauses"][1]["paused_minutes"] == {"resolution": 1020}
        assert ticket["pauses"][1]["resumed_by"] == "lead1"
        assert sla["paused_seconds"] == (690 + 1020) * 60
        assert at(sla["due_at"]) == sh(2026, 10, 12, 13, 0)  # 9 Oct 16:00 + 1020: 120, Sat 600, Mon 08:00 + 300
        assert at(sla["warn_at"]) == sh(2026, 10, 12, 11, 0)  # 9 Oct 14:00 + 1020: 240, Sat 600, Mon 08:00 + 180

        clock.move_to(sh(2026, 10, 12, 12, 0))
        run_worker(app)
        api.complete("eng1", number, "engineer", outcome="resolved", solution="更换电源模块")
        sla = api.ticket(number)["sla"]["resolution"]
    assert sla["breached"] is False and sla["warned_at"]
    assert sla_events(app, number) == [("sla_warning", "resolution")]


def test_a_24x7_pause_over_a_weekend_counts_every_minute(app, api):
    with time_machine.travel(sh(2026, 11, 27, 16, 0), tick=False) as clock:  # Friday
        number = dispatched_ticket(api, urgency="high")
        ticket = api.ticket(number)
        assert ticket["priority"] == "P2" and ticket["sla_calendar"] == "24x7"
        assert at(ticket["sla"]["resolution"]["due_at"]) == sh(2026, 11, 27, 20, 0)
        clock.move_to(sh(2026, 11, 27, 17, 0))
        pause(api, number)
        clock.move_to(sh(2026, 11, 30, 9, 0))  # Monday: 64 hours later
        sla = resume(api, number).get_json()["sla"]["resolution"]
    assert sla["paused_seconds"] == 64 * 3600
    assert at(sla["due_at"]) == sh(2026, 11, 30, 12, 0)  # Fri 20:00 + 64 h


def test_a_p1_pause_holds_the_emergency_close_clock_and_never_the_timely_one(app, api):
    """Merge of issues 8 and 10: issue 8's emergency close clock stops for a pause (wall clock, 60 min);
    timely handling already stopped at the hand-off, before the back-line step the pause is on."""
    with time_machine.travel(sh(2026, 11, 23, 9, 0), tick=False) as clock:
        number = dispatched_ticket(api, impact="high", urgency="high")
        assert api.ticket(number)["priority"] == "P1"
        clock.move_to(sh(2026, 11, 23, 9, 10))
        assert pause(api, number).status_code == 200
        ticket = api.ticket(number)
        assert sorted(ticket["pauses"][0]["clocks"]) == ["emergency_close", "resolution"]
        assert ticket["sla"]["timely"]["stopped_at"] is not None
        clock.move_to(sh(2026, 11, 23, 11, 0))  # both 60-minute clocks would be late by now
        assert run_worker(app) == 0  # held clocks wake nobody
        held = api.ticket(number)["sla"]["emergency_close"]
        assert held["breached"] is False and held["warned_at"] is None
        sla = resume(api, number).get_json()["sla"]["emergency_close"]
    assert sla["paused_seconds"] == 110 * 60
    assert at(sla["due_at"]) == sh(2026, 11, 23, 11, 50) and sla["breached"] is False


def test_finishing_the_step_while_paused_ends_the_pause(app, api):
    with time_machine.travel(sh(2026, 11, 23, 9, 0), tick=False) as clock:
        number = dispatched_ticket(api)
        clock.move_to(sh(2026, 11, 23, 16, 0))
        pause(api, number)
        clock.move_to(sh(2026, 11, 24, 9, 0))  # past the old due (Mon 17:00)
        api.complete("eng1", number, "engineer", outcome="resolved", solution="客户已自行恢复")
        ticket = api.ticket(number)
    sla = ticket["sla"]["resolution"]
    # paused Mon 16:00–18:00 (120) + Tue 08:00–09:00 (60) = 180: due Mon 17:00 + 180 = Tue 10:00
    assert ticket["paused"] is False and ticket["pauses"][0]["resumed_by"] == "eng1"
    assert at(sla["due_at"]) == sh(2026, 11, 24, 10, 0)
    assert at(sla["stopped_at"]) == sh(2026, 11, 24, 9, 0) and sla["breached"] is False
    # no breach; the warning (Mon 15:00, 75 % of 480) is noticed when the pause projects the ticket at
    # 16:00 (issue 8 judges every clock at every step, not only when a timer fires)
    assert sla_events(app, number) == [("sla_warning", "resolution")]


def test_the_contract_409_422_403(app, api):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
    res = pause(api, number, who="agent1")
    assert res.status_code == 409  # the desk's online fix is not a back-line step
    api.complete("agent1", number, "online_fix", outcome="dispatch")
    assert pause(api, number, who="pm1").status_code == 200  # the PM holds the ticket now
    assert pause(api, number, who="pm1").status_code == 409
    assert resume(api, number, who="pm1").status_code == 200
    assert resume(api, number, who="pm1").status_code == 409
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    res = pause(api, number, reason="  ")
    assert res.status_code == 422 and "reason" in res.get_json()["fields"]
    assert api.post("eng1", f"/api/tickets/{number}/pause", json=["x"]).status_code == 422
    assert pause(api, number, who="eng2").status_code == 403  # not the holder
    assert pause(api, number, who="agent1").status_code == 403
    assert api.post("eng1", "/api/tickets/INC-19990101-0001/pause", json={"reason": "x"}).status_code == 404
    assert pause(api, number, who="lead1").status_code == 200
    assert resume(api, number, who="admin1").status_code == 200
    ticket = api.ticket(number)
    assert [p["by"] for p in ticket["pauses"]] == ["pm1", "lead1"]
    assert [h["action"] for h in ticket["history"]].count("pause") == 2


def test_which_clocks_a_pause_stops_is_data(app, api):
    with app.app_context():
        pauses.set_rule(db.session, "resolution", False, user=users.get_user(db.session, "admin1"))
        db.session.commit()
    with time_machine.travel(sh(2026, 11, 23, 9, 0), tick=False) as clock:
        number = dispatched_ticket(api)
        clock.move_to(sh(2026, 11, 23, 14, 0))
        body = pause(api, number).get_json()
        assert body["paused"] is True and body["pauses"][0]["clocks"] == []
        clock.move_to(sh(2026, 11, 23, 15, 0, 1))
        assert run_worker(app) == 1  # the resolution warning still fires
        clock.move_to(sh(2026, 11, 24, 10, 0))
        sla = resume(api, number).get_json()["sla"]["resolution"]
    assert at(sla["due_at"]) == sh(2026, 11, 23, 17, 0) and sla["paused_seconds"] == 0


def test_kpis_read_clocks_with_and_without_pauses(app, api):
    with time_machine.travel(sh(2026, 11, 23, 9, 0), tick=False) as clock:
        number = dispatched_ticket(api)
        clock.move_to(sh(2026, 11, 23, 14, 0))
        pause(api, number)
        clock.move_to(sh(2026, 11, 24, 10, 0))
        resume(api, number)
        clock.move_to(sh(2026, 11, 24, 11, 0))
        api.complete("eng1", number, "engineer", outcome="resolved", solution="已修复")
    with app.app_context():
        row = db.session.scalars(select(SlaClock).join(Ticket).where(Ticket.number == number,
                                                                      SlaClock.name == "resolution")).one()
        # Mon 09:00–18:00 (540) + Tue 08:00–11:00 (180) = 720 working minutes, 360 of them paused
        assert pauses.elapsed_minutes(row) == 720
        assert pauses.elapsed_minutes(row, with_pauses=False) == 360
        total = db.session.scalar(select(func.sum(SlaClock.paused_seconds)))
        assert total == 360 * 60
        ready = db.session.scalar(select(func.count()).select_from(HumanTask)
                                  .where(HumanTask.state == TaskState.READY, HumanTask.due_at.is_(None)))
        assert ready == 0  # no READY task carries the parked deadline


def test_the_month_with_pauses_excused_and_counted(app, api):
    from engine.reporting.pauses import clock_report

    with time_machine.travel(sh(2026, 11, 23, 9, 0), tick=False) as clock:
        paused = dispatched_ticket(api)
        straight = dispatched_ticket(api)
        clock.move_to(sh(2026, 11, 23, 14, 0))
        pause(api, paused)
        clock.move_to(sh(2026, 11, 24, 10, 0))
        resume(api, paused)
        clock.move_to(sh(2026, 11, 24, 11, 0))  # 720 working minutes after acceptance, 360 of them paused
        api.complete("eng1", paused, "engineer", outcome="resolved", solution="已修复")
        api.complete("eng1", straight, "engineer", outcome="resolved", solution="已修复")  # 720, never paused
    with app.app_context():
        report = clock_report(db.session, "resolution", start=sh(2026, 11, 1, 0, 0), end=sh(2026, 12, 1, 0, 0))
    assert report == {"clocks": 2, "on_time_excused": 1, "on_time_counted": 0, "paused_clocks": 1,
                      "paused_minutes": 360.0}
