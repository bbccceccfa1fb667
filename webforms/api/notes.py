"""Notes on a ticket: ``POST /api/tickets/<number>/notes {"text", "internal"}``."""

from flask import g

from engine.desk import notes, tickets

from ..extensions import db
from . import bp, json_body, token_required
from .schemas import Note, NoteRequest, load


@bp.post("/tickets/<number>/notes")
@token_required()
def add_note(number: str):
    """An internal note (default) or, with ``"internal": false``, a reply the customer sees."""
    ticket = tickets.get_by_number(db.session, number)
    data = load(NoteRequest(), json_body())
    note = notes.add(db.session, ticket, data["text"], internal=data["internal"], actor=g.user.username)
    db.session.commit()
    return Note().dump(note), 201


@bp.get("/tickets/<number>/notes")
@token_required()
def list_notes(number: str):
    ticket = tickets.get_by_number(db.session, number)
    return {"items": Note(many=True).dump(notes.of_ticket(db.session, ticket.id))}
