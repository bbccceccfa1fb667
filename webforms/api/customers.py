"""The customer archive: search, create, one organisation, and a ticket's link to it."""

from flask import g, request

from engine.desk import access, customers, tickets

from ..extensions import db
from . import bp, json_body, token_required
from .schemas import Customer, CustomerDetail, CustomerLink

EDITORS = ("agent", "lead", "admin")


@bp.get("/customers")
@token_required()
def list_customers():
    """Organisations (with contacts and devices) matching ``q`` in a name, phone, e-mail, model or serial."""
    access.check_customer_data(g.user)
    page = max(1, request.args.get("page", 1, type=int))
    per_page = min(max(1, request.args.get("per_page", 20, type=int)), 100)
    rows, total = customers.search(db.session, request.args.get("q"), limit=per_page, offset=(page - 1) * per_page)
    return {"items": Customer(many=True).dump(rows), "total": total, "page": page, "per_page": per_page}


@bp.post("/customers")
@token_required(*EDITORS)
def create_customer():
    org = customers.create(db.session, json_body(), actor=g.user.username)
    db.session.commit()
    return CustomerDetail().dump(org), 201


@bp.get("/customers/<int:organisation_id>")
@token_required()
def get_customer(organisation_id: int):
    access.check_customer_data(g.user)
    return CustomerDetail().dump(customers.get(db.session, organisation_id))


@bp.put("/customers/<int:organisation_id>")
@token_required(*EDITORS)
def update_customer(organisation_id: int):
    """Rename or re-address an organisation: ``{"name", "address", "notes"}``."""
    org = customers.update(db.session, customers.get(db.session, organisation_id), json_body(), actor=g.user.username)
    db.session.commit()
    return CustomerDetail().dump(org)


@bp.post("/tickets/<number>/customer")
@token_required(*EDITORS)
def link_ticket(number: str):
    """Link a ticket to archive records: ``{"organisation_id", "contact_id", "device_id"}``."""
    ticket = tickets.get_by_number(db.session, number)
    customers.link(db.session, ticket, json_body(), actor=g.user.username)
    db.session.commit()
    return CustomerLink().dump(ticket)
