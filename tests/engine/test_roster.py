"""The duty roster: shift times by season, who is on duty, swaps approved by a lead, out-of-hours routing."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from engine.desk import roster, users
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import DutyShift, HumanTask, Notification, TaskState, Ticket
from webforms.extensions import db

SH = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def shifts(db_session):
    roster.ensure_shifts(db_session)
    db_session.commit()
    return {s.code: s for s in db_session.scalars(select(DutyShift))}


def person(session, name):
    return users.get_user(session, name)


def test_shift_times_follow_the_season(shifts):
    assert roster.interval(shifts["day"], date(2026, 11, 23)) == (sh(2026, 11, 23, 8, 0), sh(2026, 11, 23, 18, 0))
    assert roster.interval(shifts["day"], date(2026, 7, 1)) == (sh(2026, 7, 1, 8, 0), sh(2026, 7, 1, 17, 30))
    # the last summer evening runs into the first winter morning
    assert roster.interval(shifts["night"], date(2026, 9, 30)) == (sh(2026, 9, 30, 17, 30), sh(2026, 10, 1, 8, 0))
    assert roster.interval(shifts["full"], date(2026, 10, 1)) == (sh(2026, 10, 1, 0, 0), sh(2026, 10, 2, 0, 0))


def test_who_is_on_duty_and_a_swap_approved_by_the_lead(db_session, shifts):
    lead = person(db_session, "lead1")
    night = roster.assign(db_session, date(2026, 11, 23), "night", "agent1", user=lead)
    roster.assign(db_session, date(2026, 11, 23), "day", "lead1", user=lead)
    assert roster.on_duty(db_session, sh(2026, 11, 23, 17, 59)) == ["lead1"]
    assert roster.on_duty(db_session, sh(2026, 11, 24, 3, 0)) == ["agent1"]  # Monday's night shift, Tuesday 03:00
    assert roster.on_duty(db_session, sh(2026, 11, 24, 8, 0)) == []
    with pytest.raises(Conflict):
        roster.assign(db_session, date(2026, 11, 23), "night", "agent1", user=lead)
    with pytest.raises(Forbidden):
        roster.assign(db_session, date(2026, 11, 24), "night", "agent1", user=person(db_session, "agent1"))
    with pytest.raises(Invalid):
        roster.assign(db_session, date(2026, 11, 24), "night", "nobody", user=lead)

    with pytest.raises(Forbidden):  # only for one's own shift
        roster.request_swap(db_session, night.id, "eng1", "", user=person(db_session, "eng2"))
    swap = roster.request_swap(db_session, night.id, "admin1", "家中有事", user=person(db_session, "agent1"))
    assert roster.on_duty(db_session, sh(2026, 11, 24, 3, 0)) == ["agent1"]  # not before a lead approves
    with pytest.raises(Forbidden):
        roster.decide_swap(db_session, swap.id, True, user=person(db_session, "agent1"))
    roster.decide_swap(db_session, swap.id, True, user=lead)
    assert roster.on_duty(db_session, sh(2026, 11, 24, 3, 0)) == ["admin1"]
    assert night.rostered == "agent1" and swap.decided_by == "lead1"
    with pytest.raises(Conflict):
        roster.decide_swap(db_session, swap.id, False, user=lead)
    refused = roster.request_swap(db_session, night.id, "lead1", "", user=person(db_session, "admin1"))
    roster.decide_swap(db_session, refused.id, False, user=lead)
    assert roster.on_duty(db_session, sh(2026, 11, 24, 3, 0)) == ["admin1"] and refused.status == "refused"


def test_an_out_of_hours_ticket_goes_to_the_person_on_duty(app, api):
    with app.app_context():
        roster.ensure_shifts(db.session)
        roster.assign(db.session, date(2026, 11, 23), "night", "agent1", user=person(db.session, "lead1"))
        roster.assign(db.session, date(2026, 11, 24), "day", "lead1", user=person(db.session, "lead1"))
        db.session.commit()
    with time_machine.travel(sh(2026, 11, 24, 3, 0), tick=False):  # Tuesday 03:00: out of hours
        number = api.new_ticket("admin1", title="夜间监控告警")["number"]
        assert api.task("agent1", number, "classify")["assignee"] == "agent1"
        api.complete("agent1", number, "classify", category="network", impact="low", urgency="low")
        assert api.task("agent1", number, "online_fix")["assignee"] == "agent1"
    with time_machine.travel(sh(2026, 11, 24, 9, 0), tick=False):  # in hours: group tasks as usual
        day_number = api.new_ticket("admin1", title="白天来电")["number"]  # not kept by the registrant (issue 13)
        assert api.task("agent1", day_number, "classify")["assignee"] is None
    with app.app_context():
        night, day = (db.session.scalars(select(Ticket).where(Ticket.number == n)).one() for n in (number, day_number))
        assert night.on_duty == "agent1" and day.on_duty == "lead1"
        assert night.assignee == "agent1"
        bells = db.session.scalars(select(Notification.kind).where(Notification.username == "agent1",
                                                                   Notification.ticket_id == night.id)).all()
        assert bells.count("assigned") == 1  # classify from the roster; online_fix she keeps herself (no bell)
        assert db.session.scalar(select(HumanTask.assignee).where(HumanTask.ticket_id == day.id,
                                                                  HumanTask.state == TaskState.READY)) is None
