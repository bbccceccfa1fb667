"""Customer accounts for the portal, and what a customer may see of the desk.

A customer is a contact in the archive (``Contact``) who signs in to the portal: a
``User`` with the single role ``customer`` (same password hashing and lockout as
staff), tied to the contact by ``CustomerAccount``. The staff pages and the staff
API refuse a customer-only user; the portal shows a customer only the tickets of
their own contact (or sent from their own address), and of each ticket only what
the customer should read: its status, the key moments, the replies that are not
internal and the files.

Without an account, a ticket number and the phone the ticket was registered with
show that one ticket's status (``lookup``), throttled per caller like every channel.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..errors import Forbidden, Invalid, NotFound
from ..models import AlertSource, Contact, CustomerAccount, Organisation, Role, Ticket, User
from . import channels, customers, users

ROLE = ("customer", "客户", "Customer")
LOOKUP_LIMIT = 10
LOOKUP_WINDOW = timedelta(minutes=10)


def is_customer_only(user: User) -> bool:
    """A portal account: no staff role at all, so no staff page and no staff API."""
    return user.role_codes == {ROLE[0]}


def _role(session: Session) -> Role:
    role = session.get(Role, ROLE[0])
    if role is None:
        role = Role(code=ROLE[0], name=ROLE[1], name_en=ROLE[2])
        session.add(role)
        session.flush()
    return role


def add_account(session: Session, email: str, password: str | None = None) -> tuple[User, str]:
    """A portal account for the archive's contact with this e-mail; returns (user, password).

    The username is the e-mail; a password is generated when none is given.
    """
    address = (email or "").strip().lower()
    if not address:
        raise Invalid("请填写联系人的邮箱 / the contact's e-mail is required", fields={"email": ["必填 / required"]})
    contact = customers.match(session, {"email": address})[1]
    if contact is None:
        raise NotFound(f"客户档案中没有邮箱为 {email} 的联系人 / no contact with e-mail {email} in the archive")
    password = password or secrets.token_urlsafe(9)
    _role(session)
    user = users.add_user(session, address, password, [ROLE[0]], display_name=contact.name, email=address)
    session.add(CustomerAccount(user_id=user.id, contact_id=contact.id))
    session.flush()
    return user, password


def contact_of(session: Session, user: User) -> Contact:
    account = session.scalars(select(CustomerAccount).where(CustomerAccount.user_id == user.id)).first()
    if account is None:
        raise Forbidden("该账号不是客户账号 / not a customer account")
    return session.get(Contact, account.contact_id)


def organisation_of(session: Session, contact: Contact) -> Organisation | None:
    return session.get(Organisation, contact.organisation_id)


def _mine(contact: Contact):
    mine = [Ticket.contact_id == contact.id]
    if contact.email:
        mine.append(func.lower(Ticket.email) == contact.email.strip().lower())
    return or_(*mine)


def tickets_of(session: Session, contact: Contact, *, page: int = 1, per_page: int = 20) -> tuple[list[Ticket], int]:
    """The contact's tickets, newest first, a page at a time."""
    stmt = select(Ticket).where(_mine(contact))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Ticket.id.desc()).offset((max(1, page) - 1) * per_page).limit(per_page))
    return list(rows), total


def ticket_of(session: Session, contact: Contact, number: str) -> Ticket:
    """One of the contact's own tickets; any other number is simply not found."""
    ticket = session.scalars(select(Ticket).where(Ticket.number == number, _mine(contact))).first()
    if ticket is None:
        raise NotFound(f"没有工单 {number} / no ticket {number}")
    return ticket


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


def lookup(session: Session, number: str, phone: str, *, caller: str) -> Ticket:
    """The ticket with this number when ``phone`` is the one it was registered with.

    Every try is counted per caller (an address), so numbers cannot be guessed in bulk.
    """
    channels.throttle(session, "lookup", caller, limit=LOOKUP_LIMIT, window=LOOKUP_WINDOW)
    channels.record(session, "lookup", sender=caller, outcome=channels.IGNORED, subject=(number or "")[:300])
    number, wanted = (number or "").strip().upper(), _digits(phone)
    if not number or len(wanted) < 6:
        raise Invalid("请填写工单号和登记时的电话 / enter the ticket number and the phone it was registered with",
                      fields={"phone": ["至少 6 位数字 / at least 6 digits"]} if len(wanted) < 6 else {"number": ["必填 / required"]})
    ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
    phones = {_digits(ticket.phone)} if ticket else set()
    if ticket is not None and ticket.contact_id:
        contact = session.get(Contact, ticket.contact_id)
        phones |= {_digits(contact.phone), _digits(contact.phone2)}
    if ticket is None or wanted not in phones - {""}:
        raise NotFound("工单号与电话不匹配 / no ticket with this number and phone")
    return ticket


# --- the demo (desk init --demo) ---

DEMO_ORGANISATION = "示例医院信息科"
DEMO_CUSTOMER = "customer@example.cn"
DEMO_SOURCE = "demo-monitoring"


def add_demo(session: Session) -> list[str]:
    """A demo customer in the archive with a portal account (password ``demo``) and a demo alert source.

    Lines to print: the alert source's token is shown this once. Whatever exists already is left alone.
    """
    lines = []
    if customers.find_organisation(session, DEMO_ORGANISATION) is None:
        customers.create(session, {
            "name": DEMO_ORGANISATION, "address": "示例市健康路 1 号",
            "contacts": [{"name": "王主任", "phone": "010-66668888", "email": DEMO_CUSTOMER, "role": "信息科主任"}],
            "devices": [{"model": "华为 RH2288H V5", "serial": "DEMO-2288-0001", "location": "机房 A01"}],
        }, actor="desk init")
    if users.by_username(session, DEMO_CUSTOMER) is None:
        add_account(session, DEMO_CUSTOMER, "demo")
        lines.append(f"demo portal account: {DEMO_CUSTOMER} (password: demo) at /portal")
    if session.scalars(select(AlertSource).where(AlertSource.name == DEMO_SOURCE)).first() is None:
        _source, token = channels.add_source(session, DEMO_SOURCE, organisation=DEMO_ORGANISATION,
                                             email="noc@example.cn", phone="010-66668888")
        lines.append(f"demo alert source {DEMO_SOURCE}: token {token} (POST /api/alerts, Authorization: Bearer …)")
    return lines
