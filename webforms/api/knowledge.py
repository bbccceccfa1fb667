"""The knowledge base: search (best first), submit, edit, publish (the review step), use on a ticket."""

from datetime import date

from flask import g, request

from engine.desk import access, knowledge
from engine.errors import Invalid

from ..extensions import db
from . import bp, json_body, token_required
from .schemas import KbArticle, KbHit, KbUse, KbVersion


def _status():
    status = request.args.get("status", "published")
    return None if status == "all" else status


@bp.get("/kb")
@token_required()
def search_kb():
    """``q`` (Chinese is segmented), ``status`` draft|published|retired|all (published by default)."""
    page = max(1, request.args.get("page", 1, type=int))
    per_page = min(max(1, request.args.get("per_page", 20, type=int)), 100)
    rows, total = knowledge.search(db.session, request.args.get("q"), status=_status(), limit=per_page,
                                   offset=(page - 1) * per_page)
    items = [dict(KbHit().dump(article), score=score) for article, score in rows]
    return {"items": items, "total": total, "page": page, "per_page": per_page}


@bp.post("/kb")
@token_required()
def submit_kb():
    article = knowledge.submit(db.session, json_body(), actor=g.user.username)
    db.session.commit()
    return KbArticle().dump(article), 201


@bp.get("/kb/<int:article_id>")
@token_required()
def get_kb(article_id: int):
    article = knowledge.get(db.session, article_id)
    data = KbArticle().dump(article)
    data["versions"] = KbVersion(many=True).dump(knowledge.versions(db.session, article.id))
    return data


@bp.put("/kb/<int:article_id>")
@token_required()
def edit_kb(article_id: int):
    article = knowledge.edit(db.session, knowledge.get(db.session, article_id), json_body(), user=g.user)
    db.session.commit()
    return KbArticle().dump(article)


@bp.post("/kb/<int:article_id>/publish")
@token_required("lead", "process_owner")
def publish_kb(article_id: int):
    """The review step; optional body ``{"valid_until": "YYYY-MM-DD"}``."""
    body = json_body() if request.get_data().strip() else {}  # no body at all is fine
    valid_until = body.get("valid_until")
    try:
        valid = date.fromisoformat(valid_until) if valid_until else None
    except (TypeError, ValueError):
        raise Invalid("日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD", fields={"valid_until": [str(valid_until)]}) from None
    article = knowledge.publish(db.session, knowledge.get(db.session, article_id), user=g.user, valid_until=valid)
    db.session.commit()
    return KbArticle().dump(article)


@bp.post("/kb/<int:article_id>/retire")
@token_required("lead", "process_owner")
def retire_kb(article_id: int):
    article = knowledge.retire(db.session, knowledge.get(db.session, article_id), user=g.user)
    db.session.commit()
    return KbArticle().dump(article)


@bp.post("/kb/<int:article_id>/use")
@token_required()
def use_kb(article_id: int):
    """Record that the article helped on a ticket: ``{"ticket": number, "bpmn_id": step}``."""
    body = json_body()
    number = body.get("ticket")
    if not isinstance(number, str) or not number:
        raise Invalid("请指明工单号 / the ticket number is required", fields={"ticket": ["必填 / required"]})
    ticket = access.ticket(db.session, g.user, number)
    step = body.get("bpmn_id") if isinstance(body.get("bpmn_id"), str) else None
    row = knowledge.use(db.session, knowledge.get(db.session, article_id), ticket, actor=g.user.username, bpmn_id=step)
    db.session.commit()
    return KbUse().dump(row), 201


@bp.get("/tickets/<number>/kb")
@token_required()
def kb_for_ticket(number: str):
    """The published, still valid articles that best match the ticket's words."""
    ticket = access.ticket(db.session, g.user, number)
    return {"items": [dict(KbHit().dump(a), score=s) for a, s in knowledge.for_ticket(db.session, ticket)]}
