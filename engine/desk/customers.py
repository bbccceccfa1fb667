"""The customer archive (客户档案, 000 ①): organisations, their contacts, sites, devices
and service contracts, and the link from every ticket to the organisation, contact and
device it is about.

A ticket keeps its own copy of what the caller said (organisation, name, phone, device)
because that is what was recorded on the call; the archive ids say which known customer
that was. Intake links by the ids the agent picked, or else by an exact match (the
organisation's name, the contact's phone or e-mail, the device's serial). What matches
nothing is *offered* for the archive (``new_from_ticket``), never added silently: a
typo on the phone must not become a customer.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..clock import now
from ..errors import Conflict, Invalid, NotFound
from ..models import (
    Contact,
    Device,
    Organisation,
    ServiceContract,
    SlaClock,
    Site,
    Ticket,
    TicketStatus,
    User,
)
from . import access, audit

LINK_KEYS = ("organisation_id", "contact_id", "device_id")  # what intake may pick from the archive
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# field → (max length, required) for each kind of record
CONTACT_FIELDS = {"name": (120, True), "phone": (60, False), "phone2": (60, False), "email": (200, False), "role": (80, False)}
DEVICE_FIELDS = {"model": (120, False), "serial": (120, False), "location": (200, False), "vendor": (120, False)}
SITE_FIELDS = {"name": (200, True), "address": (300, False)}
CONTRACT_FIELDS = {"number": (80, False), "sla_level": (40, True), "notes": (2000, False)}
ORGANISATION_FIELDS = {"name": (200, True), "address": (300, False), "notes": (2000, False)}


# --- reading input --------------------------------------------------------------------------


def _clean(data, spec: dict, errors: dict, prefix: str = "") -> dict:
    """Trimmed strings for ``spec``'s fields; problems go into ``errors`` under ``prefix`` + field."""
    if not isinstance(data, dict):
        errors[prefix.rstrip(".") or "body"] = ["应为对象 / must be an object"]
        return {}
    values = {}
    for key, (limit, required) in spec.items():
        value = data.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[prefix + key] = ["应为文字 / must be text"]
            continue
        value = value.strip()
        if required and not value:
            errors[prefix + key] = ["必填 / required"]
        elif len(value) > limit:
            errors[prefix + key] = [f"最多 {limit} 字 / at most {limit} characters"]
        values[key] = value
    if values.get("email") and not EMAIL.match(values["email"]):
        errors[prefix + "email"] = ["不是有效的邮箱 / not an e-mail address"]
    return values


def _date(data: dict, key: str, errors: dict, prefix: str = "") -> date | None:
    value = data.get(key) if isinstance(data, dict) else None
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[prefix + key] = ["日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD"]
        return None


def _items(data: dict, key: str, errors: dict) -> list:
    items = data.get(key) or []
    if not isinstance(items, list):
        errors[key] = ["应为列表 / must be a list"]
        return []
    return items


def _raise(errors: dict) -> None:
    if errors:
        raise Invalid("客户档案有错误 / the customer record has errors", fields=errors)


def _contact(data, errors: dict, prefix: str = "") -> Contact:
    values = _clean(data, CONTACT_FIELDS, errors, prefix)
    if values and not (values.get("phone") or values.get("email")) and prefix + "phone" not in errors:
        errors[prefix + "phone"] = ["电话或邮箱至少填一项 / a phone or an e-mail is required"]
    return Contact(**values, created_at=now())


def _device(data, errors: dict, prefix: str = "") -> Device:
    values = _clean(data, DEVICE_FIELDS, errors, prefix)
    if values and not (values.get("model") or values.get("serial")):
        errors[prefix + "model"] = ["型号或序列号至少填一项 / a model or a serial number is required"]
    return Device(**values, warranty_until=_date(data, "warranty_until", errors, prefix), created_at=now())


def _contract(data, errors: dict, prefix: str = "") -> ServiceContract:
    values = _clean(data, CONTRACT_FIELDS, errors, prefix)
    starts, ends = _date(data, "starts_on", errors, prefix), _date(data, "ends_on", errors, prefix)
    if starts and ends and ends < starts:
        errors[prefix + "ends_on"] = ["结束日期早于开始日期 / ends before it starts"]
    return ServiceContract(**values, starts_on=starts, ends_on=ends)


# --- writing -----------------------------------------------------------------------------------


def create(session: Session, data, *, actor: str) -> Organisation:
    """A new organisation with its contacts, devices, sites and contracts (all or nothing).

    ``data``: ``{"name", "address", "notes", "contacts": [{"name", "phone", "email", ...}],
    "devices": [{"model", "serial", ...}], "sites": [...], "contracts": [...]}``.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise Invalid("请求体应为 JSON 对象 / the request body must be a JSON object")
    values = _clean(data, ORGANISATION_FIELDS, errors)
    org = Organisation(**values, created_by=actor, created_at=now())
    org.contacts = [_contact(c, errors, f"contacts.{i}.") for i, c in enumerate(_items(data, "contacts", errors))]
    org.devices = [_device(d, errors, f"devices.{i}.") for i, d in enumerate(_items(data, "devices", errors))]
    org.sites = [Site(**_clean(s, SITE_FIELDS, errors, f"sites.{i}.")) for i, s in enumerate(_items(data, "sites", errors))]
    org.contracts = [_contract(c, errors, f"contracts.{i}.") for i, c in enumerate(_items(data, "contracts", errors))]
    _raise(errors)
    if find_organisation(session, values["name"]) is not None:
        raise Conflict(f"客户单位“{values['name']}”已在档案中 / {values['name']} is already in the archive")
    session.add(org)
    session.flush()
    audit.record(session, "customer_create", actor=actor, name=org.name,
                 data={"organisation_id": org.id, "contacts": len(org.contacts), "devices": len(org.devices)})
    return org


def update(session: Session, org: Organisation, data, *, actor: str) -> Organisation:
    errors: dict[str, list[str]] = {}
    values = _clean(data, ORGANISATION_FIELDS, errors)
    _raise(errors)
    other = find_organisation(session, values["name"])
    if other is not None and other.id != org.id:
        raise Conflict(f"客户单位“{values['name']}”已在档案中 / {values['name']} is already in the archive")
    for key, value in values.items():
        setattr(org, key, value)
    audit.record(session, "customer_update", actor=actor, name=org.name, data={"organisation_id": org.id, **values})
    return org


def add_contact(session: Session, org: Organisation, data, *, actor: str) -> Contact:
    errors: dict[str, list[str]] = {}
    contact = _contact(data, errors)
    _raise(errors)
    org.contacts.append(contact)
    session.flush()
    audit.record(session, "customer_contact", actor=actor, name=org.name,
                 data={"organisation_id": org.id, "contact_id": contact.id, "name": contact.name})
    return contact


def add_device(session: Session, org: Organisation, data, *, actor: str) -> Device:
    errors: dict[str, list[str]] = {}
    device = _device(data, errors)
    site_id = data.get("site_id") if isinstance(data, dict) else None
    if site_id not in (None, ""):
        site = next((s for s in org.sites if str(s.id) == str(site_id)), None)
        if site is None:
            errors["site_id"] = ["不是该单位的地点 / not a site of this organisation"]
        else:
            device.site_id = site.id
    _raise(errors)
    org.devices.append(device)
    session.flush()
    audit.record(session, "customer_device", actor=actor, name=org.name,
                 data={"organisation_id": org.id, "device_id": device.id, "model": device.model, "serial": device.serial})
    return device


def add_site(session: Session, org: Organisation, data, *, actor: str) -> Site:
    errors: dict[str, list[str]] = {}
    site = Site(**_clean(data, SITE_FIELDS, errors))
    _raise(errors)
    org.sites.append(site)
    session.flush()
    audit.record(session, "customer_site", actor=actor, name=org.name,
                 data={"organisation_id": org.id, "site_id": site.id, "name": site.name})
    return site


def add_contract(session: Session, org: Organisation, data, *, actor: str) -> ServiceContract:
    errors: dict[str, list[str]] = {}
    contract = _contract(data, errors)
    _raise(errors)
    org.contracts.append(contract)
    session.flush()
    audit.record(session, "customer_contract", actor=actor, name=org.name,
                 data={"organisation_id": org.id, "contract_id": contract.id, "sla_level": contract.sla_level})
    return contract


# --- reading ---------------------------------------------------------------------------------


def get(session: Session, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(f"客户单位 {organisation_id} 不存在 / no organisation {organisation_id}")
    return org


def find_organisation(session: Session, name: str) -> Organisation | None:
    name = (name or "").strip()
    if not name:
        return None
    return session.scalars(select(Organisation).where(Organisation.name == name)).first()


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(session: Session, q: str | None = None, *, limit: int = 20, offset: int = 0) -> tuple[list[Organisation], int]:
    """Organisations whose name, address, a contact (name, phone, e-mail) or a device
    (model, serial) contains ``q``; by name. Returns (page, total)."""
    stmt = select(Organisation)
    if q and q.strip():
        like = _like(q.strip())
        contact_ids = select(Contact.organisation_id).where(
            or_(Contact.name.like(like, escape="\\"), Contact.phone.like(like, escape="\\"),
                Contact.phone2.like(like, escape="\\"), Contact.email.ilike(like, escape="\\"))
        )
        device_ids = select(Device.organisation_id).where(
            or_(Device.model.ilike(like, escape="\\"), Device.serial.ilike(like, escape="\\"))
        )
        stmt = stmt.where(
            or_(Organisation.name.like(like, escape="\\"), Organisation.address.like(like, escape="\\"),
                Organisation.id.in_(contact_ids), Organisation.id.in_(device_ids))
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.options(selectinload(Organisation.contacts), selectinload(Organisation.devices))
        .order_by(Organisation.name, Organisation.id).offset(offset).limit(limit)
    )
    return list(rows), total


def lookup(session: Session, prefix: str, *, limit: int = 8) -> list[dict]:
    """Archive contacts whose organisation, name or phone starts with ``prefix``, for the
    intake screen to fill the caller's fields (and the archive ids) while the phone rings."""
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = (
        select(Contact, Organisation)
        .join(Organisation, Organisation.id == Contact.organisation_id)
        .where(or_(Organisation.name.like(like, escape="\\"), Contact.name.like(like, escape="\\"),
                   Contact.phone.like(like, escape="\\")))
        .order_by(Organisation.name, Contact.name)
        .limit(limit)
    )
    return [
        {"organisation": o.name, "reporter_name": c.name, "phone": c.phone, "email": c.email,
         "organisation_id": o.id, "contact_id": c.id}
        for c, o in session.execute(stmt)
    ]


# --- tickets and the archive --------------------------------------------------------------------


def match(session: Session, data: dict) -> tuple[Organisation | None, Contact | None, Device | None]:
    """The archive's organisation, contact and device that the call's own words name exactly.

    A caller who names an organisation the archive does not know is new, even if their
    phone or e-mail is known elsewhere: nothing is linked (the ticket page offers to add it).
    """
    named = str(data.get("organisation") or "").strip()
    org = find_organisation(session, named)
    if named and org is None:
        return None, None, None
    contact = device = None
    phone, email = str(data.get("phone") or "").strip(), str(data.get("email") or "").strip()
    if phone or email:
        stmt = select(Contact).where(or_(*(
            [Contact.phone == phone, Contact.phone2 == phone] if phone else []) + ([func.lower(Contact.email) == email.lower()] if email else [])
        ))
        if org is not None:
            stmt = stmt.where(Contact.organisation_id == org.id)
        contact = session.scalars(stmt.order_by(Contact.id)).first()
    serial = str(data.get("device_serial") or "").strip()
    if serial:
        stmt = select(Device).where(Device.serial == serial)
        if org is not None:
            stmt = stmt.where(Device.organisation_id == org.id)
        device = session.scalars(stmt.order_by(Device.id)).first()
    if org is None and (contact or device):
        org = session.get(Organisation, (contact or device).organisation_id)
    return org, contact, device


def _picked(session: Session, data: dict, errors: dict):
    """The archive records the agent picked by id, checked to belong together."""
    picked = {}
    for key, model in (("organisation_id", Organisation), ("contact_id", Contact), ("device_id", Device)):
        value = data.get(key)
        if value in (None, ""):
            continue
        try:
            row = session.get(model, int(value))
        except (TypeError, ValueError):
            row = None
        if row is None:
            errors[key] = ["档案中没有该记录 / not in the archive"]
        else:
            picked[key] = row
    org = picked.get("organisation_id")
    for key in ("contact_id", "device_id"):
        row = picked.get(key)
        if row is not None and org is not None and row.organisation_id != org.id:
            errors[key] = ["不属于所选单位 / belongs to another organisation"]
    contact, device = picked.get("contact_id"), picked.get("device_id")
    if org is None and contact and device and contact.organisation_id != device.organisation_id:
        errors["device_id"] = ["与联系人不属于同一单位 / belongs to another organisation than the contact"]
    return picked


def link(session: Session, ticket: Ticket, data: dict, *, actor: str | None = None) -> Ticket:
    """Link the ticket to the archive: the ids in ``data`` when given, else exact matches.

    Called at intake (``actor`` None: the intake's own audit event says it) and from the
    ticket page, where the link is audited.
    """
    errors: dict[str, list[str]] = {}
    picked = _picked(session, data, errors)
    _raise(errors)
    matched_org, matched_contact, matched_device = match(session, data)
    contact, device = picked.get("contact_id"), picked.get("device_id")
    org = picked.get("organisation_id")
    if org is None and (contact or device):
        org = session.get(Organisation, (contact or device).organisation_id)
    org = org or matched_org
    if contact is None and matched_contact and org and matched_contact.organisation_id == org.id:
        contact = matched_contact
    if device is None and matched_device and org and matched_device.organisation_id == org.id:
        device = matched_device
    ticket.organisation_id = org.id if org else None
    ticket.contact_id = contact.id if contact else None
    ticket.device_id = device.id if device else None
    if actor is not None:
        audit.record(session, "customer_link", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id,
                     name=org.name if org else "",
                     data={"organisation_id": ticket.organisation_id, "contact_id": ticket.contact_id,
                           "device_id": ticket.device_id})
    return ticket


def new_from_ticket(session: Session, ticket: Ticket) -> dict:
    """What the ticket names that the archive does not hold yet: ``{organisation, contact, device}``
    with the values to add (only the parts that are new)."""
    new: dict = {}
    if ticket.organisation and ticket.organisation_id is None and find_organisation(session, ticket.organisation) is None:
        new["organisation"] = {"name": ticket.organisation}
    if ticket.reporter_name and ticket.contact_id is None and (ticket.phone or ticket.email):
        new["contact"] = {"name": ticket.reporter_name, "phone": ticket.phone, "email": ticket.email}
    if (ticket.device_model or ticket.device_serial) and ticket.device_id is None:
        new["device"] = {"model": ticket.device_model, "serial": ticket.device_serial}
    return new


def add_from_ticket(session: Session, ticket: Ticket, *, actor: str) -> Organisation:
    """Add what is new on the ticket to the archive and link the ticket to it."""
    if not ticket.organisation:
        raise Invalid("工单没有填写单位 / the ticket names no organisation", fields={"organisation": ["必填 / required"]})
    new = new_from_ticket(session, ticket)
    org = session.get(Organisation, ticket.organisation_id) if ticket.organisation_id else None
    org = org or find_organisation(session, ticket.organisation)
    if org is None:
        org = create(session, new["organisation"], actor=actor)
    if "contact" in new:
        contact = _existing_contact(org, new["contact"]) or add_contact(session, org, new["contact"], actor=actor)
        ticket.contact_id = contact.id
    if "device" in new:
        device = _existing_device(org, new["device"]) or add_device(session, org, new["device"], actor=actor)
        ticket.device_id = device.id
    link(session, ticket, {"organisation_id": org.id, "contact_id": ticket.contact_id, "device_id": ticket.device_id},
         actor=actor)
    return org


def _existing_contact(org: Organisation, values: dict) -> Contact | None:
    return next((c for c in org.contacts if (values["phone"] and values["phone"] in (c.phone, c.phone2))
                 or (values["email"] and c.email == values["email"])), None)


def _existing_device(org: Organisation, values: dict) -> Device | None:
    return next((d for d in org.devices if values["serial"] and d.serial == values["serial"]), None)


# --- the organisation page ---------------------------------------------------------------------


def overview(session: Session, org: Organisation, *, reader: User | None, limit: int = 20) -> dict:
    """What the organisation page shows: its latest tickets, counts by status, satisfaction,
    complaints, and the open tickets whose SLA clocks are breached or near their due time —
    of the tickets ``reader`` may read (issue 11; ``None``: all)."""
    mine = Ticket.organisation_id == org.id
    if reader is not None and not access.reads_every_ticket(reader):
        mine = and_(mine, access.readable_clause(reader))
    by_status = dict(session.execute(select(Ticket.status, func.count()).where(mine).group_by(Ticket.status)).all())
    satisfaction = dict(session.execute(
        select(Ticket.satisfaction, func.count()).where(mine, Ticket.satisfaction.is_not(None)).group_by(Ticket.satisfaction)
    ).all())
    complaints = list(session.scalars(
        select(Ticket).where(mine, Ticket.type == "complaint").order_by(Ticket.id.desc()).limit(limit)
    ))
    at = now()
    risky = (
        select(Ticket, SlaClock)
        .join(SlaClock, SlaClock.ticket_id == Ticket.id)
        .where(mine, Ticket.status != TicketStatus.CLOSED, SlaClock.stopped_at.is_(None), SlaClock.due_at.is_not(None),
               or_(SlaClock.breached.is_(True), SlaClock.warn_at <= at, SlaClock.due_at <= at))
        .order_by(SlaClock.due_at)
        .limit(limit)
    )
    risks = [{"ticket": t, "clock": c, "breached": bool(c.breached or c.due_at <= at)} for t, c in session.execute(risky)]
    tickets = list(session.scalars(select(Ticket).where(mine).order_by(Ticket.id.desc()).limit(limit)))
    return {
        "tickets": tickets,
        "total": sum(by_status.values()),
        "by_status": by_status,
        "satisfaction": satisfaction,
        "complaints": complaints,
        "risks": risks,
    }
