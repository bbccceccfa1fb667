"""The task inbox: my tasks, my groups' tasks, every open task (leads, admins).

Rows come from ``engine.runtime.tasks.inbox`` (the human_task table; no workflow is
loaded). Each row is shown with its ticket and the SLA clock that runs out
first, soonest due on top. The list part re-renders alone every 30 s (htmx).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.clock import now
from engine.models import HumanTask, Ticket
from engine.runtime import instances, tasks

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import local_time, safe_next, step_name
from ..tickets.pages import TYPE_NAMES, people

bp = Blueprint("inbox", __name__)

SCOPES = ("mine", "group", "all")
# the first view: my tasks and my groups' unclaimed ones together, so nothing waits unseen
DEFAULT_SCOPE = "group"
FILTERS = ("type", "priority", "stage", "organisation")


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
    far = datetime.max.replace(tzinfo=now().tzinfo)
    return sorted(items, key=lambda i: (i.due or far, i.task.id))


def _matches(item: Item, filters: dict[str, str]) -> bool:
    ticket = item.ticket
    checks = {
        "type": ticket.type if ticket else "",
        "priority": ticket.priority if ticket else "",
        "stage": item.task.bpmn_id,
        "organisation": ticket.organisation if ticket else "",
    }
    return all(checks[name] == value for name, value in filters.items() if value)


def _choices(items: list[Item]) -> dict[str, list[tuple[str, str]]]:
    """Filter options taken from what is in the inbox right now."""
    stages = {i.task.bpmn_id: step_name(i.task) for i in items}
    organisations = sorted({i.ticket.organisation for i in items if i.ticket and i.ticket.organisation})
    priorities = sorted({i.ticket.priority for i in items if i.ticket and i.ticket.priority})
    types = sorted({i.ticket.type for i in items if i.ticket and i.ticket.type})
    return {
        "type": [(t, t) for t in types],
        "priority": [(p, p) for p in priorities],
        "stage": sorted(stages.items(), key=lambda kv: kv[1]),
        "organisation": [(o, o) for o in organisations],
    }


def _listing() -> dict:
    user = staff()
    scope = request.args.get("scope", DEFAULT_SCOPE)
    if scope not in SCOPES or (scope == "all" and not user.has_role("lead", "admin")):
        scope = DEFAULT_SCOPE
    filters = {name: request.args.get(name, "") for name in FILTERS}
    items = _items(tasks.inbox(db.session, user, scope=scope))
    shown = [i for i in items if _matches(i, filters)]
    return {
        "scope": scope, "filters": filters, "items": shown, "total": len(items), "choices": _choices(items),
        "type_names": TYPE_NAMES, "people": people(), "now_local": local_time(now(), "HH:mm:ss"),
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
