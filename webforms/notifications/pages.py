"""The bell in the top bar (marked read when opened), each user's notification choices, and the admins'
mail templates and outbox."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.desk import audit, notifications, outbox
from engine.errors import Invalid, NotFound
from engine.models import MailStatus, OutboxMail

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import engine_text, is_english
from ..redirects import safe_next

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


# --- issue 10: each user's choices, the admins' mail templates and the outbox ---


# kinds only the bell shows (no mail, so no template or preference of their own)
BELL_KINDS = {
    "task_assigned": ("改派给我", "Handed to me"), "chase": ("催单", "Chased"),
    "customer_reply": ("客户回复", "Customer reply"),
}  # fmt: skip


def kind_label(kind: str) -> str:
    names = notifications.KINDS.get(kind) or BELL_KINDS.get(kind)
    if names is None:
        return kind
    return names[1] if is_english() else names[0]


NUMBER = re.compile(r"\b[A-Z]+-\d{8}-\d{4}\b")


def notification_text(note) -> str:
    """A notification in the page's language.

    Engine messages come as "中文 / English". A mail's subject (what the bell shows for
    assignments and SLA alerts) is written in the admins' template, in Chinese: English
    pages say the kind and the ticket instead.
    """
    message = note.message or ""
    if " / " in message:
        return engine_text(message)
    if is_english() and note.kind in notifications.KINDS:
        number = NUMBER.search(message)
        return f"{kind_label(note.kind)}: {number.group(0)}" if number else kind_label(note.kind)
    return message


@bp.app_context_processor
def kind_labels() -> dict:
    return {"notification_kind": kind_label, "notification_text": notification_text}


@bp.route("/preferences", methods=("GET", "POST"))
@staff_required()
def preferences():
    """Which kinds of message this user wants in the bell and by e-mail."""
    username = staff().username
    if request.method == "POST":
        choices = {
            kind: {"in_app": request.form.get(f"{kind}.in_app") == "on", "email": request.form.get(f"{kind}.email") == "on"}
            for kind in notifications.STAFF_KINDS
        }
        notifications.set_preferences(db.session, username, choices)
        db.session.commit()
        flash(_("Your notification settings are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", choices=notifications.preferences(db.session, username),
                           email=staff().email)


@bp.get("/templates")
@staff_required("admin")
def templates():
    rows = [(kind, *notifications.template(db.session, kind)) for kind in notifications.KINDS]
    return render_template("notifications/templates.html", rows=rows)


@bp.route("/templates/<kind>", methods=("GET", "POST"))
@staff_required("admin")
def edit_template(kind: str):
    if kind not in notifications.KINDS:
        raise NotFound(f"未知的通知类型 / unknown kind {kind}")
    subject, body, edited = notifications.template(db.session, kind)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        if request.form.get("action") == "reset":
            notifications.reset_template(db.session, kind)
            db.session.commit()
            flash(_("The built-in wording is back."), "success")
            return redirect(url_for("notifications.edit_template", kind=kind))
        subject, body = request.form.get("subject", ""), request.form.get("body", "")
        try:
            notifications.save_template(db.session, kind, subject, body, user=staff())
        except Invalid as exc:
            db.session.rollback()
            errors, status = exc.fields or {}, 422
        else:
            db.session.commit()
            flash(_("The template is saved."), "success")
            return redirect(url_for("notifications.templates"))
    preview = None
    if not errors:
        preview = notifications.render_text(subject, body, notifications.sample_context())
    return render_template("notifications/template_edit.html", kind=kind, subject=subject, body=body, edited=edited,
                           errors=errors, preview=preview,
                           variables=["{{ %s }}" % key for key in notifications.sample_context()]), status


@bp.route("/outbox", methods=("GET", "POST"))
@staff_required("admin")
def outbox_list():
    """The latest outgoing mails, filtered by status in SQL (failed ones say why), and the SMTP server."""
    errors: dict = {}
    if request.method == "POST":
        try:
            outbox.save_settings(db.session, request.form.to_dict(), user=staff())
        except Invalid as exc:
            db.session.rollback()
            errors = exc.fields or {}
        else:
            db.session.commit()
            flash(_("The mail settings are saved."), "success")
            return redirect(url_for("notifications.outbox_list"))
    status_filter = request.args.get("status") or None
    stmt = db.select(OutboxMail).order_by(OutboxMail.id.desc()).limit(200)
    if status_filter:
        stmt = stmt.where(OutboxMail.status == status_filter)
    return render_template("notifications/outbox.html", rows=db.session.scalars(stmt).all(), status=status_filter,
                           statuses=list(MailStatus), settings=outbox.current_settings(db.session),
                           form=request.form if errors else None, errors=errors), 422 if errors else 200
