from flask import g, request

from engine.errors import Invalid
from engine.models import Ticket
from engine.runtime import handling, instances, tasks

from ..extensions import db
from . import bp, json_body, token_required
from .schemas import CompleteRequest, ReassignRequest, Task, load


def task_json(row) -> dict:
    data = Task().dump(row)
    data["ticket"] = db.session.get(Ticket, row.ticket_id).number if row.ticket_id else None
    data["form"] = [fd.to_dict() for fd in tasks.form_of(row)]
    return data


@bp.get("/tasks")
@token_required()
def list_tasks():
    """READY tasks: scope=mine|group|all, optionally of one ticket or instance."""
    scope = request.args.get("scope", "group")
    if scope not in ("mine", "group", "all"):
        raise Invalid("scope 应为 mine、group 或 all / scope must be mine, group or all", fields={"scope": [scope]})
    instance_id = request.args.get("instance", type=int)
    rows = tasks.inbox(db.session, g.user, scope=scope, ticket=request.args.get("ticket"), instance_id=instance_id)
    return {"items": [task_json(r) for r in rows]}


@bp.get("/tasks/<int:task_id>")
@token_required()
def get_task(task_id: int):
    row = tasks.get(db.session, task_id)
    tasks.check_may_do(g.user, row)
    return task_json(row)


@bp.post("/tasks/<int:task_id>/claim")
@token_required()
def claim_task(task_id: int):
    row = instances.claim(db.session, task_id, user=g.user)
    db.session.commit()
    return task_json(row)


@bp.post("/tasks/<int:task_id>/unclaim")
@token_required()
def unclaim_task(task_id: int):
    row = instances.unclaim(db.session, task_id, user=g.user)
    db.session.commit()
    return task_json(row)


@bp.post("/tasks/<int:task_id>/complete")
@token_required()
def complete_task(task_id: int):
    """Complete with {"data": {...}}: 200, 409 when already done, 422 field errors, 403 not allowed."""
    body = load(CompleteRequest(), json_body())
    row = instances.complete(db.session, task_id, body["data"], user=g.user)
    db.session.commit()
    return task_json(row)


@bp.post("/tasks/<int:task_id>/reassign")
@token_required("lead", "admin")
def reassign_task(task_id: int):
    """A lead gives an open task to a named person with a reason: {"username", "reason"}."""
    body = load(ReassignRequest(), json_body())
    row = handling.reassign(db.session, task_id, user=g.user, to=body["username"], reason=body["reason"])
    db.session.commit()
    return task_json(row)
