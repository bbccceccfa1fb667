"""Who hears what: the bell and e-mail for staff, e-mail for customers.

Every message is written in the same transaction as the step that causes it: a
bell row (``Notification``) and/or an outbox row (``OutboxMail``) that the worker
sends later (see ``outbox``). A rolled-back step therefore leaves no message
behind, and a slow or absent mail server never holds up a step.

The public calls, for this module and for other features that send mail:

    queue_mail(session, kind=…, to_addr=…, subject=…, body=…)   one outbox row
    notify_staff(session, username, kind, context, ticket=…)     bell + mail, by preference
    notify_customer(session, ticket, kind, context)              mail to the ticket's e-mail
    render(session, kind, context)                               (subject, body) from the template

Wording is a template per kind (Jinja, sandboxed) an admin may edit; kinds
without an edited row use ``DEFAULT_TEMPLATES``. Staff choose per kind whether
they want the bell and/or mail (``NotificationPreference``; no row = both).

``snapshot`` + ``after_step`` are called by the write path around the ticket
projection: they turn what changed (assignee, status, priority, stage, SLA
warnings and breaches) into messages.

What sending reads — the users and their roles, preferences, templates, the
escalations already sent — is loaded once per step, or once per batch of timer
wakes (``Lookups``), never kept longer: an admin's change applies to the next
step or batch, whichever process runs it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Invalid
from ..models import (
    HumanTask,
    SlaEscalation,
    MailTemplate,
    Notification,
    NotificationPreference,
    OutboxMail,
    TaskState,
    Ticket,
    TicketStatus,
    User,
)
from .tickets import LOCAL_TZ, SLA_NAMES, TYPE_NAMES

log = logging.getLogger(__name__)

# kind → (Chinese label, English label)
STAFF_KINDS = {
    "assigned": ("任务指派", "Task assigned to me"),
    "sla_warning": ("时限预警", "SLA warning"),
    "sla_breach": ("时限超时", "SLA breach"),
}
CUSTOMER_KINDS = {
    "customer_accepted": ("受理通知（客户）", "Ticket accepted (customer)"),
    "customer_resolved": ("解决通知（客户）", "Ticket resolved (customer)"),
    "customer_escalated": ("升级通知（客户）", "Ticket escalated (customer)"),
    "customer_closed": ("关闭通知（客户）", "Ticket closed (customer)"),
}
KINDS = {**STAFF_KINDS, **CUSTOMER_KINDS}

DEFAULT_TEMPLATES = {
    "assigned": (
        "【服务台】工单 {{ number }} 已指派给您",
        "{{ name }}，您好：\n\n工单 {{ number }}（{{ title }}）的“{{ task }}”已指派给您，请及时处理。\n"
        "优先级：{{ priority }}　单位：{{ organisation }}\n",
    ),
    "sla_warning": (
        "【服务台】工单 {{ number }} 的{{ sla }}时限即将到期",
        "{{ name }}，您好：\n\n工单 {{ number }}（{{ title }}）的{{ sla }}时限将于 {{ due }} 到期，"
        "当前处理人：{{ holder }}。\n",
    ),
    "sla_breach": (
        "【服务台】工单 {{ number }} 的{{ sla }}时限已超时",
        "{{ name }}，您好：\n\n工单 {{ number }}（{{ title }}）的{{ sla }}时限已于 {{ due }} 到期未完成，"
        "当前处理人：{{ holder }}。请按升级流程跟进。\n",
    ),
    "customer_accepted": (
        "【服务台】您的{{ type }}已受理，工单号 {{ number }}",
        "{{ reporter_name }}，您好：\n\n我们已受理您的{{ type }}“{{ title }}”，工单号 {{ number }}。"
        "如需查询进展，请告知此工单号。\n\n服务台\n",
    ),
    "customer_resolved": (
        "【服务台】工单 {{ number }} 已解决",
        "{{ reporter_name }}，您好：\n\n您的工单 {{ number }}（{{ title }}）已处理完毕。\n处理结果：{{ solution }}\n\n"
        "我们将尽快回访确认，谢谢。\n\n服务台\n",
    ),
    "customer_escalated": (
        "【服务台】工单 {{ number }} 已升级处理",
        "{{ reporter_name }}，您好：\n\n您的工单 {{ number }}（{{ title }}）已升级处理（{{ reason }}），"
        "当前优先级 {{ priority }}。我们会持续跟进并及时通知您。\n\n服务台\n",
    ),
    "customer_closed": (
        "【服务台】工单 {{ number }} 已关闭",
        "{{ reporter_name }}，您好：\n\n您的工单 {{ number }}（{{ title }}）已关闭。感谢您的支持。\n\n服务台\n",
    ),
}

ESCALATION_STAGES = {"tech_support": "已转技术支持", "vendor_result": "已转厂商处理"}
PRIORITY_ORDER = ("P4", "P3", "P2", "P1")

_templates = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
_compiled: dict[str, object] = {}  # template text → compiled template; an edited text is a new key
_COMPILED_MAX = 256


# --- what sending reads, loaded once per step or batch ---------------------------------------


class Lookups:
    """Users (with their roles), preferences, templates and sent escalations, each read once.

    A step never writes users, preferences or templates, so reading them does not
    flush the step's pending rows first: they go out once, with the commit. The
    escalations and PM steps (``preload``) may be the step's own, so they do flush.

    One lives for one step (``after_step`` makes it) or one batch of timer wakes
    (``runtime.sla_marks``, which ``preload``s the batch's tickets), inside one
    transaction, and is then dropped: nothing here outlives the transaction, so
    an admin's change is seen by the next one. A batch of 50 wakes reads each
    table once instead of once per recipient.
    """

    def __init__(self, session: Session):
        self.session = session
        self._users: dict[str, User | None] = {}
        self._active: list[User] | None = None  # every active user, by username
        self._preferences: dict[tuple[str, str], NotificationPreference] | None = None
        self._templates: dict[str, MailTemplate] | None = None
        self._sent: dict[int, set[tuple[str, str]]] = {}  # ticket id → (clock, level) escalated
        self._pm_steps: dict[int, list[str | None]] = {}  # ticket id → who completed pm_assign, latest first

    def user(self, username: str) -> User | None:
        if username not in self._users:
            if self._active is not None:
                return None  # every active user is loaded: this one is inactive or unknown
            with self.session.no_autoflush:
                self._users[username] = self.session.scalars(select(User).where(User.username == username)).first()
        return self._users[username]

    def with_role(self, role: str) -> list[User]:
        """Active users holding ``role``, by username (``users.users_with_role``)."""
        if self._active is None:
            with self.session.no_autoflush:
                self._active = list(self.session.scalars(
                    select(User).where(User.active.is_(True)).order_by(User.username)))
            self._users.update((u.username, u) for u in self._active)
        return [u for u in self._active if u.has_role(role)]

    def preference(self, username: str, kind: str) -> dict[str, bool]:
        """{in_app, email} for one user and kind; no row = both on."""
        if self._preferences is None:
            with self.session.no_autoflush:
                rows = self.session.scalars(
                    select(NotificationPreference).where(NotificationPreference.kind.in_(STAFF_KINDS)))
                self._preferences = {(r.username, r.kind): r for r in rows}
        row = self._preferences.get((username, kind))
        return {"in_app": row.in_app, "email": row.email} if row is not None else {"in_app": True, "email": True}

    def template(self, kind: str) -> tuple[str, str, bool]:
        """(subject, body, edited) for a kind: the admin's row, else the built-in text."""
        if self._templates is None:
            with self.session.no_autoflush:
                self._templates = {r.kind: r for r in self.session.scalars(select(MailTemplate))}
        row = self._templates.get(kind)
        if row is not None:
            return row.subject, row.body, True
        subject, body = DEFAULT_TEMPLATES[kind]
        return subject, body, False

    def preload(self, ticket_ids: list[int]) -> None:
        """For a batch: the escalations sent and the PM steps of all these tickets, two statements."""
        ids = [i for i in ticket_ids if i not in self._sent]
        if not ids:
            return
        for i in ids:
            self._sent[i], self._pm_steps[i] = set(), []
        for ticket_id, clock, level in self.session.execute(
            select(SlaEscalation.ticket_id, SlaEscalation.clock, SlaEscalation.level)
            .where(SlaEscalation.ticket_id.in_(ids))
        ):
            self._sent[ticket_id].add((clock, level))
        for ticket_id, done_by in self.session.execute(
            select(HumanTask.ticket_id, HumanTask.completed_by)
            .where(HumanTask.ticket_id.in_(ids), HumanTask.bpmn_id == "pm_assign",
                   HumanTask.state == TaskState.COMPLETED)
            .order_by(HumanTask.ticket_id, HumanTask.completed_at.desc())
        ):
            self._pm_steps[ticket_id].append(done_by)

    def escalated(self, ticket_id: int, clock: str, level: str) -> bool:
        """Whether this level of this clock was sent already (``escalation``: once per ticket, clock, level)."""
        self.preload([ticket_id])
        return (clock, level) in self._sent[ticket_id]

    def mark_escalated(self, ticket_id: int, clock: str, level: str) -> None:
        self.preload([ticket_id])
        self._sent[ticket_id].add((clock, level))

    def pm_steps(self, ticket_id: int) -> list[str | None]:
        """Who completed the ticket's pm_assign steps, the latest first (none: not dispatched by a PM)."""
        self.preload([ticket_id])
        return self._pm_steps[ticket_id]


# --- templates ----------------------------------------------------------------------------


def template(session: Session, kind: str) -> tuple[str, str, bool]:
    """(subject, body, edited) for a kind: the admin's row, else the built-in text."""
    row = session.get(MailTemplate, kind)
    if row is not None:
        return row.subject, row.body, True
    subject, body = DEFAULT_TEMPLATES[kind]
    return subject, body, False


def render(session: Session, kind: str, context: dict, *, lookups: Lookups | None = None) -> tuple[str, str]:
    """The subject (one line) and body of a message; a broken edited template falls back to the built-in one."""
    subject, body, edited = lookups.template(kind) if lookups is not None else template(session, kind)
    try:
        return render_text(subject, body, context)
    except TemplateError as exc:
        if not edited:
            raise
        log.warning("mail template %s fails (%s); using the built-in text", kind, exc)
        return render_text(*DEFAULT_TEMPLATES[kind], context)


def render_text(subject: str, body: str, context: dict) -> tuple[str, str]:
    line = _compile(subject).render(context)
    return " ".join(line.split())[:300], _compile(body).render(context)


def _compile(text: str):
    """A template compiled once per text (compiling costs more than rendering; a burst renders the same few)."""
    found = _compiled.get(text)
    if found is None:
        if len(_compiled) >= _COMPILED_MAX:
            _compiled.clear()
        found = _compiled[text] = _templates.from_string(text)
    return found


def sample_context() -> dict:
    """What a template can use, with example values (the edit page shows this; saving checks against it)."""
    return {
        "number": "INC-20261123-0001", "title": "核心交换机端口故障", "type": "事件", "priority": "P2",
        "organisation": "市人民医院信息科", "reporter_name": "王工", "solution": "更换板卡", "summary": "",
        "status": "open", "task": "工程师处理", "name": "刘工", "sla": "解决", "due": "11-23 17:30",
        "holder": "刘工", "reason": "优先级提升",
    }  # fmt: skip


def save_template(session: Session, kind: str, subject: str, body: str, *, user: User) -> MailTemplate:
    """Store an admin's wording after checking it renders; empty subject or body is refused."""
    if kind not in KINDS:
        raise Invalid(f"未知的通知类型 / unknown kind {kind}", fields={"kind": ["未知 / unknown"]})
    fields = {}
    for name, text in (("subject", subject), ("body", body)):
        if not (text or "").strip():
            fields[name] = ["必填 / required"]
            continue
        try:
            _templates.from_string(text).render(sample_context())
        except TemplateError as exc:
            fields[name] = [f"模板错误 / template error: {exc}"]
    if fields:
        raise Invalid("模板有误 / the template has errors", fields=fields)
    row = session.get(MailTemplate, kind) or MailTemplate(kind=kind)
    row.subject, row.body, row.updated_by, row.updated_at = subject.strip(), body, user.username, now()
    session.add(row)
    session.flush()
    return row


def reset_template(session: Session, kind: str) -> None:
    """Back to the built-in wording."""
    row = session.get(MailTemplate, kind)
    if row is not None:
        session.delete(row)
        session.flush()


# --- preferences ----------------------------------------------------------------------------


def preferences(session: Session, username: str) -> dict[str, dict[str, bool]]:
    """{kind: {in_app, email}} for every staff kind; kinds without a row are on."""
    rows = {
        r.kind: r
        for r in session.scalars(select(NotificationPreference).where(NotificationPreference.username == username))
    }
    return {
        kind: {"in_app": rows[kind].in_app if kind in rows else True, "email": rows[kind].email if kind in rows else True}
        for kind in STAFF_KINDS
    }


def set_preferences(session: Session, username: str, choices: dict[str, dict[str, bool]]) -> None:
    """Store a user's choices ({kind: {in_app, email}}); unknown kinds are refused."""
    unknown = [k for k in choices if k not in STAFF_KINDS]
    if unknown:
        raise Invalid(f"未知的通知类型 / unknown kinds: {', '.join(unknown)}", fields={"kind": unknown})
    for kind, choice in choices.items():
        row = session.get(NotificationPreference, (username, kind)) or NotificationPreference(username=username, kind=kind)
        row.in_app = bool(choice.get("in_app"))
        row.email = bool(choice.get("email"))
        session.add(row)
    session.flush()


# --- queueing -------------------------------------------------------------------------------


def queue_mail(
    session: Session,
    *,
    kind: str,
    to_addr: str,
    subject: str,
    body: str,
    ticket_id: int | None = None,
    username: str | None = None,
    at: datetime | None = None,
) -> OutboxMail | None:
    """One outbox row in the caller's transaction; None (nothing queued) without an address."""
    to_addr = (to_addr or "").strip()
    if "@" not in to_addr:
        return None
    at = at or now()
    mail = OutboxMail(kind=kind, to_addr=to_addr, username=username, ticket_id=ticket_id, subject=subject,
                      body=body, created_at=at, next_attempt_at=at)
    session.add(mail)
    return mail


def ticket_context(ticket: Ticket) -> dict:
    """The fields every template may use, as plain strings (the sandbox sees no objects)."""
    return {
        "number": ticket.number, "title": ticket.title or "", "type": TYPE_NAMES.get(ticket.type, ticket.type or ""),
        "priority": ticket.priority or "", "organisation": ticket.organisation or "",
        "reporter_name": ticket.reporter_name or "", "solution": ticket.solution or "",
        "summary": ticket.summary or "", "status": ticket.status or "",
    }  # fmt: skip


def notify_staff(session: Session, username: str, kind: str, context: dict, *, ticket: Ticket | None = None,
                 lookups: Lookups | None = None) -> None:
    """The bell and/or a mail for one staff member, as they chose for this kind."""
    lookups = lookups or Lookups(session)
    user = lookups.user(username)
    if user is None or not user.active:
        return
    choice = lookups.preference(username, kind)
    if not (choice["in_app"] or choice["email"]):
        return
    context = {"name": user.display_name or user.username, **context}
    subject, body = render(session, kind, context, lookups=lookups)
    ticket_id = ticket.id if ticket is not None else None
    if choice["in_app"]:
        session.add(Notification(username=username, ticket_id=ticket_id, kind=kind, message=subject, created_at=now()))
    if choice["email"]:
        queue_mail(session, kind=kind, to_addr=user.email, subject=subject, body=body, ticket_id=ticket_id,
                   username=username)


def notify_customer(session: Session, ticket: Ticket, kind: str, extra: dict | None = None, *,
                    lookups: Lookups | None = None) -> OutboxMail | None:
    """A mail to the address on the ticket (002 §4.4: keep the customer informed)."""
    subject, body = render(session, kind, {**ticket_context(ticket), **(extra or {})}, lookups=lookups)
    return queue_mail(session, kind=kind, to_addr=ticket.email, subject=subject, body=body, ticket_id=ticket.id)


# --- what a step changed --------------------------------------------------------------------


def snapshot(ticket: Ticket) -> dict:
    """The parts of a ticket whose change someone should hear about, before a step."""
    return {
        # never projected yet: the step that registered it
        "new": not ticket.stage and (ticket.status or TicketStatus.OPEN) == TicketStatus.OPEN and not ticket.priority,
        "stage": set(filter(None, (ticket.stage or "").split(","))),
        "status": ticket.status or TicketStatus.OPEN,
        "assignee": ticket.assignee,
        "priority": ticket.priority or "",
        "clocks": {c.name: (c.warned_at is not None, bool(c.breached)) for c in ticket.clocks},
    }


def after_step(session: Session, ticket: Ticket, before: dict, *, ready_tasks: list[HumanTask],
               since: datetime, actor: str | None = None, lookups: Lookups | None = None) -> None:
    """Messages for what the step changed: acceptance, assignment, escalation, resolution, closure, SLAs.

    A task is announced to its assignee when it was created by this step (``created_at >= since``),
    except to the person who did the step and keeps the next one (they are looking at it).
    ``lookups``: a batch's (``runtime.sla_marks``); else one for this step.
    """
    lookups = lookups or Lookups(session)
    stage = set(filter(None, (ticket.stage or "").split(",")))
    context = ticket_context(ticket)
    if before["new"] and stage:
        notify_customer(session, ticket, "customer_accepted", lookups=lookups)
    for task in ready_tasks:
        if task.assignee and task.assignee != actor and task.created_at >= since:
            notify_staff(session, task.assignee, "assigned", {**context, "task": task.name}, ticket=ticket,
                         lookups=lookups)
    if _raised(before["priority"], ticket.priority):
        notify_customer(session, ticket, "customer_escalated", {"reason": f"优先级由 {before['priority']} 提升为 {ticket.priority}"},
                        lookups=lookups)
    for bpmn_id in sorted(stage - before["stage"]):
        if bpmn_id in ESCALATION_STAGES:
            notify_customer(session, ticket, "customer_escalated", {"reason": ESCALATION_STAGES[bpmn_id]}, lookups=lookups)
    if ticket.status != before["status"]:
        if ticket.status == TicketStatus.RESOLVED:
            notify_customer(session, ticket, "customer_resolved", lookups=lookups)
        elif ticket.status == TicketStatus.CLOSED:
            notify_customer(session, ticket, "customer_closed", lookups=lookups)
    for clock in ticket.clocks:
        was_warned, was_breached = before["clocks"].get(clock.name, (False, False))
        if clock.warned_at is not None and not was_warned:
            _sla_message(session, ticket, clock, "sla_warning", ready_tasks, lookups)
        if clock.breached and not was_breached:
            _sla_message(session, ticket, clock, "sla_breach", ready_tasks, lookups)


def _raised(before: str, after: str) -> bool:
    return before in PRIORITY_ORDER and after in PRIORITY_ORDER and PRIORITY_ORDER.index(after) > PRIORITY_ORDER.index(before)


def holders(session: Session, ticket: Ticket, ready_tasks: list[HumanTask] | None = None, *,
            lookups: Lookups | None = None) -> list[str]:
    """Who holds the ticket now: the assignee of its open tasks, else everyone in those tasks' groups."""
    if ready_tasks is None:
        ready_tasks = list(session.scalars(
            select(HumanTask).where(HumanTask.ticket_id == ticket.id, HumanTask.state == TaskState.READY)
        ))
    named = sorted({t.assignee for t in ready_tasks if t.assignee})
    if named:
        return named
    groups = sorted({role for t in ready_tasks for role in (t.roles or [])})
    lookups = lookups or Lookups(session)
    return sorted({u.username for role in groups for u in lookups.with_role(role)})


def _sla_message(session: Session, ticket: Ticket, clock, kind: str, ready_tasks: list[HumanTask],
                 lookups: Lookups) -> None:
    """A warning reaches the holder and the lead; a breach goes up the chain (``escalation``)."""
    from . import escalation  # escalation imports this module for the sending

    escalation.escalate(session, ticket, clock, kind, holders(session, ticket, ready_tasks, lookups=lookups),
                        lookups=lookups)


def local_time(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M") if value else "-"
