"""The calendar page: leads read it, admins enter days and hours."""

from __future__ import annotations

from datetime import date

import pytest

from engine.desk import workdays
from engine.desk.calendars import is_workday


@pytest.fixture(autouse=True)
def built_in_calendar():
    workdays.forget()
    yield
    workdays.forget()


def test_the_calendar_page(app, desk):
    desk.login("lead1")
    page = desk.text("/calendars?year=2026")
    assert "2026-10-01" in page and "2026-10-10" in page  # National Day off, its make-up Saturday
    assert 'name="days"' not in page  # leads read, admins edit
    desk.login("admin1")
    res = desk.post("/calendars/days", {"days": "2027-02-08 2027-02-09", "working": "0", "note": "春节"})
    assert res.status_code == 302
    page = desk.text("/calendars?year=2027")
    assert "2027-02-09" in page and "春节" in page
    bad = desk.post("/calendars/hours?year=2027", {"opens": "25:00", "summer_closes": "17:30",
                                                    "winter_closes": "18:00", "summer_start": "05-01",
                                                    "summer_end": "09-30"})
    assert bad.status_code == 422 and "HH:MM" in bad.get_data(as_text=True)
    desk.post("/calendars/days/2027-02-09/delete")
    assert "2027-02-09" not in desk.text("/calendars?year=2027")
    assert not is_workday(date(2027, 2, 8)) and is_workday(date(2027, 2, 9))
    assert desk.get("/calendars").status_code == 200
    desk.login("agent1")
    assert desk.get("/calendars").status_code == 403


def test_an_admin_chooses_which_clocks_a_pause_stops(app, desk):
    from engine.desk import pauses
    from webforms.extensions import db

    desk.login("admin1")
    page = desk.text("/calendars")
    assert 'name="stops.resolution" checked' in page and 'name="stops.callback">' in page
    desk.post("/calendars/pause-rules", {"stops.callback": "on"})
    with app.app_context():
        assert pauses.stopped_clocks(db.session) == {"callback"}
