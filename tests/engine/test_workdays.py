"""The admins' calendar over the Chinese holidays: hand-entered days and hours move due times.

Hand-computed expectations. Winter hours 08:00–18:00; summer 08:00–17:30 (1 May – 30 Sep).
chinesecalendar 1.11 knows nothing of 2027: without an admin's list, Monday–Friday work.
The "2027 Spring Festival" used here is the list an admin types in: closed Mon 8 – Fri
12 Feb 2027, make-up working day Sat 20 Feb 2027.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from engine.desk import calendars, users, workdays
from engine.desk.calendars import add_minutes, is_workday
from engine.errors import Invalid
from webforms.extensions import db

SH = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(autouse=True)
def built_in_calendar():
    workdays.forget()
    yield
    workdays.forget()


@pytest.fixture
def admin(db_session):
    return users.get_user(db_session, "admin1")


def enter_2027_spring_festival(session, admin) -> None:
    workdays.set_days(session, "2027-02-08, 2027-02-09, 2027-02-10\n2027-02-11 2027-02-12", False, "春节", user=admin)
    workdays.set_day(session, date(2027, 2, 20), True, "春节调休", user=admin)
    session.commit()


def test_2027_falls_back_to_monday_to_friday_until_entered(db_session, admin):
    assert is_workday(date(2027, 2, 8)) and not is_workday(date(2027, 2, 20))
    assert add_minutes(sh(2027, 2, 5, 17, 0), 120, "business") == sh(2027, 2, 8, 9, 0)
    enter_2027_spring_festival(db_session, admin)
    assert not is_workday(date(2027, 2, 8)) and is_workday(date(2027, 2, 20))
    # Fri 17:00–18:00 = 60; Sat–Sun off, Mon 8–Fri 12 closed, Sat–Sun off; Mon 15 08:00 + 60
    assert add_minutes(sh(2027, 2, 5, 17, 0), 120, "business") == sh(2027, 2, 15, 9, 0)
    # Fri 19 17:30–18:00 = 30; the make-up Saturday 20 Feb: 08:00 + 30
    assert add_minutes(sh(2027, 2, 19, 17, 30), 60, "business") == sh(2027, 2, 20, 8, 30)
    assert calendars.day_source(date(2027, 2, 8)) == "admin"
    assert calendars.day_source(date(2027, 3, 1)) == "weekday"


def test_extra_closed_and_working_days_on_top_of_the_package(db_session, admin):
    workdays.set_day(db_session, date(2026, 12, 30), False, "公司年会", user=admin)  # a Wednesday
    workdays.set_day(db_session, date(2026, 12, 27), True, "值班日", user=admin)  # a Sunday
    db_session.commit()
    # Tue 29 Dec 17:00–18:00 = 60; Wed 30 closed; Thu 31 08:00 + 60
    assert add_minutes(sh(2026, 12, 29, 17, 0), 120, "business") == sh(2026, 12, 31, 9, 0)
    # Fri 25 Dec 17:30–18:00 = 30; Sat off; Sun 27 declared working: 08:00 + 30
    assert add_minutes(sh(2026, 12, 25, 17, 30), 60, "business") == sh(2026, 12, 27, 8, 30)
    assert calendars.day_source(date(2026, 10, 1)) == "package"
    workdays.remove_day(db_session, date(2026, 12, 30))
    db_session.commit()
    assert add_minutes(sh(2026, 12, 29, 17, 0), 120, "business") == sh(2026, 12, 30, 9, 0)


def test_season_hours_are_data(db_session, admin):
    workdays.set_hours(db_session, {"opens": "08:30", "summer_closes": "17:00", "winter_closes": "18:00",
                                    "summer_start": "06-01", "summer_end": "09-30"}, user=admin)
    db_session.commit()
    # Fri 15 May 2026 is winter now (summer starts 1 Jun): 17:00–18:00 = 60; Mon 18 May 08:30 + 30
    assert add_minutes(sh(2026, 5, 15, 17, 0), 90, "business") == sh(2026, 5, 18, 9, 0)
    # Mon 1 Jun is summer: 16:30–17:00 = 30; Tue 2 Jun 08:30 + 30
    assert add_minutes(sh(2026, 6, 1, 16, 30), 60, "business") == sh(2026, 6, 2, 9, 0)
    assert workdays.hours(db_session)["opens"] == "08:30"


@pytest.mark.parametrize(
    "values, field",
    [
        ({"opens": "8:00"}, "opens"),
        ({"summer_closes": "07:00"}, "summer_closes"),
        ({"summer_start": "13-01"}, "summer_start"),
        ({"summer_start": "10-01", "summer_end": "09-30"}, "summer_end"),
    ],
)
def test_bad_hours_are_refused_and_nothing_changes(db_session, admin, values, field):
    good = {"opens": "08:00", "summer_closes": "17:30", "winter_closes": "18:00", "summer_start": "05-01",
            "summer_end": "09-30"}
    with pytest.raises(Invalid) as refused:
        workdays.set_hours(db_session, {**good, **values}, user=admin)
    assert field in refused.value.fields
    assert calendars._resolve("business") == calendars.BUSINESS


def test_bad_days_are_refused(db_session, admin):
    with pytest.raises(Invalid):
        workdays.set_days(db_session, "2027-02-30", False, user=admin)
    with pytest.raises(Invalid):
        workdays.set_days(db_session, "  ", False, user=admin)


def test_a_ticket_accepted_before_the_entered_holiday_is_due_after_it(app, api):
    with app.app_context():
        enter_2027_spring_festival(db.session, users.get_user(db.session, "admin1"))
    accepted = sh(2027, 2, 5, 17, 0)
    with time_machine.travel(accepted, tick=False):
        number = api.new_ticket(occurred_at="2027-02-05T16:30:00+08:00")["number"]
        api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
        sla = api.ticket(number)["sla"]
    assert api.ticket(number)["priority"] == "P3"
    # response 60 business minutes: Fri 17:00–18:00 → due at closing, Fri 18:00
    assert datetime.fromisoformat(sla["response"]["due_at"]) == sh(2027, 2, 5, 18, 0)
    # resolution 480: 60 on Fri, then Mon 15 Feb 08:00 + 420 = 15:00
    assert datetime.fromisoformat(sla["resolution"]["due_at"]) == sh(2027, 2, 15, 15, 0)


def test_sla_due_in_the_sandbox_uses_the_entered_days(db_session, admin):
    from engine.runtime.sandbox import sla_due

    enter_2027_spring_festival(db_session, admin)
    start = sh(2027, 2, 5, 17, 0).astimezone(ZoneInfo("UTC")).isoformat()
    assert datetime.fromisoformat(sla_due(120, "business", start)) == sh(2027, 2, 15, 9, 0)
    assert datetime.fromisoformat(sla_due(120, "24x7", start)) == sh(2027, 2, 5, 19, 0)
