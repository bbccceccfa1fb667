"""Tickets: the phone-call intake screen, the list and search, the ticket page.

Intake shows the fields of the deployed desk process's ``intake`` task and
registers the call with ``engine.runtime.instances.create_ticket``. The ticket page
puts together the record, its SLA clocks, the audit trail as a timeline and
the diagram of the ticket's own version with the path it took.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from engine.clock import now
from engine.desk import access, accounts, attachments, audit, customers, notes, onsite, search, tickets
from engine.errors import Invalid, NotFound
from engine.models import (
    HumanTask,
    Role,
    SlaClock,
    TaskState,
    Ticket,
    TicketStatus,
    User,
)
from engine.runtime import definitions, handling, instances, paths, tasks
from engine.runtime.forms import FieldDef

from .. import files
from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import diagram_words, element_name, engine_text, is_english, local_time
from ..tasks import forms as taskforms
from ..tasks.forms import Catalog, catalog, display

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

DESK_STAFF = ("agent", "lead", "admin")
INTAKE_TASK = "intake"
RADIOS = {"type", "channel"}
LOOKUP_FIELDS = ("reporter_name", "organisation", "phone")
# the phone-call order: what the call is, who is calling, then the problem
INTAKE_GROUPS = (
    (_l("Call"), ("type", "channel")),
    (_l("Caller"), ("reporter_name", "organisation", "phone", "email")),
    (_l("Problem"), ("title", "description", "occurred_at", "device_model", "device_serial")),
)
PER_PAGE = 20

STATUS_NAMES = {
    TicketStatus.OPEN: _l("In progress"),
    TicketStatus.RESOLVED: _l("Resolved"),
    TicketStatus.CLOSED: _l("Closed"),
}
TYPE_NAMES = {
    "incident": _l("Incident"),
    "request": _l("Service request"),
    "consultation": _l("Consultation"),
    "complaint": _l("Complaint"),
}
CLOCK_NAMES = {
    "response": _l("Response"),
    "handoff": _l("Hand-off"),
    "resolution": _l("Resolution"),
    "callback": _l("Callback"),
    "emergency_close": _l("Emergency close"),
    "timely": _l("Timely handling"),
}
ACTION_NAMES = {
    "create_ticket": _l("Registered"),
    "complete": _l("Completed"),
    "claim": _l("Claimed"),
    "unclaim": _l("Released"),
    "assign": _l("Assigned"),
    "timer": _l("Timer"),
    "sla_warning": _l("SLA warning"),
    "sla_breach": _l("SLA breached"),
    "start": _l("Started"),
    "note": _l("Note written"),
    "attachment": _l("File attached"),
    "customer_link": _l("Linked to the customer archive"),
    "kb_use": _l("Knowledge article used"),
    "kb_submit": _l("Knowledge article submitted"),
    "onsite_record": _l("On-site service recorded"),
    "onsite_update": _l("On-site record corrected"),
    "onsite_signed": _l("Signed by the customer"),
    "onsite_backup_confirmed": _l("Backup confirmed by the customer"),
    "pause": _l("Paused"),  # issue 10
    "resume": _l("Resumed"),
}
# the record's fields in the order a reader expects; labels for those the forms do not name
FIELD_LABELS = {
    "type": _l("Type"), "channel": _l("Channel"), "title": _l("Title"), "description": _l("Description"),
    "reporter_name": _l("Reporter"), "organisation": _l("Organisation"), "phone": _l("Phone"),
    "email": _l("E-mail"), "device_model": _l("Device model"), "device_serial": _l("Serial number"),
    "occurred_at": _l("Occurred at"), "category": _l("Category"), "impact": _l("Impact"),
    "urgency": _l("Urgency"), "priority": _l("Priority"), "project": _l("Project"), "pm_group": _l("PM group"),
    "sla_calendar": _l("SLA calendar"), "engineer": _l("Engineer"), "resolved_by": _l("Resolved by"),
    "solution": _l("Solution"), "vendor_case": _l("Vendor case"), "satisfaction": _l("Satisfaction"),
    "reopened": _l("Reopened"), "summary": _l("Summary"), "to_kb": _l("To knowledge base"),
    "created_by": _l("Registered by"), "accepted_at": _l("Accepted at"), "resolved_at": _l("Resolved at"),
    "closed_at": _l("Closed at"),
}  # fmt: skip
# the SLA calendars of engine.desk.calendars (rules/sla.dmn names them by code)
CALENDAR_NAMES = {"24x7": _l("24×7"), "business": _l("Business hours")}
# the fields whose absence makes an unqualified ticket (engine.desk.tickets.missing_fields)
COMPLETENESS_LABELS = {
    "reporter_name": _l("Reporter"), "organisation": _l("Organisation"), "phone": _l("Phone or e-mail"),
    "description": _l("Description"), "occurred_at": _l("Occurred at"),
    "device_model": _l("Device model"), "device_serial": _l("Serial number"),
}  # fmt: skip


def role_names(codes: list[str]) -> str:
    """Role codes as the page's language names them."""
    roles = {r.code: r for r in db.session.scalars(db.select(Role).where(Role.code.in_(codes or [])))}
    sep = ", " if is_english() else "、"
    return sep.join((roles[c].name_en if is_english() else roles[c].name) if c in roles else c for c in codes or [])


def people() -> dict[str, str]:
    """Everyone's shown name by username (the names alone: reading users would read their roles too)."""
    return {name: shown or name for name, shown in db.session.execute(db.select(User.username, User.display_name))}


def staff_people() -> dict[str, str]:
    """Who a task may be handed to: active staff, never a portal customer's account (one statement, roles joined)."""
    active = db.session.scalars(db.select(User).where(User.active).options(joinedload(User.roles))).unique()
    return {u.username: u.display_name or u.username for u in active
            if u.role_codes and not accounts.is_customer_only(u)}


# --- intake ----------------------------------------------------------------------------


def intake_step() -> tuple[list[FieldDef], str]:
    """The intake task's fields and instructions in the deployed desk process's latest version."""
    version = definitions.get_version(db.session, instances.DESK_PROCESS)
    info = catalog(version)
    words = diagram_words(version)
    defs = taskforms.localize(list(info.steps.get(INTAKE_TASK, {}).values()), words, INTAKE_TASK)
    return defs, words.documentation(INTAKE_TASK, info.documentation.get(INTAKE_TASK, ""))


def intake_form(defs: list[FieldDef], formdata=None):
    cls = taskforms.form_class(defs, radios=RADIOS)
    if formdata is not None:
        return cls(formdata=formdata)
    # a call is the usual channel; initial_values shows only the diagram's defaults, so say it here
    return cls(formdata=None, data={taskforms.PREFIX + "channel": "phone", **taskforms.initial_values(defs, {})})


def intake_groups(form) -> list[tuple[str, list]]:
    """The form's fields in phone-call order; fields the diagram adds go last, under "Other"."""
    fields = dict((fd.id, (fd, f)) for fd, f in form.task_fields())
    groups = []
    for title, ids in INTAKE_GROUPS:
        members = [fields.pop(i) for i in ids if i in fields]
        if members:
            groups.append((title, members))
    if fields:
        groups.append((_l("Other"), list(fields.values())))
    return groups


def _intake_page(form, doc: str, *, data: dict, invalid: Invalid | None = None, status: int = 200):
    groups = intake_groups(form)
    first = groups[0][1][0][0].id if groups else None
    return render_template(
        "tickets/new.html", form=form, groups=groups, first_field=first, lookup_fields=LOOKUP_FIELDS,
        errors=invalid.fields if invalid else {}, invalid=invalid, instructions=taskforms.instructions(doc, {}),
        missing=missing_labels(data), hardware=hardware_labels(),
    ), status


def missing_labels(data: dict) -> list[str]:
    return [str(COMPLETENESS_LABELS.get(name, name)) for name in tickets.missing_fields(data)]


@bp.get("/new")
@staff_required(*DESK_STAFF)
def new():
    defs, doc = intake_step()
    form = intake_form(defs)
    return _intake_page(form, doc, data={})


@bp.post("/new")
@staff_required(*DESK_STAFF)
def create():
    defs, doc = intake_step()
    data = taskforms.submitted(defs, request.form)
    data.update({k: request.form[k] for k in customers.LINK_KEYS if request.form.get(k)})  # picked from the archive
    try:
        ticket = instances.create_ticket(db.session, data, user=staff())
    except Invalid as exc:
        db.session.rollback()
        return _intake_page(intake_form(defs, request.form), doc, data=data, invalid=exc, status=422)
    if request.form.get("add_to_archive") and ticket.organisation and customers.new_from_ticket(db.session, ticket):
        customers.add_from_ticket(db.session, ticket, actor=staff().username)  # the agent ticked "add what is new"
    db.session.commit()
    flash(_("Ticket %(number)s registered.", number=ticket.number), "success")
    from ..tasks.pages import next_page  # tasks imports this module

    return redirect(next_page(ticket.instance_id, ticket))


def hardware_labels() -> list[str]:
    """What hardware categories additionally require: the intake says so before the category is chosen."""
    extra = [f for f in tickets.required_fields("server") if f not in tickets.required_fields(None)]
    return [str(COMPLETENESS_LABELS.get(name, name)) for name in extra]


@bp.post("/completeness")
@staff_required(*DESK_STAFF)
def completeness():
    """The live check on the intake screen: what an unqualified record still lacks (htmx)."""
    return render_template("tickets/_completeness.html", missing=missing_labels(request.form.to_dict()),
                           hardware=hardware_labels())


@bp.get("/lookup")
@staff_required(*DESK_STAFF)
def lookup():
    """Suggestions for the intake screen from earlier tickets, with the caller's open tickets (htmx).

    A caller chasing an open ticket (催单) is added to it instead of opening a duplicate.
    """
    typed = (request.args.get(name, "").strip() for name in ("q", *LOOKUP_FIELDS))
    prefix = next((text for text in typed if text), "")
    contacts = tickets.contacts(db.session, prefix) if prefix else []
    opens = [tickets.open_for(db.session, phone=c["phone"], reporter_name=c["reporter_name"]) for c in contacts]
    return render_template("tickets/_lookup.html", contacts=contacts, opens=opens, prefix=prefix,
                           archive=customers.lookup(db.session, prefix) if prefix else [])


@bp.post("/<number>/chase")
@staff_required(*DESK_STAFF)
def chase(number: str):
    note = (request.form.get("note") or request.form.get("description") or "").strip()  # from the intake screen
    handling.chase(db.session, number, user=staff(), note=note)
    db.session.commit()
    flash(_("Chase call added to %(number)s.", number=number), "success")
    return redirect(url_for("tickets.show", number=number))


@bp.post("/<number>/supplement")
@staff_required(*DESK_STAFF)
def supplement(number: str):
    """补录 from the ticket page: only the fields typed in are sent."""
    data = {k: v.strip() for k, v in request.form.items() if k in tickets.RECORD_FIELDS and v.strip()}
    try:
        handling.supplement(db.session, number, data, user=staff())
    except Invalid as exc:
        db.session.rollback()
        flash(_("Nothing was filled in: %(message)s", message=exc.message), "error")
        return redirect(url_for("tickets.show", number=number))
    db.session.commit()
    flash(_("Record of %(number)s filled in.", number=number), "success")
    return redirect(url_for("tickets.show", number=number))


@bp.post("/tasks/<int:task_id>/reassign")
@staff_required("lead", "admin")
def reassign(task_id: int):
    """A lead gives an open task to a named person, with a reason (audited)."""
    row = tasks.get(db.session, task_id)
    number = db.session.get(Ticket, row.ticket_id).number if row.ticket_id else ""
    try:
        handling.reassign(db.session, task_id, user=staff(), to=request.form.get("username", ""),
                           reason=request.form.get("reason", ""))
    except Invalid as exc:
        db.session.rollback()
        flash(_("Not reassigned: %(message)s", message=exc.message), "error")
        return redirect(url_for("tickets.show", number=number))
    db.session.commit()
    flash(_("Task reassigned."), "success")
    return redirect(url_for("tickets.show", number=number))


# --- list and search -----------------------------------------------------------------------


SLA_STATE_NAMES = {
    "breached": _l("Breached"), "near": _l("Due soon"), "running": _l("Running"), "met": _l("Met"), "none": "—",
}  # fmt: skip
CSV_HEADERS = {
    "number": _l("Number"), "type": _l("Type"), "status": _l("Status"), "priority": _l("Priority"),
    "title": _l("Title"), "organisation": _l("Organisation"), "reporter_name": _l("Reporter"), "phone": _l("Phone"),
    "category": _l("Category"), "stage": _l("Current step"), "assignee": _l("Holder"),
    "accepted_at": _l("Accepted at"), "resolved_at": _l("Resolved at"), "closed_at": _l("Closed at"),
    "breached": _l("SLA breached"),
}  # fmt: skip


def _list_page(filters: search.Filters, invalid: Invalid | None = None):
    args = request.args
    page = max(1, args.get("page", 1, type=int) or 1)
    per_page = min(max(args.get("per_page", PER_PAGE, type=int) or PER_PAGE, 1), search.MAX_PAGE_SIZE)
    result = search.find(db.session, filters, reader=staff(), page=page, per_page=per_page)
    steps = search.current_steps(db.session, [t.id for t in result.rows])
    at = now()
    rows = [(t, steps.get(t.id, []), search.sla_state(t, at)) for t in result.rows]
    query = filters.query()
    roles = {r.code: (r.name_en if is_english() else r.name) for r in db.session.scalars(db.select(Role))}
    return render_template(
        "tickets/list.html", rows=rows, result=result, filters=filters, query=query,
        status_names=STATUS_NAMES, type_names=TYPE_NAMES, sla_names=SLA_STATE_NAMES, names=people(),
        role_names=lambda codes: (", " if is_english() else "、").join(roles.get(c, c) for c in codes),
        saved=search.saved_filters(db.session, staff().username, "tickets"),
        invalid=invalid,
    ), 422 if invalid else 200  # fmt: skip


@bp.get("")
@staff_required()
def index():
    try:
        filters = search.Filters.parse(request.args)
    except Invalid as exc:
        return _list_page(search.Filters(), exc)
    return _list_page(filters)


@bp.get("/export.csv")
@staff_required()
def export():
    """The list as it is filtered, as CSV (UTF-8 with BOM so Excel reads Chinese), streamed."""
    filters = search.Filters.parse(request.args)
    reader = staff()  # issue 11: only the tickets this user may read
    stage_names = _stage_names()
    names = people()
    version = desk_version()
    words = diagram_words(version)
    categories = _any_step_options(taskforms.catalog(version), "category", words) if version else {}
    sep = ", " if is_english() else "、"

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        out.write("\ufeff")
        writer.writerow([str(label) for label in CSV_HEADERS.values()])
        for n, values in enumerate(search.export_rows(db.session, filters, reader=reader), 1):
            values["type"] = str(TYPE_NAMES.get(values["type"], values["type"]))
            values["status"] = str(STATUS_NAMES.get(values["status"], values["status"]))
            steps = [s for s in (values["stage"] or "").split(",") if s]
            values["stage"] = sep.join(element_name(stage_names.get(s, s), s) for s in steps)
            values["category"] = categories.get(values["category"], values["category"])
            values["assignee"] = names.get(values["assignee"], values["assignee"] or "")
            values["breached"] = _("Yes") if values["breached"] else _("No")
            writer.writerow([values[name] if values[name] is not None else "" for name in CSV_HEADERS])
            if n % 500 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    stamp = now().astimezone(tickets.LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(lines()), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="tickets-{stamp}.csv"'},
    )  # fmt: skip


def _stage_names() -> dict[str, str]:
    """BPMN id → step name of the deployed desk process (what ``ticket.stage`` holds)."""
    version = definitions.latest_version(db.session, instances.DESK_PROCESS)
    if version is None:
        return {}
    spec, subprocess_specs = definitions.specs_of(version)
    return {
        t.bpmn_id: t.bpmn_name or t.bpmn_id
        for process in (spec, *subprocess_specs.values())
        for t in process.task_specs.values()
        if t.bpmn_id
    }


@bp.post("/filters")
@staff_required()
def save_filter():
    """Keep the list's current filter under a name (the form posts the list's arguments along)."""
    filters = search.Filters.parse(request.form)
    try:
        search.save_filter(db.session, staff().username, "tickets", request.form.get("name", ""), filters.query())
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("tickets.index", **filters.query()))
    db.session.commit()
    flash(_("Filter saved."), "success")
    return redirect(url_for("tickets.index", **filters.query()))


@bp.post("/filters/<int:filter_id>/delete")
@staff_required()
def delete_filter(filter_id: int):
    search.delete_filter(db.session, staff().username, filter_id)
    db.session.commit()
    flash(_("Filter deleted."), "success")
    return redirect(url_for("tickets.index"))


# --- the ticket page ----------------------------------------------------------------------


@dataclass
class Clock:
    name: str
    label: str
    clock: SlaClock

    @property
    def elapsed(self) -> timedelta | None:
        if self.clock.started_at is None:
            return None
        return (self.clock.stopped_at or now()) - self.clock.started_at

    @property
    def state(self) -> str:
        """"breached", "met" (stopped in time), "running" or "near" (a quarter of the time left)."""
        c = self.clock
        if c.breached or (c.due_at and (c.stopped_at or now()) > c.due_at):
            return "breached"
        if c.stopped_at:
            return "met"
        if c.due_at and c.started_at:
            total = (c.due_at - c.started_at).total_seconds()
            if total > 0 and (c.due_at - now()).total_seconds() <= total / 4:
                return "near"
        return "running"


def clocks_of(ticket: Ticket) -> list[Clock]:
    order = list(tickets.SLAS)
    known = sorted(ticket.clocks, key=lambda c: order.index(c.name) if c.name in order else len(order))
    return [Clock(c.name, str(CLOCK_NAMES.get(c.name, c.name)), c) for c in known]


@dataclass
class Entry:
    at: datetime
    actor: str
    action: str
    title: str
    details: list[tuple[str, str]]
    kind: str


def _step_fields(info: Catalog, step: str | None, words) -> dict[str, FieldDef]:
    """One step's fields as the page's language names them (the step's own option names)."""
    return {fd.id: fd for fd in taskforms.localize(list(info.steps.get(step or "", {}).values()), words, step)}


def _any_step_options(info: Catalog, key: str, words) -> dict[str, str]:
    return {value: words.option(None, key, value, name) for value, name in info.options.get(key, {}).items()}


def _details(event, info: Catalog, names: dict[str, str], words) -> list[tuple[str, str]]:
    """What the person entered at that step, with the step's own labels; the due time of an SLA event."""
    if event.action.startswith("sla_"):
        return [(_("Due"), local_time(tickets.parse_time((event.data or {}).get("due_at"))))]
    if event.action == "note":
        kind = _("Internal note") if (event.data or {}).get("internal") else _("Reply to the customer")
        return [(kind, (event.data or {}).get("text", ""))]
    if event.action not in ("create_ticket", "complete", "start"):
        return []
    fields = _step_fields(info, event.bpmn_id, words)
    details = []
    for key, value in (event.data or {}).items():
        if value is None or value == "":
            continue
        fd = fields.get(key)
        label = fd.label if fd else str(FIELD_LABELS.get(key, key))
        options = dict(fd.options) if fd else _any_step_options(info, key, words)
        details.append((label, display(value, fd, options, names)))
    return details


def timeline(ticket: Ticket, info: Catalog, names: dict[str, str]) -> list[Entry]:
    """The audit trail of the ticket: who did what, when, with what."""
    words = diagram_words(version_of(ticket))
    entries = []
    for event in audit.history(db.session, ticket_id=ticket.id):
        sla = event.action.startswith("sla_")
        entries.append(
            Entry(
                at=event.at,
                actor=names.get(event.actor, event.actor),
                action=str(ACTION_NAMES.get(event.action, event.action)),
                title=(str(CLOCK_NAMES.get(event.name, event.name)) if sla
                       else "" if event.action == "note" else words.element(event.bpmn_id, event.name)),
                details=_details(event, info, names, words),
                kind={"sla_breach": "alert", "sla_warning": "warn"}.get(event.action, "step"),
            )
        )
    return entries


def record_fields(ticket: Ticket, info: Catalog, names: dict[str, str]) -> list[tuple[str, str]]:
    """The record as people read it: the forms' labels and option names, never codes."""
    words = diagram_words(version_of(ticket))
    labels = {fid: fd for step in info.steps for fid, fd in _step_fields(info, step, words).items()}
    shown = []
    for key, label in FIELD_LABELS.items():
        value = getattr(ticket, key)
        if value in (None, "", False, 0) and key not in ("title", "description"):
            continue
        fd = labels.get(key)
        if key in ("resolved_by", "created_by", "engineer"):
            text = names.get(value, value)
        elif isinstance(value, datetime):
            text = local_time(value)
        elif key == "type":
            text = words.option(INTAKE_TASK, "type", value, info.options.get("type", {}).get(value) or "") or str(
                TYPE_NAMES.get(value, value))
        elif key == "pm_group":
            text = role_names([value])
        elif key == "sla_calendar":
            text = str(CALENDAR_NAMES.get(value, value))
        elif key == "project":
            text = words.value("project", value, value)
        else:
            text = display(value, fd, _any_step_options(info, key, words), names)
        shown.append((fd.label if fd and key not in ("type",) else str(label), text))
    return shown


def desk_version():
    """The desk process's latest version (whose forms name the fields), or None before any deploy."""
    try:
        return definitions.get_version(db.session, instances.DESK_PROCESS)
    except NotFound:
        return None


def version_of(ticket: Ticket):
    """The version whose words name the ticket's fields: its own, or the latest for imported history."""
    return ticket.instance.version if ticket.instance else desk_version()


def summary_names(ticket: Ticket) -> dict[str, str]:
    """Type and category as people read them, for the summary above a task form."""
    version = version_of(ticket)
    if version is None:
        return {}
    info = catalog(version)
    words = diagram_words(version)
    return {
        key: _any_step_options(info, key, words).get(getattr(ticket, key), "")
        for key in ("type", "category") if getattr(ticket, key)
    }


def diagram(ticket: Ticket) -> dict:
    """The BPMN files of the ticket's own version that it ran in, with the path to mark."""
    version = ticket.instance.version
    marks = paths.visited(db.session, ticket.instance)
    main = marks.get(version.key, {}).get("file")
    ran_in = {m["file"] for m in marks.values() if m["file"] in (version.files or {})}
    files = sorted(ran_in, key=lambda f: (f != main, f))  # the desk process first
    return {
        "files": [{"name": f, "xml": version.files[f]} for f in files],
        "marks": marks,
        "version": version.version,
        "names": diagram_words(version).data.get("elements", {}),  # English pages: the diagram in English too
    }


@bp.get("/<number>")
@staff_required()
def show(number: str):
    ticket = access.ticket(db.session, staff(), number)
    version = version_of(ticket)  # imported history: no instance
    info = catalog(version) if version else Catalog({}, {}, {})
    names = people()
    open_tasks = db.session.scalars(
        db.select(HumanTask).where(HumanTask.ticket_id == ticket.id, HumanTask.state == TaskState.READY)
    ).all()
    return render_template(
        "tickets/show.html", ticket=ticket, fields=record_fields(ticket, info, names), clocks=clocks_of(ticket),
        timeline=timeline(ticket, info, names), open_tasks=open_tasks, may_do=lambda t: tasks.may_do(staff(), t),
        diagram=diagram(ticket) if ticket.instance else None, status_names=STATUS_NAMES, names=names, role_names=role_names,
        missing=[str(COMPLETENESS_LABELS.get(m, m)) for m in ticket.missing_fields or []],
        notes=notes.of_ticket(db.session, ticket.id), files=attachments.of_ticket(db.session, ticket.id),
        customer=customer_of(ticket), max_mb=files.max_bytes() / 1024 / 1024,
        onsite_records=onsite.of_ticket(db.session, ticket.id), field_roles=onsite.FIELD_ROLES,
        fill_in=[(m, str(COMPLETENESS_LABELS.get(m, m))) for m in ticket.missing_fields or []],
        staff_users=sorted(staff_people().items()), is_lead=staff().has_role("lead", "admin"),
        is_desk=staff().has_role(*DESK_STAFF),
    )


# --- notes, files and the customer on the ticket page ------------------------------------------------


def customer_of(ticket: Ticket) -> dict:
    """The archive records the ticket is linked to, and what it names that the archive lacks."""
    from engine.models import Contact, Device, Organisation

    return {
        "organisation": db.session.get(Organisation, ticket.organisation_id) if ticket.organisation_id else None,
        "contact": db.session.get(Contact, ticket.contact_id) if ticket.contact_id else None,
        "device": db.session.get(Device, ticket.device_id) if ticket.device_id else None,
        "new": customers.new_from_ticket(db.session, ticket),
    }


@bp.post("/<number>/notes")
@staff_required()
def add_note(number: str):
    ticket = access.ticket(db.session, staff(), number)
    try:
        notes.add(db.session, ticket, request.form.get("text", ""), internal=request.form.get("visibility") != "reply",
                  actor=staff().username)
    except Invalid:
        db.session.rollback()
        flash(_("The note was not saved: it is empty or too long."), "error")
        return redirect(url_for("tickets.show", number=number, _anchor="notes")), 303
    db.session.commit()
    flash(_("Note added."), "success")
    return redirect(url_for("tickets.show", number=number, _anchor="notes")), 303


@bp.post("/<number>/attachments")
@staff_required()
def add_attachment(number: str):
    ticket = access.ticket(db.session, staff(), number)
    name, data = files.upload()
    try:
        row = attachments.add(db.session, ticket, name, data, actor=staff().username, store=files.store(),
                              max_bytes=files.max_bytes())
    except Invalid as exc:
        db.session.rollback()
        flash(_("The file was not attached: %(reason)s", reason=engine_text(exc.message)), "error")
        return redirect(url_for("tickets.show", number=number, _anchor="notes")), 303
    db.session.commit()
    flash(_("File %(name)s attached.", name=row.filename), "success")
    return redirect(url_for("tickets.show", number=number, _anchor="notes")), 303


@bp.get("/files/<int:attachment_id>")
@staff_required()
def attachment(attachment_id: int):
    return files.send(access.check_attachment(db.session, staff(), attachments.get(db.session, attachment_id)))
