"""Notes on a ticket: ``POST /api/tickets/<number>/notes {"text", "internal"}``."""

from flask import g

from engine.desk import access, notes

from ..extensions import db
from . import bp, json_body, token_required
from .schemas import Note, NoteRequest, load


@bp.post("/tickets/<number>/notes")
@token_required()
def add_note(number: str):
    """An internal note (default) or, with ``"internal": false``, a reply the customer sees."""
    ticket = access.ticket(db.session, g.user, number)
    data = load(NoteRequest(), json_body())
    note = notes.add(db.session, ticket, data["text"], internal=data["internal"], actor=g.user.username)
    db.session.commit()
    return Note().dump(note), 201


@bp.get("/tickets/<number>/notes")
@token_required()
def list_notes(number: str):
    ticket = access.ticket(db.session, g.user, number)
    return {"items": Note(many=True).dump(notes.of_ticket(db.session, ticket.id))}
