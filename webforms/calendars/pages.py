"""The calendar page (admins): business hours per season, extra closed/working days, a year's holidays.

SLA due times are counted in these hours and days (``engine.desk.calendars``);
what is saved here is used at once by this process and within
``workdays.MAX_AGE`` seconds by every other server and worker.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.clock import now
from engine.desk import pauses, workdays
from engine.errors import Invalid

from ..auth import staff, staff_required
from ..extensions import db

bp = Blueprint("calendars", __name__, url_prefix="/calendars")

CLOCK_NAMES = {"response": _l("Response"), "handoff": _l("Hand-off"), "resolution": _l("Resolution"),
               "callback": _l("Callback"), "emergency_close": _l("Emergency close")}


@bp.before_app_request
def current_calendar() -> None:
    """Every request counts in the calendar admins stored (reloaded at most every MAX_AGE seconds)."""
    workdays.refresh(db.session)


def _year() -> int:
    year = request.values.get("year", type=int) or now().year
    return min(max(year, 2004), 2100)


@bp.get("")
@staff_required("admin", "lead")
def index(errors: dict | None = None, status: int = 200):
    year = _year()
    return render_template(
        "calendars/index.html", year=year, hours=request.form if errors else workdays.hours(db.session),
        notes={d.day: d.note for d in workdays.days(db.session, year)}, exceptions=workdays.exceptions(year),
        errors=errors or {}, pause_rules=pauses.rules(db.session), clock_names=CLOCK_NAMES,
        may_edit=staff().has_role("admin"),
    ), status


@bp.post("/hours")
@staff_required("admin")
def save_hours():
    try:
        workdays.set_hours(db.session, request.form.to_dict(), user=staff())
    except Invalid as exc:
        db.session.rollback()
        return index(errors=exc.fields or {}, status=422)
    db.session.commit()
    flash(_("The working hours are saved."), "success")
    return redirect(url_for("calendars.index", year=_year()))


@bp.post("/days")
@staff_required("admin")
def add_days():
    try:
        added = workdays.set_days(db.session, request.form.get("days", ""), request.form.get("working") == "1",
                                  request.form.get("note", ""), user=staff())
    except Invalid as exc:
        db.session.rollback()
        return index(errors=exc.fields or {}, status=422)
    db.session.commit()
    flash(_("%(n)s day(s) saved.", n=len(added)), "success")
    return redirect(url_for("calendars.index", year=added[0].day.year))


@bp.post("/days/<day>/delete")
@staff_required("admin")
def remove_day(day: str):
    parsed = workdays.parse_day(day)
    workdays.remove_day(db.session, parsed)
    db.session.commit()
    flash(_("The day follows the holiday calendar again."), "success")
    return redirect(url_for("calendars.index", year=parsed.year))


@bp.post("/pause-rules")
@staff_required("admin")
def save_pause_rules():
    """Which SLA clocks a pause (挂起) stops: data, not code."""
    for clock in pauses.rules(db.session):
        pauses.set_rule(db.session, clock, request.form.get(f"stops.{clock}") == "on", user=staff())
    db.session.commit()
    flash(_("The pause rules are saved."), "success")
    return redirect(url_for("calendars.index", year=_year()))
