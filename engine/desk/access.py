"""Who may read which ticket, and who may see the caller's personal data (issue 11).

Every ticket carries the caller's name, phone and e-mail, and its process carries
them in its data. Before this module any signed-in role read every ticket and all
instance data. The rule, by role (``engine.desk.users.ROLES``):

- **The desk reads every ticket: agents, leads, the desk manager, admins.** The
  desk is the single point of contact: an agent registers every call, answers the
  caller's "where is my ticket?" about any of them, chases, calls back and closes;
  the lead reassigns, closes and reports over all of them; the manager is the top
  of the escalation chain; admins run the system and its cockpit.
- **The back line reads the tickets it worked on and its groups': PMs, engineers,
  tech support.** A ticket is theirs when they appear in its audit as the actor
  (registered, claimed, completed, wrote a note, added a file, …), hold or held one
  of its tasks (the process assigned it, ``camunda:assignee="${engineer}"``, or a
  lead did), have an open step of it offered to a group they belong to or to them
  by name (they may pick it up, so they read it first), or
  were notified about it (an escalation sends the reader to the ticket). A
  project's PM also reads the tickets routed to their project (``Ticket.pm_group``,
  the group rules/routing.dmn names).
- **Process owners read no ticket and no customer data.** Their work is the
  diagrams; a ticket's free text (description, notes, files, history) carries
  customer data that no mask finds reliably, so they get none of it. They still
  read any instance (to see where a process stands), with the caller's fields
  taken out of its data (``customer_free``). Whoever also holds a desk or
  back-line role reads by that role.
- **Customers** use the portal, which shows a customer only their own tickets
  (``engine.desk.accounts``); the staff pages and API refuse them.

``readable_clause`` is the rule as one SQL condition over ``Ticket``, so a list
filters, sorts and pages in the database (issue 12) with it; ``check_ticket`` is
the same rule for one ticket. A ticket the user may not read is a 403 with a plain
message (its number is no secret: numbers are sequential).
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, and_, exists, false, literal, or_, select, true, union
from sqlalchemy.orm import Session

from ..errors import Forbidden
from ..models import (
    Attachment,
    AuditEvent,
    HumanTask,
    Notification,
    OnsiteRecord,
    ProcessInstance,
    TaskCandidate,
    Ticket,
    User,
)
from . import tickets

EVERY_TICKET = frozenset({"agent", "lead", "manager", "admin"})
"""Roles that read every ticket: the desk (see the module docstring)."""

NO_CUSTOMER_DATA = frozenset({"process_owner", "customer"})
"""Roles that by themselves see no customer data (customers see their own in the portal only)."""

CUSTOMER_KEYS = frozenset({
    "reporter_name", "organisation", "phone", "email", "description", "title", "device_serial",
    "complaint_detail", "contact_id", "organisation_id", "device_id", "signer_name", "signer_phone",
})  # fmt: skip
"""Process variables that hold the caller's data (the intake form's fields and the archive's links)."""

_CUSTOMER_WORDS = re.compile(r"phone|mobile|mail|caller|contact|reporter|address|signer", re.I)


def reads_every_ticket(user: User) -> bool:
    return bool(user.role_codes & EVERY_TICKET)


def can_see_customer_data(user: User) -> bool:
    """Whether the user may see callers' names, phones and e-mails: any staff role but the process owner's."""
    return bool(user.role_codes - NO_CUSTOMER_DATA)


def ticket_ids(user: User, *, pad: bool = False):
    """Ids of the tickets a back-line user reads, each part served by an index (see ``readable_clause``).

    ``pad`` adds an empty text column ``pad`` to every part, for the ticket search's
    common words (``search.statement``): it lies inside the union, where PostgreSQL
    cannot fold it away as a constant.
    """
    name, codes = user.username, sorted(user.role_codes)
    offered = or_(
        and_(TaskCandidate.kind == "role", TaskCandidate.code.in_(codes)),
        and_(TaskCandidate.kind == "user", TaskCandidate.code == name),
    )
    extra = (literal("").label("pad"),) if pad else ()
    return union(
        select(Ticket.id, *extra).where(Ticket.assignee == name),  # holds its current step
        select(Ticket.id, *extra).where(Ticket.pm_group.in_(codes)),  # routed to their project
        select(AuditEvent.ticket_id, *extra).where(AuditEvent.actor == name),  # did anything on it
        select(HumanTask.ticket_id, *extra).where(HumanTask.assignee == name),  # holds or held a step
        select(TaskCandidate.ticket_id, *extra).where(offered),  # offered to them or their group, nobody holds it
        select(Notification.ticket_id, *extra).where(Notification.username == name),  # was told about it
    )


def readable_clause(user: User) -> ColumnElement[bool]:
    """The tickets ``user`` may read, as a WHERE condition over ``Ticket`` (see the module docstring).

    For the back line it is ``ticket.id IN (…)`` over a union of small index lookups, so
    the database finds the person's few tickets first and pages those; a condition on
    each ticket row instead made PostgreSQL walk every ticket to fill a page (0.3 s at
    220,000 tickets, growing with the table).
    """
    if reads_every_ticket(user):
        return true()
    if not can_see_customer_data(user):
        return false()
    return Ticket.id.in_(ticket_ids(user))


def can_read_ticket(session: Session, user: User, ticket: Ticket) -> bool:
    if reads_every_ticket(user):
        return True
    if not can_see_customer_data(user):
        return False
    return bool(session.scalar(select(exists().where(Ticket.id == ticket.id, readable_clause(user)))))


def check_ticket(session: Session, user: User, ticket: Ticket) -> Ticket:
    """``ticket`` when ``user`` may read it, else Forbidden."""
    if not can_read_ticket(session, user, ticket):
        raise Forbidden(f"您无权查看工单 {ticket.number} / you may not read ticket {ticket.number}")
    return ticket


def ticket(session: Session, user: User, number: str) -> Ticket:
    """The ticket numbered ``number`` (NotFound) when ``user`` may read it (Forbidden)."""
    return check_ticket(session, user, tickets.get_by_number(session, number))


def check_ticket_id(session: Session, user: User, ticket_id: int | None) -> None:
    """For rows hanging off a ticket (a file, an on-site record, a finished task): their ticket must be readable."""
    row = session.get(Ticket, ticket_id) if ticket_id else None
    if row is not None:
        check_ticket(session, user, row)
    elif not can_see_customer_data(user):
        raise Forbidden("您无权查看客户资料 / you may not read customer data")


def check_attachment(session: Session, user: User, attachment: Attachment) -> Attachment:
    check_ticket_id(session, user, attachment.ticket_id)
    return attachment


def check_onsite(session: Session, user: User, record: OnsiteRecord) -> OnsiteRecord:
    check_ticket_id(session, user, record.ticket_id)
    return record


def check_customer_data(user: User) -> None:
    """The customer archive: every staff role that sees customer data (engineers visit the sites)."""
    if not can_see_customer_data(user):
        raise Forbidden("您无权查看客户资料 / you may not read customer data")


# --- process instances ---------------------------------------------------------------------


def can_read_instance(session: Session, user: User, instance: ProcessInstance) -> bool:
    """The desk and process owners read every instance (owners without customer data); the back line
    reads the instances of tickets it may read and those it has or had a task in."""
    if reads_every_ticket(user) or not can_see_customer_data(user):
        return True
    name = user.username
    of_ticket = exists().where(Ticket.instance_id == instance.id, readable_clause(user))
    acted = exists().where(AuditEvent.instance_id == instance.id, AuditEvent.actor == name)
    offered = exists().where(
        HumanTask.instance_id == instance.id,
        or_(
            HumanTask.assignee == name,
            exists().where(
                TaskCandidate.task_id == HumanTask.id,
                or_(and_(TaskCandidate.kind == "role", TaskCandidate.code.in_(sorted(user.role_codes))),
                    and_(TaskCandidate.kind == "user", TaskCandidate.code == name)),
            ),
        ),
    )
    return bool(session.scalar(select(or_(of_ticket, acted, offered))))


def check_instance(session: Session, user: User, instance: ProcessInstance) -> ProcessInstance:
    if not can_read_instance(session, user, instance):
        raise Forbidden(f"您无权查看流程实例 {instance.id} / you may not read instance {instance.id}")
    return instance


def is_customer_key(key: str) -> bool:
    return key in CUSTOMER_KEYS or bool(_CUSTOMER_WORDS.search(key))


def customer_free(data: dict) -> dict:
    """Process data without the caller's fields, for those who may not see customer data."""
    return {k: (customer_free(v) if isinstance(v, dict) else v) for k, v in data.items() if not is_customer_key(str(k))}


def instance_data(user: User, data: dict) -> dict:
    """Process data as ``user`` may see it."""
    return data if can_see_customer_data(user) else customer_free(data)
