"""Channels (/channels): what mail, monitoring and the portal's lookups received, and what became of it.

The desk looks through the quarantine here (unknown senders, strangers replying,
senders over their share, replayed alarms) and releases a quarantined mail once
the reason is dealt with, e.g. after adding the sender to the customer archive.
Lists are filtered and paged in SQL (``engine.desk.channels.messages``).
"""

from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.desk import channels
from engine.errors import Invalid
from engine.models import Ticket
from engine.runtime import mailin

from .. import files
from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import engine_text

bp = Blueprint("channels", __name__, url_prefix="/channels")

DESK_STAFF = ("agent", "lead", "admin")
PER_PAGE = 50
CHANNEL_NAMES = {"email": _l("E-mail"), "monitoring": _l("Monitoring"), "lookup": _l("Ticket lookup")}
OUTCOME_NAMES = {
    channels.ACCEPTED: _l("Accepted"), channels.IGNORED: _l("Ignored"),
    channels.QUARANTINED: _l("Quarantined"), channels.RELEASED: _l("Released"),
}  # fmt: skip


@bp.get("/")
@staff_required(*DESK_STAFF)
def index():
    channel = request.args.get("channel") or None
    outcome = request.args.get("outcome", channels.QUARANTINED) or None
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = channels.messages(db.session, channel=channel, outcome=outcome, page=page, per_page=PER_PAGE)
    return render_template(
        "channels/index.html", rows=rows, total=total, page=page, pages=max(1, math.ceil(total / PER_PAGE)),
        channel=channel or "", outcome=outcome or "", channel_names=CHANNEL_NAMES, outcome_names=OUTCOME_NAMES,
        sources=channels.list_sources(db.session),
    )


@bp.post("/<int:inbound_id>/release")
@staff_required(*DESK_STAFF)
def release(inbound_id: int):
    try:
        row = mailin.release(db.session, inbound_id, actor=staff().username, store=files.store(),
                             max_attachment_bytes=files.max_bytes())
    except Invalid as exc:
        db.session.rollback()
        flash(engine_text(exc.message), "error")
        return redirect(url_for("channels.index"))
    db.session.commit()
    flash(_("The mail has been let in."), "success")
    if row.ticket_id is not None:
        return redirect(url_for("tickets.show", number=db.session.get(Ticket, row.ticket_id).number))
    return redirect(url_for("channels.index"))
