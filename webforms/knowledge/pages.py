"""The knowledge base (知识库) pages: search, an article with its versions, submit and edit,
the review step (publish / retire), and the suggestions the classify and online-fix forms
show for the ticket's own words, with "use this article" recorded on the ticket.
"""

from __future__ import annotations

import math
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.desk import access, knowledge
from engine.errors import EngineError, Invalid
from engine.models import HumanTask, KbStatus, Ticket

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import engine_text

bp = Blueprint("knowledge", __name__, url_prefix="/kb")

PER_PAGE = 20
SUGGEST_AT = ("classify", "online_fix")  # the steps whose forms show matching articles
STATUS_NAMES = {KbStatus.PUBLISHED: _l("Published"), KbStatus.DRAFT: _l("Draft, waiting for review"),
                KbStatus.RETIRED: _l("Retired")}
FORM_FIELDS = ("title", "symptom", "cause", "solution", "category", "device_model", "tags", "valid_until")


@bp.app_context_processor
def knowledge_steps() -> dict:
    return {"kb_suggest_at": SUGGEST_AT}


def may_review() -> bool:
    return staff().has_role(*knowledge.REVIEWERS)


@bp.get("")
@staff_required()
def index():
    q = request.args.get("q", "").strip()
    status = request.args.get("status", KbStatus.PUBLISHED)
    if status not in set(KbStatus):
        status = KbStatus.PUBLISHED
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = knowledge.search(db.session, q, status=status, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("knowledge/index.html", rows=rows, total=total, q=q, status=status, page=page,
                           pages=max(1, math.ceil(total / PER_PAGE)), status_names=STATUS_NAMES, today=knowledge.today())


def _form() -> dict:
    return {k: request.form.get(k, "") for k in FORM_FIELDS}


@bp.get("/new")
@staff_required()
def new():
    return render_template("knowledge/edit.html", article=None, form={}, errors={})


@bp.post("/new")
@staff_required()
def create():
    try:
        article = knowledge.submit(db.session, _form(), actor=staff().username)
    except Invalid as exc:
        db.session.rollback()
        return render_template("knowledge/edit.html", article=None, form=request.form, errors=exc.fields, error=exc), 422
    db.session.commit()
    flash(_("Article submitted; a lead or process owner reviews it before it is published."), "success")
    return redirect(url_for("knowledge.show", article_id=article.id))


@bp.get("/<int:article_id>")
@staff_required()
def show(article_id: int):
    article = knowledge.get(db.session, article_id)
    source = db.session.get(Ticket, article.source_ticket_id) if article.source_ticket_id else None
    return render_template(
        "knowledge/show.html", article=article, versions=knowledge.versions(db.session, article.id),
        uses=knowledge.uses(db.session, article_id=article.id), source=source, status_names=STATUS_NAMES,
        may_review=may_review(), may_edit=may_review() or (article.submitted_by == staff().username
                                                            and article.status == KbStatus.DRAFT),
    )


@bp.get("/<int:article_id>/edit")
@staff_required()
def edit(article_id: int):
    article = knowledge.get(db.session, article_id)
    form = {k: getattr(article, k) or "" for k in FORM_FIELDS}
    return render_template("knowledge/edit.html", article=article, form=form, errors={})


@bp.post("/<int:article_id>/edit")
@staff_required()
def save(article_id: int):
    article = knowledge.get(db.session, article_id)
    try:
        knowledge.edit(db.session, article, _form(), user=staff())
    except Invalid as exc:
        db.session.rollback()
        return render_template("knowledge/edit.html", article=article, form=request.form, errors=exc.fields, error=exc), 422
    db.session.commit()
    flash(_("Saved as version %(v)s.", v=article.version), "success")
    return redirect(url_for("knowledge.show", article_id=article.id))


@bp.post("/<int:article_id>/<any(publish, retire):action>")
@staff_required(*knowledge.REVIEWERS)
def review(article_id: int, action: str):
    article = knowledge.get(db.session, article_id)
    try:
        if action == "publish":
            valid = request.form.get("valid_until") or None
            knowledge.publish(db.session, article, user=staff(), valid_until=date.fromisoformat(valid) if valid else None)
        else:
            knowledge.retire(db.session, article, user=staff())
    except (EngineError, ValueError) as exc:
        db.session.rollback()
        flash(engine_text(getattr(exc, "message", str(exc))), "error")
        return redirect(url_for("knowledge.show", article_id=article_id)), 303
    db.session.commit()
    flash(_("Published.") if action == "publish" else _("Retired."), "success")
    return redirect(url_for("knowledge.show", article_id=article_id)), 303


# --- on the task forms --------------------------------------------------------------------------


def _task(task_id: int) -> HumanTask:
    row = db.session.get(HumanTask, task_id)
    if row is None or row.ticket_id is None:
        abort(404)
    access.check_ticket_id(db.session, staff(), row.ticket_id)  # issue 11: the ticket's words are the caller's
    return row


@bp.get("/suggest/<int:task_id>")
@staff_required()
def suggest(task_id: int):
    """The best matching articles for the task's ticket (htmx, on the classify and online-fix forms)."""
    row = _task(task_id)
    ticket = db.session.get(Ticket, row.ticket_id)
    used = {u.article_id for u in knowledge.uses(db.session, ticket_id=ticket.id)}
    return render_template("knowledge/_suggestions.html", rows=knowledge.for_ticket(db.session, ticket), task=row,
                           used=used)


@bp.post("/<int:article_id>/use/<int:task_id>")
@staff_required()
def use(article_id: int, task_id: int):
    """"This article helped": recorded on the ticket with the step it was used at."""
    row = _task(task_id)
    ticket = db.session.get(Ticket, row.ticket_id)
    knowledge.use(db.session, knowledge.get(db.session, article_id), ticket, actor=staff().username, bpmn_id=row.bpmn_id)
    db.session.commit()
    used = {u.article_id for u in knowledge.uses(db.session, ticket_id=ticket.id)}
    return render_template("knowledge/_suggestions.html", rows=knowledge.for_ticket(db.session, ticket), task=row,
                           used=used)
