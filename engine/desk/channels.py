"""What every channel that is not a person at the desk shares: who may send, how often, and what was kept out.

A monitoring system authenticates with its alert source's token (only the hash is
stored, like staff API tokens). Each message a channel takes in is one ``Inbound``
row: throttling counts a sender's rows in the last window, a replay is a digest
seen before, and refused messages that a person should look at stay there as the
quarantine (outcome ``quarantined``, with the reason and the payload).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import AlertSource, Inbound

ACCEPTED = "accepted"
IGNORED = "ignored"
QUARANTINED = "quarantined"
RELEASED = "released"  # a quarantined message a person let in afterwards
QUARANTINE_PAYLOAD_LIMIT = 1024 * 1024  # what of a refused message is kept for a person to read


class Throttled(Forbidden):
    """Raised when a sender has sent more than its share in the current window (HTTP 429)."""

    code = "throttled"


class Replayed(Conflict):
    """Raised when the very same message arrives again within the replay window (HTTP 409)."""

    code = "replayed"


def _hash(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def add_source(session: Session, name: str, *, organisation: str = "", email: str = "", phone: str = "") -> tuple[AlertSource, str]:
    """A new alert source and its token; the token is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise Invalid("告警来源名称必填，最多 80 字 / a source name of 1–80 characters is required",
                      fields={"name": ["必填 / required"]})
    if session.scalars(select(AlertSource).where(AlertSource.name == name)).first() is not None:
        raise Invalid(f"告警来源 {name} 已存在 / alert source {name} exists", fields={"name": ["已存在 / exists"]})
    token = "alrt_" + secrets.token_urlsafe(32)
    source = AlertSource(name=name, token_hash=_hash(token), organisation=organisation, email=email, phone=phone)
    session.add(source)
    session.flush()
    return source, token


def source_for_token(session: Session, token: str) -> AlertSource:
    source = session.scalars(select(AlertSource).where(AlertSource.token_hash == _hash(token))).first()
    if source is None or not source.active:
        raise Forbidden("无效的告警来源令牌 / invalid alert source token")
    return source


def get_source(session: Session, name: str) -> AlertSource:
    source = session.scalars(select(AlertSource).where(AlertSource.name == name)).first()
    if source is None:
        raise NotFound(f"告警来源 {name} 不存在 / no alert source {name}")
    return source


def list_sources(session: Session) -> list[AlertSource]:
    return list(session.scalars(select(AlertSource).order_by(AlertSource.name)))


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def throttle(session: Session, channel: str, sender: str, *, limit: int, window: timedelta) -> None:
    """Refuse a sender that already sent ``limit`` messages within ``window``."""
    since = now() - window
    count = session.scalar(
        select(func.count()).select_from(Inbound)
        .where(Inbound.channel == channel, Inbound.sender == sender, Inbound.received_at >= since)
    ) or 0
    if count >= limit:
        seconds = int(window.total_seconds())
        raise Throttled(f"发送过于频繁：{seconds} 秒内最多 {limit} 次 / too many messages: at most {limit} per {seconds} s")


def seen(session: Session, channel: str, sender: str, message_digest: str, *, window: timedelta | None = None) -> Inbound | None:
    """The earlier message with this digest from this sender that was taken in or ignored (within ``window``).

    A quarantined message does not count: sent again (or released) it is judged afresh.
    """
    stmt = select(Inbound).where(Inbound.channel == channel, Inbound.sender == sender, Inbound.digest == message_digest,
                                 Inbound.outcome != QUARANTINED)
    if window is not None:
        stmt = stmt.where(Inbound.received_at >= now() - window)
    return session.scalars(stmt.order_by(Inbound.id.desc()).limit(1)).first()


def record(
    session: Session,
    channel: str,
    *,
    sender: str,
    outcome: str,
    digest: str = "",
    subject: str = "",
    reason: str = "",
    ticket_id: int | None = None,
    payload: bytes | None = None,
) -> Inbound:
    """Log one received message; the payload is kept only for the quarantine."""
    row = Inbound(
        channel=channel, sender=sender[:200], digest=digest[:200], subject=subject[:300], outcome=outcome,
        reason=reason[:300], ticket_id=ticket_id, received_at=now(),
        payload=payload[:QUARANTINE_PAYLOAD_LIMIT] if outcome == QUARANTINED and payload is not None else None,
    )
    session.add(row)
    session.flush()
    return row


def messages(
    session: Session, *, channel: str | None = None, outcome: str | None = None, page: int = 1, per_page: int = 50,
) -> tuple[list[Inbound], int]:
    """What the channels received, newest first, filtered and paged in SQL: the quarantine is ``outcome=quarantined``."""
    stmt = select(Inbound)
    if channel:
        stmt = stmt.where(Inbound.channel == channel)
    if outcome:
        stmt = stmt.where(Inbound.outcome == outcome)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Inbound.id.desc()).offset((max(1, page) - 1) * per_page).limit(per_page))
    return list(rows), total


def get(session: Session, inbound_id: int) -> Inbound:
    row = session.get(Inbound, inbound_id)
    if row is None:
        raise NotFound(f"没有收到过编号 {inbound_id} 的消息 / no received message {inbound_id}")
    return row
