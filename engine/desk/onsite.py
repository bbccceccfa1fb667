"""The on-site service record (运维现场服务记录单, 003): arrival and departure, the work done,
the parts used, the data backup made before risky work, and the customer's signature.

003 asks the engineer to back up the customer's data, with the customer confirming on
the record, before replacing a disk or reinstalling a system; so a record that says
the work was risky cannot be signed off until the customer has confirmed the backup
with a first signature (``confirm_backup``), and both signatures are on the record
("签字确认2处"). The customer signs on the engineer's phone (a canvas drawn into a PNG,
stored as the ticket's attachment of kind ``signature``); nobody may sign for the
customer (禁止代签), so the signer's own name (and phone) are required and recorded,
and a signed record is final.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import OnsiteRecord, Ticket, User
from . import attachments, audit
from .tickets import LOCAL_TZ

FIELD_ROLES = ("engineer", "tech_support", "lead", "admin")
MAX_SIGNATURE_BYTES = 512 * 1024
PNG_PREFIX = "data:image/png;base64,"
TEXT_LIMITS = {"work_done": 10_000, "parts": 2_000, "backup_note": 2_000}


def _time(value, key: str, errors: dict) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            errors[key] = ["时间格式应为 ISO 8601 / time must be ISO 8601"]
            return None
    if parsed.tzinfo is None:  # a time typed on the page is the desk's local time
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed


def _values(data, errors: dict) -> dict:
    if not isinstance(data, dict):
        raise Invalid("请求体应为 JSON 对象 / the request body must be a JSON object")
    values: dict = {}
    for key, limit in TEXT_LIMITS.items():
        value = data.get(key) or ""
        if not isinstance(value, str):
            errors[key] = ["应为文字 / must be text"]
        elif len(value) > limit:
            errors[key] = [f"最多 {limit} 字 / at most {limit} characters"]
        else:
            values[key] = value.strip()
    for key in ("risky_work", "backup_done"):
        value = data.get(key, False)
        if value in ("on", "true", "1"):
            value = True
        elif value in ("", "false", "0", None):
            value = False
        if not isinstance(value, bool):
            errors[key] = ["应为 true 或 false / must be a boolean"]
        values[key] = bool(value)
    values["arrived_at"] = _time(data.get("arrived_at"), "arrived_at", errors)
    values["departed_at"] = _time(data.get("departed_at"), "departed_at", errors)
    if values["arrived_at"] is None and "arrived_at" not in errors:
        errors["arrived_at"] = ["必填 / required"]
    if values["arrived_at"] and values["departed_at"] and values["departed_at"] < values["arrived_at"]:
        errors["departed_at"] = ["离开时间早于到达时间 / departure before arrival"]
    if not values.get("work_done") and "work_done" not in errors:
        errors["work_done"] = ["必填 / required"]
    return values


def create(session: Session, ticket: Ticket, data, *, user: User) -> OnsiteRecord:
    """The engineer's record of a visit (unsigned yet)."""
    if not user.has_role(*FIELD_ROLES):
        raise Forbidden("只有工程师、技术支持可以填写现场服务记录 / only field staff write on-site records")
    errors: dict[str, list[str]] = {}
    values = _values(data, errors)
    if errors:
        raise Invalid("现场服务记录有错误 / the on-site record has errors", fields=errors)
    record = OnsiteRecord(ticket_id=ticket.id, engineer=user.username, created_at=now(), **values)
    session.add(record)
    session.flush()
    audit.record(session, "onsite_record", actor=user.username, instance_id=ticket.instance_id, ticket_id=ticket.id,
                 name=f"#{record.id}", data={"record_id": record.id, "arrived_at": values["arrived_at"].isoformat(),
                                             "work_done": values["work_done"], "parts": values["parts"],
                                             "risky_work": values["risky_work"], "backup_done": values["backup_done"]})
    return record


def update(session: Session, record: OnsiteRecord, data, *, user: User) -> OnsiteRecord:
    """Correct an unsigned record (e.g. add the departure time)."""
    if record.signed_at is not None:
        raise Conflict("记录已由客户签字，不能修改 / the record is signed and final", by=record.signer_name, at=record.signed_at)
    if not user.has_role(*FIELD_ROLES):
        raise Forbidden("只有工程师、技术支持可以修改现场服务记录 / only field staff edit on-site records")
    errors: dict[str, list[str]] = {}
    values = _values(data, errors)
    if errors:
        raise Invalid("现场服务记录有错误 / the on-site record has errors", fields=errors)
    if record.backup_confirmed_at is not None:  # the customer signed for these: they stay as signed
        for key in ("risky_work", "backup_done", "backup_note"):
            values.pop(key, None)
    for key, value in values.items():
        setattr(record, key, value)
    audit.record(session, "onsite_update", actor=user.username, ticket_id=record.ticket_id, name=f"#{record.id}",
                 data={"record_id": record.id})
    return record


def _png(signature) -> bytes:
    if not isinstance(signature, str) or not signature.startswith(PNG_PREFIX):
        raise Invalid("请客户在屏幕上签名 / the customer's signature is missing", fields={"signature": ["必填 / required"]})
    try:
        data = base64.b64decode(signature[len(PNG_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("签名图片无法读取 / the signature image is unreadable", fields={"signature": ["PNG"]}) from None
    if attachments.family_of(data) != "png":
        raise Invalid("签名应为 PNG 图片 / the signature must be a PNG image", fields={"signature": ["PNG"]})
    return data


def _signer(session: Session, record: OnsiteRecord, data: dict, errors: dict) -> str:
    name = str(data.get("signer_name") or "").strip()
    if not name:
        errors["signer_name"] = ["签字人姓名必填 / the signer's name is required"]
    elif name in (record.engineer, _display_name(session, record.engineer)):
        errors["signer_name"] = ["禁止代签：须由客户本人签字 / the engineer may not sign for the customer"]
    return name


def _picture(data: dict, errors: dict) -> bytes:
    try:
        png = _png(data.get("signature"))
    except Invalid as exc:
        errors["signature"] = [exc.message]
        return b""
    if len(png) > MAX_SIGNATURE_BYTES:
        errors["signature"] = ["签名图片太大 / the signature image is too large"]
    return png


def confirm_backup(session: Session, record: OnsiteRecord, data, *, actor: str, store: Path) -> OnsiteRecord:
    """The customer's first signature: the data was backed up before the risky work starts."""
    if record.signed_at is not None or record.backup_confirmed_at is not None:
        raise Conflict(f"备份已由 {record.backup_signer_name or record.signer_name} 签字确认 / already confirmed",
                       by=record.backup_signer_name or record.signer_name, at=record.backup_confirmed_at or record.signed_at)
    if not isinstance(data, dict):
        raise Invalid("请求体应为 JSON 对象 / the request body must be a JSON object")
    errors: dict[str, list[str]] = {}
    if not record.risky_work:
        errors["risky_work"] = ["没有风险操作，无需备份确认 / no risky work: no backup to confirm"]
    elif not record.backup_done:
        errors["backup_done"] = ["请先完成数据备份 / back up the data first"]
    name = _signer(session, record, data, errors)
    png = _picture(data, errors)
    if errors:
        raise Invalid("备份确认未签字 / the backup is not confirmed", fields=errors)
    ticket = session.get(Ticket, record.ticket_id)
    picture = attachments.add(session, ticket, f"backup-signature-{record.id}.png", png, actor=actor, store=store,
                              max_bytes=MAX_SIGNATURE_BYTES, kind="signature")
    record.backup_signer_name = name[:120]
    record.backup_signature_id = picture.id
    record.backup_confirmed_at = now()
    audit.record(session, "onsite_backup_confirmed", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id,
                 name=f"#{record.id}", data={"record_id": record.id, "signer_name": record.backup_signer_name,
                                             "backup_note": record.backup_note})
    return record


def sign(session: Session, record: OnsiteRecord, data, *, actor: str, store: Path) -> OnsiteRecord:
    """The customer signs: their own name and phone (禁止代签), the drawn signature, their opinion."""
    if record.signed_at is not None:
        raise Conflict(f"记录已由 {record.signer_name} 签字 / already signed by {record.signer_name}",
                       by=record.signer_name, at=record.signed_at)
    if not isinstance(data, dict):
        raise Invalid("请求体应为 JSON 对象 / the request body must be a JSON object")
    errors: dict[str, list[str]] = {}
    name = _signer(session, record, data, errors)
    phone = str(data.get("signer_phone") or "").strip()
    opinion = str(data.get("opinion") or "").strip()
    if not phone:
        errors["signer_phone"] = ["签字人电话必填 / the signer's phone is required"]
    if record.risky_work and not record.backup_done:
        errors["backup_done"] = ["风险操作前须先备份数据 / back up the data before risky work, then sign"]
    elif record.risky_work and record.backup_confirmed_at is None:
        errors["backup_confirmed"] = ["请客户先签字确认数据备份 / the customer confirms the backup first"]
    if record.departed_at is None:
        errors["departed_at"] = ["请先填写离开时间 / record the departure time first"]
    png = _picture(data, errors)
    if errors:
        raise Invalid("签字未完成 / the record is not signed", fields=errors)
    ticket = session.get(Ticket, record.ticket_id)
    picture = attachments.add(session, ticket, f"signature-{record.id}.png", png, actor=actor, store=store,
                              max_bytes=MAX_SIGNATURE_BYTES, kind="signature")
    record.signer_name, record.signer_phone, record.opinion = name[:120], phone[:60], opinion[:2000]
    record.signature_id = picture.id
    record.signed_at = now()
    audit.record(session, "onsite_signed", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id,
                 name=f"#{record.id}", data={"record_id": record.id, "signer_name": record.signer_name,
                                             "signer_phone": record.signer_phone, "opinion": record.opinion})
    return record


def _display_name(session: Session, username: str) -> str:
    user = session.scalars(select(User).where(User.username == username)).first()
    return user.display_name if user and user.display_name else username


def get(session: Session, record_id: int) -> OnsiteRecord:
    record = session.get(OnsiteRecord, record_id)
    if record is None:
        raise NotFound(f"现场服务记录 {record_id} 不存在 / no on-site record {record_id}")
    return record


def of_ticket(session: Session, ticket_id: int) -> list[OnsiteRecord]:
    return list(session.scalars(
        select(OnsiteRecord).where(OnsiteRecord.ticket_id == ticket_id).order_by(OnsiteRecord.arrived_at, OnsiteRecord.id)
    ))
