"""Notes on a ticket: internal ones for staff, replies the customer sees.

A note is written in the caller's transaction together with its audit event, so the
timeline and the note list never disagree. ``actor`` is a plain name, not a ``User``:
staff write notes, and so may a customer (the portal) or a mail gateway.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Invalid
from ..models import Ticket, TicketNote
from . import audit

MAX_LENGTH = 10_000


def add(session: Session, ticket: Ticket, text, *, internal: bool = True, actor: str) -> TicketNote:
    """Add a note; ``internal`` (the default) keeps it from the customer."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid("请填写备注内容 / the note is empty", fields={"text": ["必填 / required"]})
    if len(text) > MAX_LENGTH:
        raise Invalid("备注太长 / the note is too long", fields={"text": [f"最多 {MAX_LENGTH} 字 / at most {MAX_LENGTH}"]})
    if not isinstance(internal, bool):
        raise Invalid("internal 应为 true 或 false / internal must be a boolean", fields={"internal": ["布尔值 / boolean"]})
    note = TicketNote(ticket_id=ticket.id, author=actor, text=text.strip(), internal=internal, created_at=now())
    session.add(note)
    session.flush()
    audit.record(session, "note", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id,
                 name="internal" if internal else "reply", data={"note_id": note.id, "internal": internal, "text": note.text})
    return note


def of_ticket(session: Session, ticket_id: int, *, include_internal: bool = True) -> list[TicketNote]:
    """The ticket's notes, oldest first; customers get ``include_internal=False``."""
    stmt = select(TicketNote).where(TicketNote.ticket_id == ticket_id)
    if not include_internal:
        stmt = stmt.where(TicketNote.internal.is_(False))
    return list(session.scalars(stmt.order_by(TicketNote.created_at, TicketNote.id)))
