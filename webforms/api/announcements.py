"""Announcements (公告): what is valid now, publish (lead, admin), withdraw."""

from flask import g, request

from engine.desk import announcements

from ..extensions import db
from . import bp, json_body, token_required
from .schemas import AnnouncementInfo


@bp.get("/announcements")
@token_required()
def list_announcements():
    """Valid now for staff; ``?all=1`` every announcement (past and future too)."""
    if request.args.get("all"):
        rows = announcements.every(db.session)
    else:
        rows = announcements.current(db.session, audience="staff", limit=50)
    return {"items": AnnouncementInfo(many=True).dump(rows)}


@bp.post("/announcements")
@token_required(*announcements.PUBLISHERS)
def publish_announcement():
    row = announcements.publish(db.session, json_body(), user=g.user)
    db.session.commit()
    return AnnouncementInfo().dump(row), 201


@bp.post("/announcements/<int:announcement_id>/withdraw")
@token_required(*announcements.PUBLISHERS)
def withdraw_announcement(announcement_id: int):
    row = announcements.withdraw(db.session, announcements.get(db.session, announcement_id), user=g.user)
    db.session.commit()
    return AnnouncementInfo().dump(row)
