"""The task form page: a user task's fields, its instructions, and completing it.

The form comes from the task's ``camunda:formData`` (``engine.runtime.tasks.form_of``);
completing it is ``engine.runtime.instances.complete``, which validates with the same
code as the JSON API. Its ``Invalid`` is shown beside the fields with the input
kept; its ``Conflict`` (someone was quicker) says who completed it and when.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.desk import access, users
from engine.errors import Conflict, Invalid
from engine.models import HumanTask, TaskState, Ticket
from engine.runtime import instances, tasks
from engine.runtime.forms import FieldDef

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import diagram_words, is_english, step_name
from ..tickets.pages import COMPLETENESS_LABELS, STATUS_NAMES, TYPE_NAMES, clocks_of, people, summary_names, timeline
from . import forms as taskforms

bp = Blueprint("tasks", __name__)

def user_choices(defs: list[FieldDef]) -> dict[str, list[tuple[str, str]]]:
    """Active users for each role a user picker on the form is limited to."""
    roles = {fd.role or "" for fd in defs if fd.widget == "user"}
    return {
        role: [(u.username, f"{u.display_name} ({u.username})" if is_english() else f"{u.display_name}（{u.username}）")
               for u in users.users_with_role(db.session, role)]
        for role in roles
    }


def process_data(row: HumanTask) -> dict:
    """The data the task carries (what earlier steps entered), for defaults and instructions."""
    workflow = instances.read(row.instance)
    task = tasks.find_task(workflow, row.task_guid)
    return dict(task.data) if task is not None else instances.current_data(workflow)


def ticket_fields(ticket: Ticket | None) -> dict:
    if ticket is None:
        return {}
    return {c.key: getattr(ticket, c.key) for c in Ticket.__table__.columns}


def _page(row: HumanTask, *, formdata=None, invalid: Invalid | None = None, status: int = 200):
    words = diagram_words(row.instance.version)
    defs = taskforms.localize(tasks.form_of(row), words, row.bpmn_id)
    data = process_data(row)
    ticket = db.session.get(Ticket, row.ticket_id) if row.ticket_id else None
    form_cls = taskforms.form_class(defs, users=user_choices(defs))
    if formdata is not None:
        form = form_cls(formdata=formdata)
    else:
        form = form_cls(formdata=None, data=taskforms.initial_values(defs, taskforms.shown_data(defs, data)))
    spec = tasks.spec_of(row)
    doc = words.documentation(row.bpmn_id, getattr(spec, "documentation", None) or "")
    context = {**ticket_fields(ticket), **data}
    if context.get("project"):  # the routing rule's project, in the page's language
        context["project"] = words.value("project", context["project"], context["project"])
    text = taskforms.instructions(doc, context)
    return render_template(
        "tasks/form.html", task=row, ticket=ticket, form=form, invalid=invalid,
        errors=invalid.fields if invalid else {}, instructions=text, earlier=_earlier(ticket), **_labels(ticket),
    ), status


def _earlier(ticket: Ticket | None) -> list:
    """What earlier people wrote on this ticket (dispatch note, return reason, callback …), read-only."""
    if ticket is None:
        return []
    names = people()
    entries = timeline(ticket, taskforms.catalog(ticket.instance.version), names)
    return [e for e in entries if e.kind == "step" and e.details]


def _labels(ticket: Ticket | None) -> dict:
    return {
        "clocks": clocks_of(ticket) if ticket else [], "people": people(),
        "status_names": STATUS_NAMES, "type_names": TYPE_NAMES,
        "names": summary_names(ticket) if ticket else {},
        "missing": [str(COMPLETENESS_LABELS.get(m, m)) for m in (ticket.missing_fields or [])] if ticket else [],
    }  # fmt: skip


def _done(row: HumanTask, conflict: Conflict | None = None, status: int = 200):
    ticket = db.session.get(Ticket, row.ticket_id) if row.ticket_id else None
    return render_template("tasks/done.html", task=row, ticket=ticket, conflict=conflict, **_labels(None)), status


@bp.get("/tasks/<int:task_id>")
@staff_required()
def show(task_id: int):
    row = tasks.get(db.session, task_id)
    if row.state != TaskState.READY:
        access.check_ticket_id(db.session, staff(), row.ticket_id)  # issue 11: a done step shows its ticket
        return _done(row)
    tasks.check_may_do(staff(), row)
    return _page(row)


@bp.post("/tasks/<int:task_id>")
@staff_required()
def complete(task_id: int):
    row = tasks.get(db.session, task_id)
    data = taskforms.submitted(tasks.form_of(row), request.form)
    try:
        done = instances.complete(db.session, task_id, data, user=staff())
    except Invalid as exc:
        db.session.rollback()
        return _page(tasks.get(db.session, task_id), formdata=request.form, invalid=exc, status=422)
    except Conflict as exc:
        db.session.rollback()
        return _done(tasks.get(db.session, task_id), conflict=exc, status=409)
    db.session.commit()
    ticket = db.session.get(Ticket, done.ticket_id) if done.ticket_id else None
    flash(_("“%(name)s” done. %(number)s", name=step_name(done), number=ticket.number if ticket else ""), "success")
    return redirect(next_page(done.instance_id, ticket))


def next_page(instance_id: int, ticket: Ticket | None) -> str:
    """Where a person goes after a step: their own next step of the same case, else the ticket.

    Keeps the agent who registers a call moving through classification and the online
    fix; someone whose part is done sees the ticket and who has it now.
    """
    mine = db.session.scalars(
        db.select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.state == TaskState.READY,
            HumanTask.assignee == staff().username,
        ).order_by(HumanTask.id)
    ).first()  # fmt: skip
    if mine is not None:
        return url_for("tasks.show", task_id=mine)
    if ticket is not None:
        return url_for("tickets.show", number=ticket.number)
    return url_for("inbox.index")
