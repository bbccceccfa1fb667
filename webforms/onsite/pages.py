"""The on-site service record (运维现场服务记录单, 003) pages.

The engineer fills in the visit on a phone, hands it to the customer, who draws their
signature on the screen (a canvas sent as a PNG data URL) and writes their own name and
phone; the printable page is the paper form the regulations describe.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.desk import access, onsite, tickets
from engine.errors import Invalid
from engine.models import Ticket

from .. import files
from ..auth import staff, staff_required
from ..extensions import db
from ..tickets.pages import people

bp = Blueprint("onsite", __name__, url_prefix="/onsite")

FIELDS = ("arrived_at", "departed_at", "work_done", "parts", "risky_work", "backup_done", "backup_note")


def _record(record_id: int):
    """The record, when its ticket is one the user may read (issue 11)."""
    return access.check_onsite(db.session, staff(), onsite.get(db.session, record_id))


def _form() -> dict:
    data = {k: request.form.get(k, "") for k in FIELDS}
    for key in ("risky_work", "backup_done"):
        data[key] = key in request.form
    return data


@bp.get("/new/<number>")
@staff_required(*onsite.FIELD_ROLES)
def new(number: str):
    ticket = access.ticket(db.session, staff(), number)
    return render_template("onsite/edit.html", ticket=ticket, record=None, form={}, errors={})


@bp.post("/new/<number>")
@staff_required(*onsite.FIELD_ROLES)
def create(number: str):
    ticket = access.ticket(db.session, staff(), number)
    try:
        record = onsite.create(db.session, ticket, _form(), user=staff())
    except Invalid as exc:
        db.session.rollback()
        return render_template("onsite/edit.html", ticket=ticket, record=None, form=request.form, errors=exc.fields,
                               error=exc), 422
    db.session.commit()
    flash(_("On-site record saved. Hand the phone to the customer to sign."), "success")
    return redirect(url_for("onsite.show", record_id=record.id))


@bp.post("/<int:record_id>/edit")
@staff_required(*onsite.FIELD_ROLES)
def save(record_id: int):
    record = _record(record_id)
    ticket = db.session.get(Ticket, record.ticket_id)
    try:
        onsite.update(db.session, record, _form(), user=staff())
    except Invalid as exc:
        db.session.rollback()
        return render_template("onsite/edit.html", ticket=ticket, record=record, form=request.form, errors=exc.fields,
                               error=exc), 422
    db.session.commit()
    return redirect(url_for("onsite.show", record_id=record.id))


@bp.get("/<int:record_id>/edit")
@staff_required(*onsite.FIELD_ROLES)
def edit(record_id: int):
    record = _record(record_id)
    ticket = db.session.get(Ticket, record.ticket_id)
    form = {k: getattr(record, k) for k in FIELDS}
    for key in ("arrived_at", "departed_at"):
        form[key] = form[key].astimezone(tickets.LOCAL_TZ).strftime("%Y-%m-%dT%H:%M") if form[key] else ""
    return render_template("onsite/edit.html", ticket=ticket, record=record, form=form, errors={})


def _page(record, *, errors=None, error=None, status: int = 200):
    ticket = db.session.get(Ticket, record.ticket_id)
    return render_template("onsite/show.html", record=record, ticket=ticket, names=people(), errors=errors or {},
                           error=error, form=request.form), status


@bp.get("/<int:record_id>")
@staff_required()
def show(record_id: int):
    return _page(_record(record_id))


@bp.post("/<int:record_id>/<any(sign, confirm_backup):step>")
@staff_required(*onsite.FIELD_ROLES)
def sign(record_id: int, step: str):
    """The customer's signature: confirming the backup before risky work, or signing off the visit."""
    record = _record(record_id)
    data = {k: request.form.get(k, "") for k in ("signer_name", "signer_phone", "opinion", "signature")}
    write = onsite.sign if step == "sign" else onsite.confirm_backup
    try:
        write(db.session, record, data, actor=staff().username, store=files.store())
    except Invalid as exc:
        db.session.rollback()
        return _page(_record(record_id), errors=exc.fields, error=exc, status=422)
    db.session.commit()
    if step == "sign":
        flash(_("Signed by %(name)s.", name=record.signer_name), "success")
    else:
        flash(_("%(name)s confirmed the data backup. The risky work may start.", name=record.backup_signer_name), "success")
    return redirect(url_for("onsite.show", record_id=record.id))


@bp.get("/<int:record_id>/print")
@staff_required()
def printable(record_id: int):
    record = _record(record_id)
    ticket = db.session.get(Ticket, record.ticket_id)
    return render_template("onsite/print.html", record=record, ticket=ticket, names=people())
