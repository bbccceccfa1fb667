"""Pause and resume a ticket (挂起/恢复): the holder of the back-line step, a lead or an admin."""

from flask import g

from engine.runtime import pausing

from ..extensions import db
from . import bp, json_body, token_required
from .tickets import ticket_json


@bp.post("/tickets/<number>/pause")
@token_required()
def pause_ticket(number: str):
    """Stop the clocks a pause stops; body {"reason": "..."}; 409 when already paused."""
    ticket = pausing.pause(db.session, number, json_body().get("reason"), user=g.user)
    db.session.commit()
    return ticket_json(ticket)


@bp.post("/tickets/<number>/resume")
@token_required()
def resume_ticket(number: str):
    """Restart them with the due times moved by the paused time; 409 when not paused."""
    ticket = pausing.resume(db.session, number, user=g.user)
    db.session.commit()
    return ticket_json(ticket)
