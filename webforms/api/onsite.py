"""On-site service records (运维现场服务记录单): write, correct, and the customer's signature."""

from flask import g

from engine.desk import access, onsite

from .. import files
from ..extensions import db
from . import bp, json_body, token_required
from .schemas import Onsite


def _record(record_id: int):
    """The record, when its ticket is one the caller may read (issue 11)."""
    return access.check_onsite(db.session, g.user, onsite.get(db.session, record_id))


@bp.post("/tickets/<number>/onsite")
@token_required(*onsite.FIELD_ROLES)
def add_onsite(number: str):
    ticket = access.ticket(db.session, g.user, number)
    record = onsite.create(db.session, ticket, json_body(), user=g.user)
    db.session.commit()
    return Onsite().dump(record), 201


@bp.get("/onsite/<int:record_id>")
@token_required()
def get_onsite(record_id: int):
    return Onsite().dump(_record(record_id))


@bp.put("/onsite/<int:record_id>")
@token_required(*onsite.FIELD_ROLES)
def edit_onsite(record_id: int):
    record = onsite.update(db.session, _record(record_id), json_body(), user=g.user)
    db.session.commit()
    return Onsite().dump(record)


@bp.post("/onsite/<int:record_id>/sign")
@token_required(*onsite.FIELD_ROLES)
def sign_onsite(record_id: int):
    """``{"signer_name", "signer_phone", "signature": "data:image/png;base64,…", "opinion"}``."""
    record = onsite.sign(db.session, _record(record_id), json_body(), actor=g.user.username,
                         store=files.store())
    db.session.commit()
    return Onsite().dump(record)


@bp.post("/onsite/<int:record_id>/confirm-backup")
@token_required(*onsite.FIELD_ROLES)
def confirm_onsite_backup(record_id: int):
    """The customer's first signature, before risky work: ``{"signer_name", "signature"}``."""
    record = onsite.confirm_backup(db.session, _record(record_id), json_body(), actor=g.user.username,
                                   store=files.store())
    db.session.commit()
    return Onsite().dump(record)
