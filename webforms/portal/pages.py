"""The customer portal (/portal): customers of the archive sign in, submit requests with
files, follow their tickets, reply and rate the service; anyone may look one ticket up
with its number and the phone it was registered with.

It is its own area: its own pages and layout, its own sign-in, the role ``customer``.
A customer-only account never opens a staff page or the staff API (``auth.staff_required``
and ``api.token_required`` refuse it), and sees only the tickets of its own contact
(``engine.desk.accounts``). Views read input, call one engine function, commit once.
"""

from __future__ import annotations

import math
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.desk import accounts, attachments, channels, notes, users
from engine.errors import Conflict, EngineError, Forbidden, Invalid, NotFound
from engine.runtime import portal

from .. import clients, files
from ..auth import refused_status, sign_in, sign_out
from ..extensions import db
from ..i18n import engine_text
from ..redirects import safe_next

bp = Blueprint("portal", __name__, url_prefix="/portal")

PER_PAGE = 20
STATUS_NAMES = {"open": _l("In progress"), "resolved": _l("Resolved"), "closed": _l("Closed")}
TYPE_NAMES = {"incident": _l("Fault report"), "request": _l("Service request"), "consultation": _l("Question"),
              "complaint": _l("Complaint")}
SATISFACTION_NAMES = {"very_satisfied": _l("Very satisfied"), "satisfied": _l("Satisfied"),
                      "basically_satisfied": _l("Basically satisfied"), "dissatisfied": _l("Dissatisfied")}
# what the customer hears after rating, by what the rating led to (engine.runtime.portal.rate)
AFTER_RATING = {
    "reopened": _l("The ticket goes back to the people working on it; we will be in touch."),
    "review": _l("A team lead will look into your rating and may contact you."),
}


def customer():
    """The signed-in customer's contact in the archive."""
    return accounts.contact_of(db.session, current_user.user)


def customer_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.user.has_role(accounts.ROLE[0]):
            return redirect(url_for("portal.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper


def _files() -> list[tuple[str, bytes]]:
    limit = files.max_bytes()
    return [(f.filename or "", f.stream.read(limit + 1)) for f in request.files.getlist("files") if f.filename]


def _rate() -> int:
    return int(current_app.config.get("DESK_PORTAL_RATE", portal.RATE_LIMIT))


def _error(exc: EngineError) -> tuple[str, dict]:
    fields = {k: [engine_text(m) for m in v] for k, v in (getattr(exc, "fields", None) or {}).items()}
    return engine_text(exc.message), fields


@bp.route("/login", methods=("GET", "POST"))
def login():
    error, status = None, 200
    if request.method == "POST":
        try:
            user = users.authenticate(db.session, request.form.get("email", "").strip().lower(),
                                      request.form.get("password", ""), client=clients.address())
            if not user.has_role(accounts.ROLE[0]):
                raise Forbidden(_("This is the customers' portal; staff sign in at the desk."))
        except Forbidden as exc:
            db.session.commit()  # keep the count of failures that slows guessing down
            error, status = engine_text(exc.message), refused_status(exc)
        else:
            db.session.commit()
            sign_in(user)
            return redirect(safe_next(request.args.get("next"), url_for("portal.index")))
    return render_template("portal/login.html", error=error), status


@bp.post("/logout")
def logout():
    sign_out()
    return redirect(url_for("portal.login"))


@bp.get("/")
@customer_required
def index():
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = accounts.tickets_of(db.session, customer(), page=page, per_page=PER_PAGE)
    return render_template("portal/index.html", tickets=rows, total=total, page=page,
                           pages=max(1, math.ceil(total / PER_PAGE)))


@bp.route("/new", methods=("GET", "POST"))
@customer_required
def new():
    contact = customer()
    error, fields, status = None, {}, 200
    if request.method == "POST":
        try:
            ticket = portal.submit(db.session, contact, request.form.to_dict(), _files(), store=files.store(),
                                   max_bytes=files.max_bytes(), rate_limit=_rate())
        except (Invalid, channels.Throttled) as exc:
            db.session.rollback()
            error, fields = _error(exc)
            status = 429 if isinstance(exc, channels.Throttled) else 422
        else:
            db.session.commit()
            flash(_("Your request has been registered as %(number)s.", number=ticket.number), "success")
            return redirect(url_for("portal.show", number=ticket.number))
    return render_template("portal/new.html", contact=contact, form=request.form, error=error, fields=fields,
                           types=TYPE_NAMES), status


def _page(ticket, *, contact=None, error=None, fields=None, status=200):
    return render_template(
        "portal/show.html", ticket=ticket, contact=contact, error=error, fields=fields or {},
        replies=notes.of_ticket(db.session, ticket.id, include_internal=False),
        files=attachments.of_ticket(db.session, ticket.id),
        rating=_rating_choices(ticket) if contact is not None else None,
        statuses=STATUS_NAMES, types=TYPE_NAMES, satisfactions=SATISFACTION_NAMES,
    ), status


def _rating_choices(ticket) -> dict | None:
    """The satisfaction levels (value → label) of the open callback step's form; None when nothing is to be rated."""
    task = portal.rating_task(db.session, ticket)
    if task is None:
        return None
    return {value: SATISFACTION_NAMES.get(value, value) for value in portal.satisfaction_choices(task)}


@bp.get("/tickets/<number>")
@customer_required
def show(number: str):
    contact = customer()
    return _page(accounts.ticket_of(db.session, contact, number), contact=contact)


@bp.post("/tickets/<number>/reply")
@customer_required
def reply(number: str):
    contact = customer()
    ticket = accounts.ticket_of(db.session, contact, number)
    try:
        portal.reply(db.session, contact, ticket, request.form.get("text", ""), _files(), store=files.store(),
                     max_bytes=files.max_bytes(), rate_limit=_rate())
    except (Invalid, channels.Throttled) as exc:
        db.session.rollback()
        error, fields = _error(exc)
        return _page(accounts.ticket_of(db.session, contact, number), contact=contact, error=error, fields=fields,
                     status=429 if isinstance(exc, channels.Throttled) else 422)
    db.session.commit()
    flash(_("Your reply has been sent to the service desk."), "success")
    return redirect(url_for("portal.show", number=number))


@bp.post("/tickets/<number>/rate")
@customer_required
def rate(number: str):
    contact = customer()
    ticket = accounts.ticket_of(db.session, contact, number)
    try:
        outcome = portal.rate(db.session, contact, ticket, request.form.to_dict())
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        error, fields = _error(exc)
        return _page(accounts.ticket_of(db.session, contact, number), contact=contact, error=error, fields=fields,
                     status=422 if isinstance(exc, Invalid) else 409)
    db.session.commit()
    flash(_("Thank you for your rating."), "success")
    if outcome in AFTER_RATING:
        flash(AFTER_RATING[outcome], "info")
    return redirect(url_for("portal.show", number=number))


@bp.get("/tickets/<number>/files/<int:attachment_id>")
@customer_required
def download(number: str, attachment_id: int):
    ticket = accounts.ticket_of(db.session, customer(), number)
    row = attachments.get(db.session, attachment_id)
    if row.ticket_id != ticket.id or row.kind != "file":
        abort(404)
    return files.send(row)


@bp.route("/lookup", methods=("GET", "POST"))
def lookup():
    """A ticket's status by its number and the phone it was registered with; no account needed."""
    error = None
    if request.method == "POST":
        try:
            ticket = accounts.lookup(db.session, request.form.get("number", ""), request.form.get("phone", ""),
                                     caller=request.remote_addr or "")
        except channels.Throttled as exc:
            db.session.rollback()
            return render_template("portal/lookup.html", error=engine_text(exc.message), form=request.form), 429
        except (Invalid, NotFound) as exc:
            db.session.commit()  # the try is counted
            error = engine_text(exc.message)
        else:
            db.session.commit()
            return _page(ticket)
    return render_template("portal/lookup.html", error=error, form=request.form), 404 if error else 200
