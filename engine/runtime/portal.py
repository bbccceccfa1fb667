"""What a signed-in customer does in the portal: submit a request, reply, rate the service.

A caller of the one write path, like the other channels: a request is registered
with ``instances.receive`` (channel ``web``, the intake task completed by the
portal, the same completeness rule and SLA clocks); a rating is the ticket's own
callback step (回访) completed by the customer — reached, solved or not, and the
satisfaction — so the diagram's rules apply exactly as to a phone callback: "not
solved" sends the ticket back to its resolver, a dissatisfied customer goes to the
lead's callback review (回访异常处理), anything else on to closing. The choices
offered are the callback form's own. Files are checked before anything is written:
one refused file means no ticket, no reply.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..desk import accounts, attachments, channels, notes
from ..errors import Conflict, Invalid
from ..models import Contact, HumanTask, TaskState, Ticket
from . import instances, tasks

CHANNEL = "web"
RATE_LIMIT = 20  # requests and replies per customer per hour: more is a script, not a person
RATE_WINDOW = timedelta(hours=1)
TYPES = ("incident", "request", "consultation", "complaint")
# what a rating led to, by the step the ticket waits at afterwards
AFTER_RATING = {"callback_review": "review", "close": "closing"}


def actor_of(contact: Contact) -> str:
    return f"portal:{contact.email or contact.id}"[:80]


def _check_files(files: list[tuple[str, bytes]], max_bytes: int) -> list[tuple[str, bytes]]:
    kept = [(name, data) for name, data in files if name or data]
    for name, data in kept:
        attachments.check(name, data, max_bytes=max_bytes)
    return kept


def _count(session: Session, contact: Contact, what: str, ticket: Ticket | None = None, *, limit: int) -> None:
    """Refuse a customer over their share, else log this request or reply (what throttling counts)."""
    actor = actor_of(contact)
    channels.throttle(session, CHANNEL, actor, limit=limit, window=RATE_WINDOW)
    channels.record(session, CHANNEL, sender=actor, outcome=channels.ACCEPTED, reason=what,
                    ticket_id=ticket.id if ticket else None, subject=ticket.number if ticket else "")


def _text(data: dict, key: str, limit: int) -> str:
    value = data.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


def submit(session: Session, contact: Contact, data: dict, files: list[tuple[str, bytes]], *, store: Path,
           max_bytes: int, rate_limit: int = RATE_LIMIT) -> Ticket:
    """A request from the portal: a ticket with the contact's details and the files sent with it."""
    errors: dict[str, list[str]] = {}
    kind = data.get("type") or "incident"
    if kind not in TYPES:
        errors["type"] = ["请选择类型 / choose a type"]
    title, description = _text(data, "title", 200), _text(data, "description", 10000)
    if not title:
        errors["title"] = ["必填 / required"]
    if not description:
        errors["description"] = ["必填 / required"]
    if errors:
        raise Invalid("请检查填写的内容 / please check the form", fields=errors)
    files = _check_files(files, max_bytes)
    _count(session, contact, "new", limit=rate_limit)
    organisation = accounts.organisation_of(session, contact)
    actor = actor_of(contact)
    ticket = instances.receive(session, {
        "type": kind,
        "channel": CHANNEL,
        "title": title,
        "description": description,
        "reporter_name": contact.name,
        "organisation": organisation.name if organisation else "",
        "phone": _text(data, "phone", 60) or contact.phone,
        "email": contact.email,
        "device_model": _text(data, "device_model", 120),
        "device_serial": _text(data, "device_serial", 120),
        "occurred_at": data.get("occurred_at") or now().isoformat(),  # the customer writes as it happens
        "contact_id": contact.id,
    }, actor=actor)
    for name, content in files:
        attachments.add(session, ticket, name, content, actor=actor, store=store, max_bytes=max_bytes)
    return ticket


def reply(session: Session, contact: Contact, ticket: Ticket, text: str, files: list[tuple[str, bytes]], *,
          store: Path, max_bytes: int, rate_limit: int = RATE_LIMIT) -> None:
    """The customer's reply on their ticket: a note the desk and the customer see, with its files."""
    files = _check_files(files, max_bytes)
    _count(session, contact, "reply", ticket, limit=rate_limit)
    actor = actor_of(contact)
    notes.add(session, ticket, text, internal=False, actor=actor)
    for name, content in files:
        attachments.add(session, ticket, name, content, actor=actor, store=store, max_bytes=max_bytes)


def rating_task(session: Session, ticket: Ticket) -> HumanTask | None:
    """The ticket's open callback step, which the customer's rating completes; None when there is none."""
    return session.scalars(
        select(HumanTask).where(HumanTask.ticket_id == ticket.id, HumanTask.state == TaskState.READY,
                                HumanTask.bpmn_id == "callback")
    ).first()


def satisfaction_choices(task: HumanTask) -> list[str]:
    """The satisfaction levels the diagram's callback form offers, in its order."""
    field = next((f for f in tasks.form_of(task) if f.id == "satisfaction"), None)
    return [value for value, _label in field.options] if field is not None else []


def rate(session: Session, contact: Contact, ticket: Ticket, data: dict) -> str:
    """The customer confirms (or denies) the fix and rates the service: the callback, done by the customer.

    Returns what follows: ``reopened`` (not solved: back to the resolver), ``review``
    (dissatisfied: a lead decides), ``closing``, or ``open`` for any other next step.
    """
    task = rating_task(session, ticket)
    if task is None:
        raise Conflict("该工单现在不能评价 / this ticket cannot be rated now")
    solved = data.get("solved")
    if solved not in ("yes", "no", True, False):
        raise Invalid("请选择问题是否已解决 / say whether the problem is solved", fields={"solved": ["必填 / required"]})
    satisfaction = data.get("satisfaction")
    if satisfaction not in satisfaction_choices(task):
        raise Invalid("请选择满意度 / choose how satisfied you are", fields={"satisfaction": ["必填 / required"]})
    comment = _text(data, "comment", 2000)
    reopened = ticket.reopened or 0
    instances.complete_for_channel(session, task.id, {
        "reached": True,
        "solved": solved in ("yes", True),
        "satisfaction": satisfaction,
        "comment": f"客户在服务门户评价：{comment}" if comment else "客户在服务门户评价",
    }, actor=actor_of(contact))
    if (ticket.reopened or 0) > reopened:
        return "reopened"
    stage = set(filter(None, (ticket.stage or "").split(",")))
    return next((what for step, what in AFTER_RATING.items() if step in stage), "open")
