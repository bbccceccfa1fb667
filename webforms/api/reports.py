"""KPIs and scorecards of a period (leads, admins): the same JSON as ``desk report``."""

from flask import current_app, request

from engine.reporting import periods, reports

from ..extensions import db
from . import bp, token_required


def period_from(args) -> periods.Period:
    """``period=2026-10|2026-Q4|2026-H2|2026``, ``cycle=2026-11`` or ``from=…&to=…``; 422 when unreadable."""
    return periods.parse(period=args.get("period"), cycle=args.get("cycle"), first=args.get("from"),
                         last=args.get("to"), cycle_start=current_app.config["DESK_CYCLE_START_DAY"])


@bp.get("/kpi")
@token_required("lead", "admin")
def kpi():
    report = reports.kpi_report(db.session, period_from(request.args))
    db.session.rollback()  # a read: the scorecard defaults it may have added are not kept
    return report


@bp.get("/scorecard")
@token_required("lead", "admin")
def scorecard():
    report = reports.scorecard_report(db.session, period_from(request.args))
    db.session.rollback()
    return report
