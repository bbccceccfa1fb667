from flask import g, request

from engine.desk import attachments, audit, knowledge, notes, onsite, pauses, tickets
from engine.models import HumanTask, TaskState
from engine.runtime import instances

from ..extensions import db
from . import bp, json_body, token_required
from .schemas import AttachmentInfo, HistoryEntry, Note, Onsite, TicketDetail, TicketSummary
from .tasks import task_json


def pause_json(ticket) -> dict:
    ledger = pauses.ledger(db.session, ticket)
    return {"paused": any(p.ended_at is None for p in ledger), "pauses": [pauses.as_json(p) for p in ledger]}


def ticket_json(ticket) -> dict:
    data = TicketDetail(exclude=("open_tasks", "history", "notes", "attachments")).dump(ticket)
    open_rows = db.session.scalars(
        db.select(HumanTask)
        .where(HumanTask.ticket_id == ticket.id, HumanTask.state == TaskState.READY)
        .order_by(HumanTask.id)
    )
    data["open_tasks"] = [task_json(r) for r in open_rows]
    data["notes"] = Note(many=True).dump(notes.of_ticket(db.session, ticket.id))
    data["attachments"] = AttachmentInfo(many=True).dump(attachments.of_ticket(db.session, ticket.id, kind=None))
    data["onsite"] = Onsite(many=True).dump(onsite.of_ticket(db.session, ticket.id))
    data["kb_used"] = [u.article_id for u in knowledge.uses(db.session, ticket_id=ticket.id)]
    data["history"] = HistoryEntry(many=True).dump(audit.history(db.session, ticket_id=ticket.id))
    data.update(pause_json(ticket))  # issue 10: paused, pauses (the ledger)
    return data


@bp.post("/tickets")
@token_required("agent", "lead", "admin")
def create_ticket():
    """Register a call (the intake fields); completes the intake task."""
    ticket = instances.create_ticket(db.session, json_body(), user=g.user)
    db.session.commit()
    return ticket_json(ticket), 201


@bp.get("/tickets")
@token_required()
def list_tickets():
    args = request.args
    rows, total = tickets.search(
        db.session,
        status=args.get("status"),
        type=args.get("type"),
        priority=args.get("priority"),
        q=args.get("q"),
        organisation=args.get("organisation"),
        page=args.get("page", 1, type=int),
        per_page=min(args.get("per_page", 20, type=int), 100),
    )
    return {
        "items": TicketSummary(many=True).dump(rows),
        "total": total,
        "page": args.get("page", 1, type=int),
        "per_page": min(args.get("per_page", 20, type=int), 100),
    }


@bp.get("/tickets/<number>")
@token_required()
def get_ticket(number: str):
    return ticket_json(tickets.get_by_number(db.session, number))
