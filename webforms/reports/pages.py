"""Reports (leads, admins): the KPIs of a period with their targets, charts and breakdowns, the
tickets behind every figure, CSV/XLSX downloads; the two scorecards with the lead's manual
entries and the admin's item settings; the admin's history import with a preview.

Every figure comes from ``engine.reporting`` (one definition per KPI); these views only pick
the period, render, and commit the entries and imports.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from datetime import date, datetime, timezone
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from engine.desk.tickets import LOCAL_TZ
from engine.errors import Invalid, NotFound
from engine.models import Role, User
from engine.reporting import imports, kpis, reports, scorecards

from ..api.reports import period_from
from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import diagram_words, element_name, engine_text, is_english

bp = Blueprint("reports", __name__, url_prefix="/reports")

READERS = ("lead", "admin")
PER_PAGE = 50
KPI_NAMES = {
    "timely_rate": _l("Handled on time"), "emergency_response": _l("Emergency response"),
    "emergency_close": _l("Emergency close"), "satisfaction_rate": _l("Satisfaction"),
    "callback_rate": _l("Callback rate"), "dispatch_success_rate": _l("Dispatch success"),
    "qualified_rate": _l("Qualified dispatches"), "completeness_rate": _l("Record completeness"),
    "completion_rate": _l("Completion"), "mean_resolution_minutes": _l("Mean resolution time"),
    "answer_rate": _l("Calls answered on time"),
}  # fmt: skip
KPI_HELP = {
    "timely_rate": _l("Closed tickets closed or handed to the back line within 1 hour of acceptance"),
    "emergency_response": _l("P1 tickets accepted: responded more than 15 minutes after they occurred"),
    "emergency_close": _l("P1 tickets closed: closed more than 60 minutes after acceptance"),
    "satisfaction_rate": _l("Rated callbacks: very satisfied, satisfied or basically satisfied"),
    "callback_rate": _l("Tickets accepted: called back by the end of the period"),
    "dispatch_success_rate": _l("Tickets handed to the back line: never returned to the PM"),
    "qualified_rate": _l("Tickets handed to the back line: complete records"),
    "completeness_rate": _l("Tickets accepted: complete records"),
    "completion_rate": _l("Tickets accepted: closed by the end of the period"),
    "mean_resolution_minutes": _l("Tickets resolved: mean minutes from acceptance to resolution"),
    "answer_rate": _l("Answered calls: answered within 20 seconds"),
}  # fmt: skip
DIMENSION_NAMES = {
    "priority": _l("Priority"), "type": _l("Type"), "category": _l("Category"), "organisation": _l("Organisation"),
    "engineer": _l("Engineer"), "resolved_role": _l("Resolved by role"),
}  # fmt: skip
PART_NAMES = {"denominator": _l("all"), "numerator": _l("counted"), "missed": _l("not counted")}
LEVEL_NAMES = {"very_satisfied": _l("Very satisfied"), "satisfied": _l("Satisfied"),
               "basically_satisfied": _l("Basically satisfied"), "dissatisfied": _l("Dissatisfied")}
ROLE_WORDS = {"vendor": _l("Vendor"), "online_fix": _l("Desk (online fix)")}  # resolvers that are not role codes
BREAKDOWN_KPIS = ("timely_rate", "satisfaction_rate", "callback_rate", "dispatch_success_rate", "completeness_rate",
                  "completion_rate", "mean_resolution_minutes")


def _period_args() -> dict:
    """The query arguments that name the period on links (the ones the request used)."""
    return {k: v for k in ("period", "cycle", "from", "to") if (v := request.args.get(k))}


def _current_cycle() -> str:
    """The cycle today falls in, named by the month it ends in."""
    today = datetime.now(timezone.utc).astimezone(LOCAL_TZ).date()
    start = current_app.config["DESK_CYCLE_START_DAY"]
    year, month = today.year, today.month
    if start > 1 and today.day >= start:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year}-{month:02d}"


def tiles(report: dict) -> list[dict]:
    """Each figure with its target and whether it missed it (the page paints those red)."""
    out = []
    for name in kpis.KPIS:
        figure, target = report[name], report["targets"].get(name)
        tile = {"id": name, "label": KPI_NAMES[name], "help": KPI_HELP[name], "target": target, "missed": False}
        if name == "mean_resolution_minutes":
            tile.update(value=figure, text="—" if figure is None else _("%(m)s min", m=figure))
        elif "violations" in figure:
            tile.update(value=figure["violations"], text=str(figure["violations"]), detail=figure["count"],
                        missed=figure["violations"] > 0, tickets=figure["tickets"])
        else:
            value = figure["value"]
            tile.update(value=value, text="—" if value is None else f"{value * 100:.1f}%",
                        numerator=figure["numerator"], denominator=figure["denominator"],
                        missed=value is not None and target is not None and value < target)
        out.append(tile)
    return out


@bp.get("")
@staff_required(*READERS)
def index():
    if not _period_args():
        return redirect(url_for(".index", period=datetime.now(timezone.utc).astimezone(LOCAL_TZ).strftime("%Y-%m")))
    period = period_from(request.args)
    report = kpis.compute(db.session, period)
    chart = {
        "trend": reports.trend(db.session, period),
        "targets": report["targets"],
        "tiles": [{k: (str(v) if k in ("label", "help") else v) for k, v in t.items()} for t in tiles(report)],
        "satisfaction": [[str(LEVEL_NAMES[k]), n] for k, n in report["satisfaction_counts"].items()],
        "workload": reports.workload(db.session, period),
        "names": {k: str(v) for k, v in KPI_NAMES.items()},
        "links": {name: url_for(".behind", kpi=name, part="missed" if name not in ("emergency_response", "emergency_close") else "numerator", **_period_args())
                  for name in kpis.KPIS},
        "labels": {"target": _("Target"), "trend": _("Trend per month"), "sla": _("SLA compliance"),
                   "stage": _("Steps done by stage"), "person": _("Steps done by person"),
                   "satisfaction": _("Satisfaction mix")},
    }
    labels = key_labels()
    chart["workload"]["person"] = [[labels["engineer"].get(w, w), n] for w, n in chart["workload"]["person"]]
    chart["workload"]["stage"] = [[element_name(name, step), n] for name, n, step in chart["workload"]["stage"]]
    db.session.rollback()
    return render_template(
        "reports/index.html", period=period, report=report, tiles=tiles(report), chart=chart, args=_period_args(),
        dimension_names=DIMENSION_NAMES, breakdown_kpis=BREAKDOWN_KPIS, kpi_names=KPI_NAMES, key_labels=labels,
        level_names=LEVEL_NAMES, cycle=_current_cycle(),
    )


def key_labels() -> dict[str, dict]:
    """What people call the breakdown keys: type and category names, role names, people's names."""
    from ..tickets.pages import TYPE_NAMES, desk_version
    from ..tasks.forms import catalog

    version = desk_version()
    words = diagram_words(version)
    options = catalog(version).options if version else {}
    categories = {value: words.option(None, "category", value, name)
                  for value, name in options.get("category", {}).items()}
    roles = {r.code: (r.name_en if is_english() else r.name) for r in db.session.scalars(select(Role))}
    return {
        "type": {k: str(v) for k, v in TYPE_NAMES.items()},
        "category": categories,
        "organisation": {}, "priority": {},
        "engineer": {u.username: u.display_name or u.username for u in db.session.scalars(select(User))},
        "resolved_role": {**roles, **{k: str(v) for k, v in ROLE_WORDS.items() if k not in roles}},
    }


@bp.get("/kpi.<fmt>")
@bp.get("/scorecard.<fmt>", endpoint="scorecard_download")
@staff_required(*READERS)
def download(fmt: str):
    """The report of the period as CSV or XLSX (the same rows as ``desk report --format``)."""
    if fmt not in ("csv", "xlsx"):
        raise NotFound(_("No such download."))
    period = period_from(request.args)
    scorecard_only = request.endpoint.endswith("scorecard_download")
    report = (reports.scorecard_report if scorecard_only else reports.kpi_report)(db.session, period)
    db.session.rollback()
    name = f"{'scorecard' if scorecard_only else 'kpi'}-{period.first}-{period.last}.{fmt}"
    if fmt == "csv":
        return Response(reports.to_csv(report), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={name}"})
    return Response(reports.to_xlsx(report), headers={"Content-Disposition": f"attachment; filename={name}"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/tickets")
@staff_required(*READERS)
def behind():
    """The tickets (calls) behind one figure, paged in SQL."""
    period = period_from(request.args)
    kpi, part = request.args.get("kpi", ""), request.args.get("part", "denominator")
    dimension = request.args.get("dimension") or None
    key = None if request.args.get("null") else request.args.get("key", "")  # engineer, role: None when not set
    stmt = kpis.rows_behind(period, kpi, part, dimension=dimension, key=key)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, request.args.get("page", 1, type=int))
    rows = db.session.scalars(stmt.offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "reports/tickets.html", rows=rows, total=total, page=page, pages=max(1, math.ceil(total / PER_PAGE)),
        args=args, period_args=_period_args(), period=period, kpi=kpi, kpi_name=KPI_NAMES[kpi], part_name=PART_NAMES[part],
        dimension_name=DIMENSION_NAMES.get(dimension or ""), key=key, calls=kpi == "answer_rate",
        level_names=LEVEL_NAMES,
    )


# --- the scorecards ------------------------------------------------------------------------


@bp.get("/scorecard")
@staff_required(*READERS)
def scorecard():
    if not _period_args():
        return redirect(url_for(".scorecard", cycle=_current_cycle()))
    period = period_from(request.args)
    report = reports.scorecard_report(db.session, period)
    items = scorecards.ensure_items(db.session)
    entries = scorecards.entries(db.session, period)
    db.session.commit()  # the seeds' default items, the first time anyone looks
    user = staff()
    return render_template(
        "reports/scorecard.html", period=period, report=report, entries=entries, args=_period_args(),
        items={i.id: i for i in items}, manual=[i for i in items if i.source == "manual"],
        may_enter=user.has_role("lead"), may_edit=user.has_role("admin"), today=date.today().isoformat(),
        item_name=lambda i: (i.name_en or i.name) if is_english() else i.name, sources=scorecards.SOURCES,
        item_rule=item_rule,
    )


def item_rule(item) -> str:
    """The rule under an item's name: the seed's own words in Chinese; in English, said from its figures.

    The regulation's text (``rule``) exists only in Chinese; the figures it states
    (per event, per group of events, per point below 99 %, the cap) are the item's own.
    """
    if not is_english():
        return item.rule or ""
    each, cap = points(item.per_event), points(item.cap)
    if item.bonus:
        return _("+%(each)s per event, at most %(cap)s", each=each, cap=cap)
    if item.source in ("answer_rate", "timely_rate"):
        return _("−%(each)s per percentage point below 99 %%, at most %(cap)s", each=each, cap=cap)
    if (item.per_events or 1) > 1:
        return _("−%(each)s per %(n)s events, at most %(cap)s", each=each, n=item.per_events, cap=cap)
    return _("−%(each)s per event, at most %(cap)s", each=each, cap=cap)


def _back_to_scorecard():
    return redirect(url_for(".scorecard", **{k: v for k in ("period", "cycle", "from", "to")
                                            if (v := request.form.get(f"return_{k}"))}))


def _flash_invalid(exc: Invalid) -> None:
    details = "; ".join(f"{engine_text(m)}" for messages in exc.fields.values() for m in messages)
    flash(f"{engine_text(exc.message)}{'：' if details else ''}{details}", "error")


@bp.post("/scorecard/entries")
@staff_required("lead")
def add_entry():
    form = request.form
    try:
        scorecards.add_entry(db.session, item_id=form.get("item", ""), happened_on=form.get("happened_on", ""),
                             evidence=form.get("evidence", ""), entered_by=staff().username,
                             amount=form.get("amount") or None, ticket=form.get("ticket") or None)
    except Invalid as exc:
        db.session.rollback()
        _flash_invalid(exc)
    else:
        db.session.commit()
        flash(_("The entry is recorded."), "success")
    return _back_to_scorecard()


@bp.post("/scorecard/entries/<int:entry_id>/delete")
@staff_required("lead")
def delete_entry(entry_id: int):
    scorecards.delete_entry(db.session, entry_id)
    db.session.commit()
    flash(_("The entry is deleted."), "success")
    return _back_to_scorecard()


@bp.post("/scorecard/items/<item_id>")
@staff_required("admin")
def edit_item(item_id: str):
    values = {k: request.form[k] for k in scorecards.EDITABLE if k in request.form}
    try:
        scorecards.update_item(db.session, item_id, values)
    except Invalid as exc:
        db.session.rollback()
        _flash_invalid(exc)
    else:
        db.session.commit()
        flash(_("The item is saved."), "success")
    return _back_to_scorecard()


# --- history import ------------------------------------------------------------------------

KINDS = {"tickets": _l("Tickets (ledger)"), "calls": _l("Calls")}
TOKEN = re.compile(r"[0-9a-f]{32}")


def _uploads() -> Path:
    """Where previewed files wait for the confirm; those left more than a day are removed."""
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    for old in path.iterdir():
        if time.time() - old.stat().st_mtime > 86400:
            old.unlink(missing_ok=True)
    return path


@bp.get("/import")
@staff_required("admin")
def import_form():
    return render_template("reports/import.html", kinds=KINDS, result=None)


@bp.post("/import")
@staff_required("admin")
def import_preview():
    """Check the uploaded file and show what it would add; it waits under a token for the confirm."""
    kind, upload = request.form.get("kind", ""), request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a .csv or .xlsx file."), "error")
        return redirect(url_for(".import_form"))
    data = upload.read()
    result = imports.preview(db.session, kind, upload.filename, data)
    db.session.rollback()
    token = None
    if not result.errors and result.new:
        token = secrets.token_hex(16)
        suffix = ".xlsx" if upload.filename.lower().endswith(".xlsx") else ".csv"
        (_uploads() / f"{token}{suffix}").write_bytes(data)
    status = 422 if result.errors else 200
    return render_template("reports/import.html", kinds=KINDS, result=result, kind=kind, token=token,
                           filename=upload.filename, columns=list(imports.TICKET_COLUMNS if kind == "tickets"
                                                                  else imports.CALL_COLUMNS)), status


@bp.post("/import/confirm")
@staff_required("admin")
def import_confirm():
    token, kind = request.form.get("token", ""), request.form.get("kind", "")
    if not TOKEN.fullmatch(token):
        raise Invalid(_("This preview has expired; upload the file again."))
    files = [p for p in (_uploads() / f"{token}.csv", _uploads() / f"{token}.xlsx") if p.exists()]
    if not files:
        raise Invalid(_("This preview has expired; upload the file again."))
    result = imports.run(db.session, kind, files[0].name, files[0].read_bytes(), user=staff().username)
    db.session.commit()
    files[0].unlink()
    flash(_("Imported %(new)s, %(existing)s already there.", new=len(result.new), existing=len(result.existing)),
          "success")
    return redirect(url_for(".import_form"))


@bp.app_template_filter("points")
def points(value) -> str:
    """0.5 as "0.5", 2.0 as "2"."""
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)
