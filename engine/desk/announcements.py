"""Announcements (公告, 000 §1.3.2 "为用户发布信息"): notices of planned maintenance,
holidays or known faults, to customers, staff or both, shown on the login page and the
inbox while they are valid (``starts_at`` ≤ now < ``ends_at``; no end: until withdrawn).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Forbidden, Invalid, NotFound
from ..models import Announcement, User
from . import audit
from .tickets import LOCAL_TZ

PUBLISHERS = ("lead", "admin")
AUDIENCES = ("all", "staff", "customers")


def _time(value, key: str, errors: dict) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors[key] = ["时间格式应为 ISO 8601 / time must be ISO 8601"]
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


def publish(session: Session, data, *, user: User) -> Announcement:
    """A new announcement; it shows from ``starts_at`` (default now) until ``ends_at``."""
    if not user.has_role(*PUBLISHERS):
        raise Forbidden("只有组长或管理员可以发布公告 / only a lead or admin publishes announcements")
    if not isinstance(data, dict):
        raise Invalid("请求体应为 JSON 对象 / the request body must be a JSON object")
    errors: dict[str, list[str]] = {}
    title = data.get("title")
    body = data.get("body") or ""
    if not isinstance(title, str) or not title.strip():
        errors["title"] = ["必填 / required"]
    elif len(title.strip()) > 200:
        errors["title"] = ["最多 200 字 / at most 200 characters"]
    if not isinstance(body, str) or len(body) > 5000:
        errors["body"] = ["最多 5000 字 / text of at most 5000 characters"]
    audience = data.get("audience") or "all"
    if audience not in AUDIENCES:
        errors["audience"] = ["应为 all、staff 或 customers / must be all, staff or customers"]
    starts = _time(data.get("starts_at"), "starts_at", errors) or now()
    ends = _time(data.get("ends_at"), "ends_at", errors)
    if ends is not None and ends <= starts:
        errors["ends_at"] = ["结束时间应晚于开始时间 / must be after the start"]
    if errors:
        raise Invalid("公告有错误 / the announcement has errors", fields=errors)
    row = Announcement(title=title.strip(), body=body.strip(), audience=audience, starts_at=starts, ends_at=ends,
                       created_by=user.username, created_at=now())
    session.add(row)
    session.flush()
    audit.record(session, "announcement", actor=user.username, name=row.title,
                 data={"announcement_id": row.id, "audience": audience, "starts_at": starts.isoformat(),
                       "ends_at": ends.isoformat() if ends else None})
    return row


def withdraw(session: Session, row: Announcement, *, user: User) -> Announcement:
    """End the announcement now (kept for the record)."""
    if not user.has_role(*PUBLISHERS):
        raise Forbidden("只有组长或管理员可以撤下公告 / only a lead or admin withdraws announcements")
    at = now()
    row.ends_at = max(at, row.starts_at)
    audit.record(session, "announcement_withdraw", actor=user.username, name=row.title, data={"announcement_id": row.id})
    return row


def current(session: Session, *, audience: str = "staff", limit: int = 5) -> list[Announcement]:
    """What is valid now for ``audience`` (staff or customers), newest start first."""
    at = now()
    stmt = (
        select(Announcement)
        .where(Announcement.starts_at <= at, or_(Announcement.ends_at.is_(None), Announcement.ends_at > at),
               Announcement.audience.in_(("all", audience)))
        .order_by(Announcement.starts_at.desc(), Announcement.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def every(session: Session, *, limit: int = 50, offset: int = 0) -> list[Announcement]:
    """All announcements, past, present and future, newest first (the management page)."""
    stmt = select(Announcement).order_by(Announcement.starts_at.desc(), Announcement.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(stmt))


def get(session: Session, announcement_id: int) -> Announcement:
    row = session.get(Announcement, announcement_id)
    if row is None:
        raise NotFound(f"公告 {announcement_id} 不存在 / no announcement {announcement_id}")
    return row
