"""Pause and resume buttons on the ticket page, and the ledger (from, to, by, reason) under the clocks.

The same engine functions as ``POST /api/tickets/<number>/pause`` and ``/resume``.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _

from engine.desk import pauses
from engine.errors import Conflict, Forbidden, Invalid
from engine.runtime import pausing

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import engine_text

bp = Blueprint("pauses", __name__, url_prefix="/tickets")


@bp.app_context_processor
def pause_helpers() -> dict:
    """``pause_ledger(ticket)`` and ``may_pause(ticket)`` for the ticket page."""

    def may_pause(ticket) -> bool:
        steps = pauses.back_line_tasks(db.session, ticket)
        try:
            pauses.check_may(staff(), steps)
        except Forbidden:
            return False
        return bool(steps)

    return {"pause_ledger": lambda ticket: pauses.ledger(db.session, ticket), "may_pause": may_pause}


@bp.post("/<number>/pause")
@staff_required()
def pause(number: str):
    try:
        pausing.pause(db.session, number, request.form.get("reason", ""), user=staff())
    except (Conflict, Invalid) as exc:
        db.session.rollback()
        flash(engine_text(exc.message), "error")
    else:
        db.session.commit()
        flash(_("The ticket is paused: its clocks stand still until it is resumed."), "success")
    return redirect(url_for("tickets.show", number=number))


@bp.post("/<number>/resume")
@staff_required()
def resume(number: str):
    try:
        pausing.resume(db.session, number, user=staff())
    except Conflict as exc:
        db.session.rollback()
        flash(engine_text(exc.message), "error")
    else:
        db.session.commit()
        flash(_("The ticket is resumed; its due times moved by the paused time."), "success")
    return redirect(url_for("tickets.show", number=number))
