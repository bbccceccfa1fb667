"""Files on a ticket: upload (multipart field ``file``), list, download with safe headers."""

from flask import g

from engine.desk import access, attachments

from .. import files
from ..extensions import db
from . import bp, token_required
from .schemas import AttachmentInfo


@bp.post("/tickets/<number>/attachments")
@token_required()
def add_attachment(number: str):
    ticket = access.ticket(db.session, g.user, number)
    name, data = files.upload()
    row = attachments.add(db.session, ticket, name, data, actor=g.user.username, store=files.store(),
                          max_bytes=files.max_bytes())
    db.session.commit()
    return AttachmentInfo().dump(row), 201


@bp.get("/tickets/<number>/attachments")
@token_required()
def list_attachments(number: str):
    ticket = access.ticket(db.session, g.user, number)
    return {"items": AttachmentInfo(many=True).dump(attachments.of_ticket(db.session, ticket.id, kind=None))}


@bp.get("/attachments/<int:attachment_id>")
@token_required()
def get_attachment(attachment_id: int):
    return files.send(access.check_attachment(db.session, g.user, attachments.get(db.session, attachment_id)))
