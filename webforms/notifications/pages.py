"""The bell in the top bar: SLA warnings and breaches for the desk lead, marked read when opened."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from engine.desk import audit

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import safe_next

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

MENU_SIZE = 8
UNREAD_CAP = 100


@bp.app_context_processor
def bell() -> dict:
    """The unread count and the latest notifications, for the top bar of every page.

    Two index reads, whatever the table holds: the count stops at ``UNREAD_CAP``
    and the menu is the newest ``MENU_SIZE``; opening the bell marks all read.
    """
    if not current_user.is_authenticated:
        return {}
    username = current_user.username
    recent = audit.notifications(db.session, username, limit=MENU_SIZE)
    return {
        "bell_recent": recent,
        "bell_unread": [n for n in recent if n.read_at is None],
        "bell_unread_count": audit.unread_count(db.session, username, cap=UNREAD_CAP),
        "bell_cap": UNREAD_CAP,
    }


@bp.get("")
@staff_required()
def index():
    rows = audit.notifications(db.session, staff().username, limit=200)
    return render_template("notifications/index.html", rows=rows)


@bp.post("/read")
@staff_required()
def read():
    """Mark the given notifications (``ids``: comma-separated, or ``all``) or all of them read."""
    raw = request.form.get("ids", "")
    ids = [int(part) for part in raw.split(",") if part.strip().isdigit()] if raw and raw != "all" else None
    audit.mark_read(db.session, staff().username, ids)
    db.session.commit()
    if request.headers.get("HX-Request"):
        left = audit.unread_count(db.session, staff().username, cap=UNREAD_CAP)
        return render_template("notifications/_count.html", count=left, bell_cap=UNREAD_CAP)
    return redirect(safe_next(request.form.get("next"), url_for("notifications.index")))
