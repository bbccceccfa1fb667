"""Announcements (公告): leads and admins publish and withdraw them here; the login page and
the inbox show the ones valid now (``current_announcements`` in every template)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.clock import now
from engine.desk import announcements
from engine.errors import Invalid

from ..auth import staff, staff_required
from ..extensions import db

bp = Blueprint("announcements", __name__, url_prefix="/announcements")

AUDIENCE_NAMES = {"all": _l("Everyone"), "staff": _l("Staff only"), "customers": _l("Customers only")}


@bp.app_context_processor
def banner() -> dict:
    def current_announcements(audience: str = "staff"):
        return announcements.current(db.session, audience=audience)

    return {"current_announcements": current_announcements}


@bp.get("")
@staff_required()
def index():
    return render_template("announcements/index.html", rows=announcements.every(db.session), form={}, errors={},
                           audience_names=AUDIENCE_NAMES, may_publish=staff().has_role(*announcements.PUBLISHERS),
                           now_utc=now())


@bp.post("")
@staff_required(*announcements.PUBLISHERS)
def create():
    data = {k: request.form.get(k, "") for k in ("title", "body", "audience", "starts_at", "ends_at")}
    try:
        announcements.publish(db.session, data, user=staff())
    except Invalid as exc:
        db.session.rollback()
        return render_template("announcements/index.html", rows=announcements.every(db.session), form=request.form,
                               errors=exc.fields, error=exc, audience_names=AUDIENCE_NAMES, may_publish=True,
                               now_utc=now()), 422
    db.session.commit()
    flash(_("Announcement published."), "success")
    return redirect(url_for("announcements.index"))


@bp.post("/<int:announcement_id>/withdraw")
@staff_required(*announcements.PUBLISHERS)
def withdraw(announcement_id: int):
    announcements.withdraw(db.session, announcements.get(db.session, announcement_id), user=staff())
    db.session.commit()
    flash(_("Announcement withdrawn."), "success")
    return redirect(url_for("announcements.index")), 303
