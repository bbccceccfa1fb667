"""Mail in: a customer's mail becomes a ticket, or a reply on the ticket its subject names.

Both doors use this one function: ``desk mail-receive`` (the desk's own SMTP server)
and ``desk mail-fetch`` (polling an IMAP mailbox). Like the timer worker, it is a
caller of the one write path: a new mail is registered with ``instances.receive``
(channel ``email``: the intake task completed by the channel, the same completeness
rule and SLA clocks), and the acknowledgement with the ticket number goes out through
the outbox in the same transaction (``notifications.after_step``: customer_accepted).

What happens to a mail, in order:

1. an auto-reply or a bounce (Auto-Submitted, Precedence bulk/junk/list/auto_reply,
   X-Autoreply, mailer-daemon/postmaster, a delivery report) is ignored, so the desk
   never answers a machine and no loop starts;
2. a Message-ID seen before is ignored (a mail fetched twice, a resent copy);
3. a sender over its share (``RATE_LIMIT`` per hour) is quarantined;
4. a subject naming a ticket (INC-20261124-0001) from that ticket's contact becomes a
   customer reply on it (a note the customer sees, files attached); from anyone else
   it is quarantined;
5. a mail from a contact in the customer archive opens a ticket; from an unknown
   sender it is quarantined for a person to look at (no ticket for strangers).

Every mail leaves one ``Inbound`` row saying which of these happened.
"""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..desk import attachments, channels, customers, notes
from ..errors import Invalid
from ..models import Contact, Inbound, Notification, Organisation, Ticket
from . import instances

CHANNEL = "email"
MAX_MAIL = 20 * 1024 * 1024
RATE_LIMIT = 30
RATE_WINDOW = timedelta(hours=1)
NUMBER = re.compile(r"\b(?:INC|SR|CON|CMP|TKT)-\d{8}-\d{4}\b")
MACHINES = ("mailer-daemon", "postmaster", "noreply", "no-reply", "bounce", "bounces")
BULK = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
TYPE_WORDS = (("投诉", "complaint"), ("咨询", "consultation"), ("申请", "request"))


class _Text(HTMLParser):
    """An HTML-only mail's words, for the ticket's description."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def sender_of(message: EmailMessage) -> str:
    return parseaddr(str(message.get("From", "")))[1].strip().lower()


def machine_reason(message: EmailMessage, envelope_from: str | None = None) -> str | None:
    """Why this mail comes from a machine (an auto-reply, a bounce), or None for a person's mail."""
    auto = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in BULK:
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if header in message:
            return header
    if envelope_from == "":
        return "empty envelope sender (a bounce)"
    local = sender_of(message).partition("@")[0]
    if not local or local in MACHINES:
        return f"sender {sender_of(message) or '(none)'}"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    return None


def text_of(message: EmailMessage) -> str:
    """The mail's text: the plain part, else the HTML part's words."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        reader = _Text()
        reader.feed(content)
        content = "".join(reader.parts)
    lines = [line.rstrip() for line in content.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _contact(session: Session, address: str) -> Contact | None:
    """The archive's contact with the sender's address (the archive's own matching)."""
    if not address:
        return None
    return customers.match(session, {"email": address})[1]


def _ticket_type(subject: str) -> str:
    return next((kind for word, kind in TYPE_WORDS if word in subject), "incident")


def _occurred(message: EmailMessage) -> str:
    try:
        sent = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        sent = None
    if sent is None or sent.tzinfo is None or sent > now():
        sent = now()
    return sent.isoformat()


def _attach(session: Session, ticket: Ticket, message: EmailMessage, *, actor: str, store: Path, max_bytes: int) -> int:
    """Keep the mail's files on the ticket; a file the store refuses is named in an internal note."""
    kept = 0
    for part in message.iter_attachments():
        name = part.get_filename() or ""
        data = part.get_payload(decode=True) or b""
        try:
            attachments.add(session, ticket, name, data, actor=actor, store=store, max_bytes=max_bytes)
            kept += 1
        except Invalid as exc:
            notes.add(session, ticket, f"邮件附件 {name or '(无名)'} 未保存：{exc.message}", internal=True, actor=actor)
    return kept


def _may_reply(session: Session, ticket: Ticket, address: str) -> bool:
    if address and address == (ticket.email or "").strip().lower():
        return True
    contact = _contact(session, address)
    return contact is not None and ticket.organisation_id is not None and contact.organisation_id == ticket.organisation_id


def _reply(session: Session, ticket: Ticket, message: EmailMessage, *, actor: str, store: Path, max_bytes: int) -> None:
    text = text_of(message) or str(message.get("Subject", ""))
    notes.add(session, ticket, text[: notes.MAX_LENGTH], internal=False, actor=actor)
    _attach(session, ticket, message, actor=actor, store=store, max_bytes=max_bytes)
    if ticket.assignee:
        session.add(Notification(username=ticket.assignee, ticket_id=ticket.id, kind="customer_reply",
                                 message=f"工单 {ticket.number} 收到客户邮件回复 / ticket {ticket.number}: the customer replied",
                                 created_at=now()))


def _open(session: Session, contact: Contact, message: EmailMessage, address: str, *, actor: str, store: Path,
          max_bytes: int) -> Ticket:
    subject = str(message.get("Subject", "")).strip()
    organisation = session.get(Organisation, contact.organisation_id)
    body = text_of(message)
    ticket = instances.receive(session, {
        "type": _ticket_type(subject),
        "channel": CHANNEL,
        "title": (subject or body.split("\n", 1)[0] or "(无主题)")[:200],
        "description": (body or subject or "(无正文)")[:10000],
        "reporter_name": contact.name,
        "organisation": organisation.name if organisation else "",
        "phone": contact.phone,
        "email": address,
        "occurred_at": _occurred(message),
        "contact_id": contact.id,
    }, actor=actor)
    _attach(session, ticket, message, actor=actor, store=store, max_bytes=max_bytes)
    return ticket


def receive(
    session: Session,
    raw: bytes,
    *,
    store: Path,
    envelope_from: str | None = None,
    max_attachment_bytes: int = attachments.DEFAULT_MAX_BYTES,
    rate_limit: int = RATE_LIMIT,
) -> Inbound:
    """Take one mail in (see the module docstring); returns its ``Inbound`` row. The caller commits."""
    if len(raw) > MAX_MAIL:
        return channels.record(session, CHANNEL, sender=envelope_from or "", outcome=channels.QUARANTINED,
                               reason=f"邮件超过 {MAX_MAIL // 1024 // 1024} MB / mail too large", payload=raw[:64 * 1024])
    message = parse(raw)
    address = sender_of(message)
    subject = str(message.get("Subject", ""))[:300]
    message_id = str(message.get("Message-ID", "")).strip() or channels.digest(raw)

    def log(outcome: str, reason: str = "", ticket: Ticket | None = None) -> Inbound:
        return channels.record(session, CHANNEL, sender=address, digest=message_id, subject=subject, outcome=outcome,
                               reason=reason, ticket_id=ticket.id if ticket else None, payload=raw)

    machine = machine_reason(message, envelope_from)
    if machine:
        return log(channels.IGNORED, f"自动回复或退信 / auto-reply or bounce: {machine}")
    if channels.seen(session, CHANNEL, address, message_id) is not None:
        return log(channels.IGNORED, "重复的邮件 / already received (same Message-ID)")
    try:
        channels.throttle(session, CHANNEL, address, limit=rate_limit, window=RATE_WINDOW)
    except channels.Throttled as exc:
        return log(channels.QUARANTINED, exc.message)
    actor = f"{CHANNEL}:{address}"[:80]
    found = NUMBER.search(subject)
    if found:
        ticket = session.scalars(select(Ticket).where(Ticket.number == found.group(0))).first()
        if ticket is not None:
            if not _may_reply(session, ticket, address):
                return log(channels.QUARANTINED, f"发件人不是工单 {ticket.number} 的联系人 / not the ticket's contact")
            _reply(session, ticket, message, actor=actor, store=store, max_bytes=max_attachment_bytes)
            return log(channels.ACCEPTED, "reply", ticket)
    contact = _contact(session, address)
    if contact is None:
        return log(channels.QUARANTINED, "发件人不在客户档案中 / unknown sender")
    ticket = _open(session, contact, message, address, actor=actor, store=store, max_bytes=max_attachment_bytes)
    return log(channels.ACCEPTED, "new", ticket)



def release(session: Session, inbound_id: int, *, actor: str, store: Path,
            max_attachment_bytes: int = attachments.DEFAULT_MAX_BYTES) -> Inbound:
    """Let a quarantined mail in once a person has dealt with the reason (e.g. added the sender to the archive).

    The mail is judged again from the start; when it would still be quarantined, nothing changes.
    """
    held = channels.get(session, inbound_id)
    if held.channel != CHANNEL or held.outcome != channels.QUARANTINED or not held.payload:
        raise Invalid("只能放行隔离区中的邮件 / only quarantined mail can be released")
    row = receive(session, held.payload, store=store, max_attachment_bytes=max_attachment_bytes, rate_limit=10**9)
    if row.outcome != channels.ACCEPTED:
        raise Invalid(f"仍不能受理：{row.reason}")
    held.outcome = channels.RELEASED
    held.reason = f"{held.reason}; 由 {actor} 放行 / released by {actor}"[:300]
    held.ticket_id = row.ticket_id
    return row
