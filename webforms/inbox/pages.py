"""The task inbox: my tasks, my groups' tasks, every open task (leads, admins).

Rows come from ``engine.runtime.tasks.inbox_page`` (the human_task table; no workflow
is loaded), one page at a time, filtered and sorted in SQL: soonest due on top
unless a column header asks otherwise. Each row is shown with its ticket and the
SLA clock that runs out first. The list part re-renders alone every 30 s (htmx).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.clock import now
from engine.errors import EngineError
from engine.models import HumanTask, Ticket
from engine.runtime import definitions, instances, tasks

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import element_name, local_time, step_name
from ..redirects import safe_next
from ..tickets.pages import TYPE_NAMES, people, staff_people

bp = Blueprint("inbox", __name__)

SCOPES = ("mine", "group", "all")
# the first view: my tasks and my groups' unclaimed ones together, so nothing waits unseen
DEFAULT_SCOPE = "group"
FILTERS = ("type", "priority", "stage", "organisation")
PRIORITIES = ("P1", "P2", "P3", "P4")
# the columns a header click sorts by (keys of engine.runtime.tasks.SORTS)
SORTABLE = ("due", "task", "ticket", "type", "priority", "organisation", "assignee", "sla_due", "ticket_created")


@dataclass
class Item:
    """One inbox line: the task, its ticket, and the deadline that matters most."""

    task: HumanTask
    ticket: Ticket | None
    started: datetime | None
    due: datetime | None

    @property
    def sla(self) -> str:
        """"ok", "near" (a quarter of the time or less left) or "late"."""
        if self.due is None:
            return "none"
        at = now()
        if at >= self.due:
            return "late"
        total = (self.due - self.started).total_seconds() if self.started else 0
        return "near" if total > 0 and (self.due - at).total_seconds() <= total / 4 else "ok"


def _deadline(task: HumanTask, ticket: Ticket | None) -> tuple[datetime | None, datetime | None]:
    """The running SLA clock due first, else the task's own timer."""
    running = [c for c in (ticket.clocks if ticket else []) if c.due_at and c.stopped_at is None]
    if running:
        clock = min(running, key=lambda c: c.due_at)
        return clock.started_at, clock.due_at
    return task.created_at, task.due_at


def _items(rows: list[HumanTask]) -> list[Item]:
    ids = {r.ticket_id for r in rows if r.ticket_id}
    by_id = {t.id: t for t in db.session.scalars(db.select(Ticket).where(Ticket.id.in_(ids)))} if ids else {}
    items = []
    for row in rows:
        ticket = by_id.get(row.ticket_id)
        started, due = _deadline(row, ticket)
        items.append(Item(row, ticket, started, due))
    return items  # in the order SQL sorted them


_stages: dict[tuple[int, str], list[tuple[str, str]]] = {}


def _stage_choices() -> list[tuple[str, str]]:
    """The user tasks of the deployed desk process (and what it calls), from its cached spec.

    Taken from the diagram rather than from the open tasks, which would mean
    reading all of them on every page.
    """
    version = definitions.latest_version(db.session, instances.DESK_PROCESS)
    if version is None:
        return []
    key = (version.id, version.content_hash)
    if key not in _stages:
        spec, subprocess_specs = definitions.specs_of(version)
        found = {
            t.bpmn_id: t.bpmn_name or t.bpmn_id
            for process in (spec, *subprocess_specs.values())
            for t in process.task_specs.values()
            if t.manual and t.bpmn_id
        }
        _stages[key] = sorted(found.items(), key=lambda kv: kv[1])
    return _stages[key]


def _choices() -> dict[str, list[tuple[str, str]]]:
    """Filter options: the ticket types, priorities and the desk process's steps."""
    return {
        "type": [(t, t) for t in TYPE_NAMES],
        "priority": [(p, p) for p in PRIORITIES],
        "stage": sorted(((code, element_name(name, code)) for code, name in _stage_choices()), key=lambda kv: kv[1]),
    }


def _listing() -> dict:
    user = staff()
    args = request.args
    scope = args.get("scope", DEFAULT_SCOPE)
    if scope not in SCOPES or (scope == "all" and not user.has_role("lead", "admin")):
        scope = DEFAULT_SCOPE
    filters = {name: args.get(name, "").strip() for name in FILTERS}
    sort = args.get("sort", "due")
    if sort.lstrip("-") not in SORTABLE:
        sort = "due"
    per_page = min(max(args.get("per_page", tasks.PAGE_SIZE, type=int) or tasks.PAGE_SIZE, 1), tasks.MAX_PAGE_SIZE)
    result = tasks.inbox_page(db.session, user, scope=scope, filters=filters, sort=sort,
                              page=max(1, args.get("page", 1, type=int) or 1), per_page=per_page)
    keep = {name: value for name, value in {"scope": scope, "sort": sort, **filters}.items() if value}
    if per_page != tasks.PAGE_SIZE:
        keep["per_page"] = per_page
    return {
        "scope": scope, "filters": filters, "items": _items(result.rows), "total": result.total, "total_exact": result.total_exact,
        "page": result.page, "pages": result.pages, "sort": sort, "sortable": SORTABLE, "keep": keep,
        "choices": _choices(), "type_names": TYPE_NAMES, "people": people(), "staff": staff_people(),
        "now_local": local_time(now(), "HH:mm:ss"),
    }  # fmt: skip


@bp.get("/")
@staff_required()
def home():
    return redirect(url_for("inbox.index"))


@bp.get("/inbox")
@staff_required()
def index():
    return render_template("inbox/index.html", **_listing())


@bp.get("/inbox/list")
@staff_required()
def listing():
    """Only the task list: htmx swaps it in every 30 seconds."""
    return render_template("inbox/_list.html", **_listing())


@bp.post("/tasks/<int:task_id>/claim")
@staff_required()
def claim(task_id: int):
    row = instances.claim(db.session, task_id, user=staff())
    db.session.commit()
    flash(_("You took “%(name)s”.", name=step_name(row)), "success")
    return redirect(safe_next(request.form.get("next"), url_for("inbox.index", scope="mine")))


@bp.post("/tasks/<int:task_id>/unclaim")
@staff_required()
def unclaim(task_id: int):
    row = instances.unclaim(db.session, task_id, user=staff())
    db.session.commit()
    flash(_("“%(name)s” is back in the group's inbox.", name=step_name(row)), "success")
    return redirect(safe_next(request.form.get("next"), url_for("inbox.index", scope="group")))


@bp.post("/inbox/bulk")
@staff_required("lead", "admin")
def bulk():
    """Claim, or assign to one person, every ticked task; each on its own, so one taken meanwhile fails alone."""
    action, assignee = request.form.get("action"), request.form.get("assignee", "").strip()
    ids = [int(v) for v in request.form.getlist("task") if v.isdigit()]
    if action not in ("claim", "assign") or not ids or (action == "assign" and not assignee):
        flash(_("Tick some tasks and choose what to do with them."), "error")
        return redirect(safe_next(request.form.get("next"), url_for("inbox.index", scope="all")))
    user, done, failed = staff(), 0, []
    for task_id in ids:
        try:
            with db.session.begin_nested():
                if action == "claim":
                    instances.claim(db.session, task_id, user=user)
                else:
                    instances.assign(db.session, task_id, assignee, user=user)
            done += 1
        except EngineError as exc:
            failed.append(exc.message)
    db.session.commit()
    if done:
        flash(_("%(count)s tasks done.", count=done), "success")
    if failed:
        flash(_("%(count)s tasks could not be changed: %(why)s", count=len(failed), why="；".join(failed[:3])), "error")
    return redirect(safe_next(request.form.get("next"), url_for("inbox.index", scope="all")))
