"""The audit trail and in-app notifications, written in the same transaction as the change."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..clock import now
from ..models import AuditEvent, Notification
from .users import users_with_role


def record(
    session: Session,
    action: str,
    *,
    actor: str,
    instance_id: int | None = None,
    ticket_id: int | None = None,
    task_id: int | None = None,
    bpmn_id: str | None = None,
    name: str = "",
    data: dict | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=now(),
        actor=actor,
        action=action,
        instance_id=instance_id,
        ticket_id=ticket_id,
        task_id=task_id,
        bpmn_id=bpmn_id,
        name=name,
        data=data or {},
    )
    session.add(event)
    return event


def history(session: Session, *, ticket_id: int | None = None, instance_id: int | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
    if ticket_id is not None:
        stmt = stmt.where(AuditEvent.ticket_id == ticket_id)
    if instance_id is not None:
        stmt = stmt.where(AuditEvent.instance_id == instance_id)
    return list(session.scalars(stmt))


def notify_role(session: Session, role: str, kind: str, message: str, *, ticket_id: int | None = None) -> int:
    """One notification per active user of the role; returns how many were written."""
    users = users_with_role(session, role)
    for user in users:
        session.add(Notification(username=user.username, ticket_id=ticket_id, kind=kind, message=message, created_at=now()))
    return len(users)


def notifications(session: Session, username: str, *, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    stmt = select(Notification).where(Notification.username == username)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def unread_count(session: Session, username: str, *, cap: int = 100) -> int:
    """Unread notifications of a user, counted up to ``cap`` (the bell shows "99+").

    Counting stops at the cap, so it reads at most ``cap`` entries of the
    (username, read_at) index however many notifications pile up.
    """
    capped = (
        select(Notification.id).where(Notification.username == username, Notification.read_at.is_(None)).limit(cap)
    )
    return session.scalar(select(func.count()).select_from(capped.subquery())) or 0


def mark_read(session: Session, username: str, ids: list[int] | None = None) -> None:
    stmt = update(Notification).where(Notification.username == username, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    session.execute(stmt.values(read_at=now()))
