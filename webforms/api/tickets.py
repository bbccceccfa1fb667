from flask import g, request

from engine.desk import access, attachments, audit, knowledge, notes, onsite, pauses, search, tickets
from engine.models import HumanTask, TaskState
from engine.runtime import handling, instances, tasks

from ..extensions import db
from . import bp, json_body, token_required
from .schemas import AttachmentInfo, ChaseRequest, HistoryEntry, Note, Onsite, TicketDetail, TicketSummary, load
from .tasks import task_json

# Built once, like the task schema: building a schema (the detail's forty-odd fields) cost more than dumping it.
_DETAIL = TicketDetail(exclude=("open_tasks", "history", "notes", "attachments"))
_NOTES, _ATTACHMENTS, _ONSITE = Note(many=True), AttachmentInfo(many=True), Onsite(many=True)
_HISTORY, _SUMMARIES = HistoryEntry(many=True), TicketSummary(many=True)


def pause_json(ticket) -> dict:
    ledger = pauses.ledger(db.session, ticket)
    return {"paused": any(p.ended_at is None for p in ledger), "pauses": [pauses.as_json(p) for p in ledger]}


def ticket_json(ticket, *, registered: bool = False) -> dict:
    """A ticket as the API answers it; ``registered``: the ticket was made in this request (``create_ticket``).

    A ticket registered in this transaction has no notes, attachments, on-site
    records, knowledge-base uses or pauses: only their own requests add them, never
    the intake step or the steps it runs on (``receive``), and no other transaction
    sees the ticket before the commit. Its answer reads its open tasks and its
    history (written by the steps), not the five lists known to be empty.
    """
    data = _DETAIL.dump(ticket)
    open_rows = list(db.session.scalars(
        db.select(HumanTask)
        .where(HumanTask.ticket_id == ticket.id, HumanTask.state == TaskState.READY)
        .order_by(HumanTask.id)
    ))
    forms = tasks.forms_of(db.session, open_rows)  # a new ticket's instance and version are in hand: no statement
    data["open_tasks"] = [task_json(r, number=ticket.number, form=forms[r.id]) for r in open_rows]
    if registered:
        data.update(notes=[], attachments=[], onsite=[], kb_used=[])
    else:
        data["notes"] = _NOTES.dump(notes.of_ticket(db.session, ticket.id))
        data["attachments"] = _ATTACHMENTS.dump(attachments.of_ticket(db.session, ticket.id, kind=None))
        data["onsite"] = _ONSITE.dump(onsite.of_ticket(db.session, ticket.id))
        data["kb_used"] = [u.article_id for u in knowledge.uses(db.session, ticket_id=ticket.id)]
    data["history"] = _HISTORY.dump(audit.history(db.session, ticket_id=ticket.id))
    # issue 10: paused, pauses (the ledger)
    data.update({"paused": False, "pauses": []} if registered else pause_json(ticket))
    return data


@bp.post("/tickets")
@token_required("agent", "lead", "admin")
def create_ticket():
    """Register a call (the intake fields); completes the intake task."""
    ticket = instances.create_ticket(db.session, json_body(), user=g.user)
    answer = ticket_json(ticket, registered=True)  # before the commit: from what is in hand, no re-reads
    db.session.commit()
    return answer, 201


@bp.get("/tickets")
@token_required()
def list_tickets():
    """Search: q (text or number prefix), status, type, priority, organisation, holder, breached=1,
    from/to (local days), page, per_page (20, at most 200); ``total`` stops at 1,000 (``total_exact``)."""
    args = request.args
    per_page = args.get("per_page", 20, type=int)
    result = search.find(db.session, search.Filters.parse(args), reader=g.user, page=args.get("page", 1, type=int),
                         per_page=per_page)
    return {
        "items": _SUMMARIES.dump(result.rows),
        "total": result.total,
        "total_exact": result.total_exact,
        "has_next": result.has_next,
        "page": result.page,
        "per_page": result.per_page,
    }


@bp.get("/tickets/<number>")
@token_required()
def get_ticket(number: str):
    return ticket_json(access.ticket(db.session, g.user, number))


@bp.post("/tickets/<number>/supplement")
@token_required("agent", "lead", "admin")
def supplement_ticket(number: str):
    """补录: fill in missing record fields ({"reporter_name": …}); the ticket is requalified."""
    ticket = handling.supplement(db.session, number, json_body(), user=g.user)
    db.session.commit()
    return ticket_json(ticket)


@bp.post("/tickets/<number>/chase")
@token_required("agent", "lead", "admin")
def chase_ticket(number: str):
    """催单: the caller chases this open ticket ({"note"}); counted, audited, the holder is told."""
    body = load(ChaseRequest(), json_body())
    ticket = handling.chase(db.session, number, user=g.user, note=body.get("note") or "")
    db.session.commit()
    return ticket_json(ticket)


@bp.get("/tickets/open-for")
@token_required("agent", "lead", "admin")
def open_tickets_of_caller():
    """The caller's open tickets (by phone or name), for the intake screen's chase check."""
    rows = tickets.open_for(db.session, phone=request.args.get("phone"), reporter_name=request.args.get("reporter_name"))
    return {"items": _SUMMARIES.dump(rows)}
