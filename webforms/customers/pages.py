"""The customer archive (客户档案) pages: search, a new organisation, the organisation page
with its contacts, sites, devices, contracts, tickets, satisfaction, complaints and open SLA
risks, and "add what is new" from a ticket.

Every view reads the form, calls one ``engine.desk.customers`` function, and commits or
shows the field errors.
"""

from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.desk import access, customers, tickets
from engine.errors import EngineError, Invalid

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import engine_text
from ..tickets.pages import CLOCK_NAMES, STATUS_NAMES, TYPE_NAMES

bp = Blueprint("customers", __name__, url_prefix="/customers")

EDITORS = ("agent", "lead", "admin")
PER_PAGE = 20
SATISFACTION_NAMES = {
    "very_satisfied": _l("Very satisfied"),
    "satisfied": _l("Satisfied"),
    "basically_satisfied": _l("Basically satisfied"),
    "dissatisfied": _l("Dissatisfied"),
}
# what each "add" form on the organisation page adds
ADDERS = {
    "contact": customers.add_contact,
    "device": customers.add_device,
    "site": customers.add_site,
    "contract": customers.add_contract,
}


@bp.get("")
@staff_required()
def index():
    access.check_customer_data(staff())
    q = request.args.get("q", "").strip()
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = customers.search(db.session, q, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("customers/index.html", organisations=rows, total=total, q=q, page=page,
                           pages=max(1, math.ceil(total / PER_PAGE)))


def _form_data() -> dict:
    """The new-organisation form as the engine's dict: one contact and one device, each optional."""
    form = request.form
    contact = {k: form.get(f"contact_{k}", "") for k in ("name", "phone", "email", "role")}
    device = {k: form.get(f"device_{k}", "") for k in ("model", "serial", "location", "vendor", "warranty_until")}
    return {
        "name": form.get("name", ""),
        "address": form.get("address", ""),
        "contacts": [contact] if any(contact.values()) else [],
        "devices": [device] if any(device.values()) else [],
    }


@bp.get("/new")
@staff_required(*EDITORS)
def new():
    return render_template("customers/new.html", form={}, errors={})


@bp.post("/new")
@staff_required(*EDITORS)
def create():
    try:
        org = customers.create(db.session, _form_data(), actor=staff().username)
    except EngineError as exc:
        db.session.rollback()
        errors = getattr(exc, "fields", {}) or {"name": [exc.message]}
        return render_template("customers/new.html", form=request.form, errors=errors, error=exc), 422
    db.session.commit()
    flash(_("Organisation %(name)s added to the archive.", name=org.name), "success")
    return redirect(url_for("customers.show", organisation_id=org.id))


@bp.get("/<int:organisation_id>")
@staff_required()
def show(organisation_id: int):
    access.check_customer_data(staff())
    org = customers.get(db.session, organisation_id)
    return render_template(
        "customers/show.html", org=org, view=customers.overview(db.session, org, reader=staff()), status_names=STATUS_NAMES,
        type_names=TYPE_NAMES, clock_names=CLOCK_NAMES, satisfaction_names=SATISFACTION_NAMES,
        may_edit=staff().has_role(*EDITORS),
    )


@bp.post("/<int:organisation_id>/edit")
@staff_required(*EDITORS)
def edit(organisation_id: int):
    """Rename or re-address the organisation."""
    org = customers.get(db.session, organisation_id)
    data = {k: request.form.get(k, "") for k in ("name", "address", "notes")}
    try:
        customers.update(db.session, org, data, actor=staff().username)
    except EngineError as exc:
        db.session.rollback()
        flash(_("Not saved: %(problems)s", problems=engine_text(exc.message)), "error")
        return redirect(url_for("customers.show", organisation_id=organisation_id)), 303
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("customers.show", organisation_id=organisation_id)), 303


@bp.post("/<int:organisation_id>/<any(contact, device, site, contract):what>")
@staff_required(*EDITORS)
def add(organisation_id: int, what: str):
    """Add a contact, device, site or contract from the organisation page's small forms."""
    org = customers.get(db.session, organisation_id)
    data = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        ADDERS[what](db.session, org, data, actor=staff().username)
    except Invalid as exc:
        db.session.rollback()
        problems = "; ".join(f"{k}: {engine_text(m[0])}" for k, m in exc.fields.items()) or engine_text(exc.message)
        flash(_("Not added: %(problems)s", problems=problems), "error")
        return redirect(url_for("customers.show", organisation_id=org.id, _anchor=what)), 303
    db.session.commit()
    flash(_("Added."), "success")
    return redirect(url_for("customers.show", organisation_id=org.id, _anchor=what)), 303


@bp.post("/from-ticket/<number>")
@staff_required(*EDITORS)
def from_ticket(number: str):
    """The ticket page's offer: add the organisation, contact and device it names that are new."""
    ticket = tickets.get_by_number(db.session, number)
    try:
        org = customers.add_from_ticket(db.session, ticket, actor=staff().username)
    except EngineError as exc:
        db.session.rollback()
        flash(engine_text(exc.message), "error")
        return redirect(url_for("tickets.show", number=number)), 303
    db.session.commit()
    flash(_("The ticket is now linked to %(name)s in the customer archive.", name=org.name), "success")
    return redirect(url_for("tickets.show", number=number, _anchor="customer")), 303
