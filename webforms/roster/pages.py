"""The duty roster (值班表): a week of shifts; leads and admins plan it and approve swaps (顶岗).

Anyone signed in sees who is on duty; the person on a shift asks for a swap from here.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.clock import now
from engine.desk import roster, users
from engine.errors import Conflict, Invalid

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import engine_text

bp = Blueprint("roster", __name__, url_prefix="/roster")

# the default shifts' names in the page's language; a shift a lead renamed keeps its own name
DEFAULT_NAMES = {code: (name, word) for (code, name, *_rest), word in
                 zip(roster.DEFAULT_SHIFTS, (_l("Day shift"), _l("Night shift"), _l("All day")), strict=True)}


def shift_name(shift) -> str:
    default = DEFAULT_NAMES.get(shift.code)
    return str(default[1]) if default and shift.name == default[0] else shift.name


@bp.app_context_processor
def _shift_names() -> dict:
    return {"shift_name": shift_name}


def _monday() -> date:
    raw = request.values.get("week", "")
    try:
        day = date.fromisoformat(raw) if raw else now().astimezone(roster.LOCAL_TZ).date()
    except ValueError:
        day = now().astimezone(roster.LOCAL_TZ).date()
    return day - timedelta(days=day.weekday())


def _back(monday: date):
    return redirect(url_for("roster.index", week=monday.isoformat()))


@bp.get("")
@staff_required()
def index():
    monday = _monday()
    shifts = roster.ensure_shifts(db.session)
    db.session.commit()
    days = [monday + timedelta(days=i) for i in range(7)]
    grid: dict = {}
    for row in roster.assignments(db.session, days[0], days[-1]):
        grid.setdefault((row.day, row.shift_code), []).append(row)
    me = staff()
    return render_template(
        "roster/index.html", monday=monday, days=days, shifts=shifts, grid=grid, on_duty=roster.on_duty(db.session),
        swaps=roster.pending_swaps(db.session), may_plan=me.has_role("lead", "admin"), me=me.username,
        people=[u.username for u in users.users_with_role(db.session, "agent")],
        prev_week=(monday - timedelta(days=7)).isoformat(), next_week=(monday + timedelta(days=7)).isoformat(),
    )


@bp.post("/assign")
@staff_required("lead", "admin")
def assign():
    monday = _monday()
    try:
        day = date.fromisoformat(request.form.get("day", ""))
        roster.assign(db.session, day, request.form.get("shift", ""), request.form.get("username", ""), user=staff())
    except ValueError:
        db.session.rollback()
        flash(_("Pick a day."), "error")
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        flash(engine_text(exc.message), "error")
    else:
        db.session.commit()
    return _back(monday)


@bp.post("/<int:assignment_id>/delete")
@staff_required("lead", "admin")
def unassign(assignment_id: int):
    roster.unassign(db.session, assignment_id, user=staff())
    db.session.commit()
    return _back(_monday())


@bp.post("/<int:assignment_id>/swap")
@staff_required()
def request_swap(assignment_id: int):
    try:
        roster.request_swap(db.session, assignment_id, request.form.get("to_user", ""), request.form.get("reason", ""),
                            user=staff())
    except Invalid as exc:
        db.session.rollback()
        flash(engine_text(exc.message), "error")
    else:
        db.session.commit()
        flash(_("Swap requested; a lead decides."), "success")
    return _back(_monday())


@bp.post("/swaps/<int:swap_id>")
@staff_required("lead", "admin")
def decide(swap_id: int):
    try:
        roster.decide_swap(db.session, swap_id, request.form.get("approve") == "1", user=staff())
    except Conflict as exc:
        db.session.rollback()
        flash(engine_text(exc.message), "error")
    else:
        db.session.commit()
    return _back(_monday())
