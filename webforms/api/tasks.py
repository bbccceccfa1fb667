"""Tasks over JSON: lists are paged and carry each task's form only by reference.

A list item has every key of a single task except that ``form`` is there only
with ``include=form`` (or when the list is narrowed to one ``ticket`` or
``instance``, as the scripts stepping through one ticket expect); otherwise
``form_url`` points at ``GET /api/tasks/{id}/form``. Every form in a 100,000-task
list was 75 MB; a page is at most 200 tasks.
"""

from flask import g, request

from engine.errors import Invalid
from engine.models import Ticket
from engine.runtime import handling, instances, tasks

from ..extensions import db
from ..inputs import MAX_ID
from . import bp, json_body, token_required
from .schemas import CompleteRequest, ReassignRequest, Task, load


# One schema for every answer; "ticket" and "form" are filled in below, never read off the row
# (``row.ticket`` would load each task's ticket with its clocks).
_TASK = Task(exclude=("ticket", "form"))


def task_json(row, *, number: str | None = None, form: list | None = None, with_form: bool = True) -> dict:
    """A task as the API answers it; ``number`` and ``form`` when the caller already has them."""
    data = _TASK.dump(row)
    if number is None and row.ticket_id:
        # the write path hands the ticket over on the row (``row.ticket`` unloaded would read its clocks too)
        held = row.__dict__.get("ticket") or db.session.identity_map.get(db.session.identity_key(Ticket, row.ticket_id))
        number = held.number if held is not None else db.session.scalar(
            db.select(Ticket.number).where(Ticket.id == row.ticket_id)
        )
    data["ticket"] = number
    data["form_url"] = f"/api/tasks/{row.id}/form"
    if with_form:
        if form is None:
            form = tasks.forms_of(db.session, [row])[row.id]
        data["form"] = [fd.to_dict() for fd in form]
    else:
        data.pop("form", None)
    return data


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name} 应为整数 / {name} must be a whole number", fields={name: [raw]}) from None
    if not 0 <= value <= MAX_ID:  # no row has a larger id; the database driver would overflow
        raise Invalid(f"{name} 超出范围 / {name} is out of range", fields={name: [raw]})
    return value


def _numbers(rows) -> dict[int, str]:
    """The rows' ticket numbers by ticket id: those read with the page (a narrowed list's), the others in one query."""
    numbers = {r.ticket_id: r.ticket.number for r in rows if r.ticket_id and r.__dict__.get("ticket") is not None}
    ids = {r.ticket_id for r in rows if r.ticket_id} - numbers.keys()
    if ids:
        numbers.update(db.session.execute(db.select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids))).all())
    return numbers


@bp.get("/tasks")
@token_required()
def list_tasks():
    """READY tasks: scope=mine|group|all, ticket=, instance=, type/priority/stage/organisation=,
    sort=due|-due|created|task|ticket|type|priority|organisation|assignee|sla_due|ticket_created (the lead's
    scope=all by a ticket column walks the open tickets in that order), page=, per_page= (50, max 200),
    include=form."""
    args = request.args
    number, instance_id = args.get("ticket"), _int_arg("instance", 0) or None
    result = tasks.inbox_page(
        db.session, g.user, scope=args.get("scope", "group"), ticket=number, instance_id=instance_id,
        filters={name: args.get(name, "") for name in ("type", "priority", "stage", "organisation")},
        sort=args.get("sort", "due"), page=_int_arg("page", 1), per_page=_int_arg("per_page", tasks.PAGE_SIZE),
    )  # fmt: skip
    rows = result.rows
    numbers = _numbers(rows)
    with_form = args.get("include") == "form" or bool(number or instance_id)
    forms = tasks.forms_of(db.session, rows) if with_form else {}
    return {
        "items": [task_json(r, number=numbers.get(r.ticket_id), form=forms.get(r.id), with_form=with_form) for r in rows],
        "total": result.total,
        "total_exact": result.total_exact,  # false: at least ``total`` (counting stops at 1,000)
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
    }


@bp.get("/tasks/<int:task_id>")
@token_required()
def get_task(task_id: int):
    row = tasks.get(db.session, task_id)
    tasks.check_may_do(g.user, row)
    return task_json(row)


@bp.get("/tasks/<int:task_id>/form")
@token_required()
def get_task_form(task_id: int):
    """The task's form fields alone: what a list item's ``form_url`` points at."""
    row = tasks.get(db.session, task_id)
    tasks.check_may_do(g.user, row)
    return {"id": row.id, "form": [fd.to_dict() for fd in tasks.forms_of(db.session, [row])[row.id]]}


# The answers below are built before the commit, from the objects the write path holds
# (the instance, its version, the ticket): after the commit every object is expired and
# reading it again cost five statements per completion.


@bp.post("/tasks/<int:task_id>/claim")
@token_required()
def claim_task(task_id: int):
    row = instances.claim(db.session, task_id, user=g.user)
    answer = task_json(row, form=tasks.form_of(row))
    db.session.commit()
    return answer


@bp.post("/tasks/<int:task_id>/unclaim")
@token_required()
def unclaim_task(task_id: int):
    row = instances.unclaim(db.session, task_id, user=g.user)
    answer = task_json(row, form=tasks.form_of(row))
    db.session.commit()
    return answer


@bp.post("/tasks/<int:task_id>/complete")
@token_required()
def complete_task(task_id: int):
    """Complete with {"data": {...}}: 200, 409 when already done, 422 field errors, 403 not allowed."""
    body = load(CompleteRequest(), json_body())
    row = instances.complete(db.session, task_id, body["data"], user=g.user)
    answer = task_json(row, form=tasks.form_of(row))  # the instance and its version are in hand
    db.session.commit()
    return answer


@bp.post("/tasks/<int:task_id>/reassign")
@token_required("lead", "admin")
def reassign_task(task_id: int):
    """A lead gives an open task to a named person with a reason: {"username", "reason"}."""
    body = load(ReassignRequest(), json_body())
    row = handling.reassign(db.session, task_id, user=g.user, to=body["username"], reason=body["reason"])
    answer = task_json(row)  # before the commit, like the other answers
    db.session.commit()
    return answer
