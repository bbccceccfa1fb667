"""The tables. Business logic lives in the modules named for each noun.

Times are UTC-aware (see ``db.UTCDateTime``); statuses are ``StrEnum`` values
stored as plain strings so SQL reports can read them.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .clock import now
from .db import Base

# Limits of the free-text columns people type into (issue 11): ``engine.db.check_values``
# refuses longer values with a 422 naming the field; the database types stay TEXT.
NOTE_TEXT = 5_000  # notes, reasons, evidence, saved queries
LONG_TEXT = 20_000  # a ticket's description, solution and summary; replies; announcements; mail templates
ARTICLE_TEXT = 50_000  # knowledge articles: symptom, cause, solution


class VersionStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"
    CANCELLED = "cancelled"


class TaskState(enum.StrEnum):
    READY = "READY"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


user_roles = Table(
    "user_role",
    Base.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_code", ForeignKey("role.code", ondelete="CASCADE"), primary_key=True),
)


class Role(Base):
    """A group of staff; user tasks name roles by code (candidateGroups) or by lane."""

    __tablename__ = "role"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80), default="")


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    # kept in the signed session cookie; a new value (sign-out, new password) ends every session of the user
    session_nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16), server_default="")

    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")

    @property
    def role_codes(self) -> set[str]:
        return {r.code for r in self.roles}

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))


class ApiToken(Base):
    """A bearer token for integrations; only its SHA-256 is stored.

    It works until ``expires_at`` (``users.issue_token``); ``last_used_at`` is written
    at most every ten minutes, so a user can tell which of their tokens are in use.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Failed sign-ins of one client for one account (``scope`` "account") or for any ("client").

    Kept in the database so every gunicorn worker sees the same count
    (``engine.desk.throttle``); rows older than an hour are forgotten.
    """

    __tablename__ = "login_throttle"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(index=True)  # old rows are deleted by this
    blocked_until: Mapped[datetime | None]


class ProcessVersion(Base):
    """One deployed version of one process key, with the files it came from.

    ``spec`` is the serialized process spec plus the specs of everything it calls;
    it is stored once here, never in each instance.
    """

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200), default="")
    files: Mapped[dict] = mapped_column(JSON, deferred=True)  # {filename: xml text}
    content_hash: Mapped[str] = mapped_column(String(64))
    spec: Mapped[str] = mapped_column(Text, deferred=True)  # read once per process, see serialization
    note: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_TEXT})
    deployed_by: Mapped[str] = mapped_column(String(80), default="system")
    deployed_at: Mapped[datetime] = mapped_column(default=now)
    status: Mapped[str] = mapped_column(String(20), default=VersionStatus.ACTIVE)


class ProcessInstance(Base):
    """A running (or finished) workflow. ``state`` is the gzip'd serialization without the spec."""

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(String(20), default=InstanceStatus.RUNNING, index=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    # the earliest due among the diagram's timers that move the flow (not an SLA mark,
    # ``runtime.sla_marks``): while it is not due, the worker wakes the instance in SQL
    flow_timer_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # firings of its timers started and not finished (``timers``): a worker killed mid-firing
    # (kill -9, out of memory) leaves it counted, and the third such attempt parks the instance
    timer_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started_by: Mapped[str] = mapped_column(String(80), default="system")
    started_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    completed_at: Mapped[datetime | None]

    version: Mapped[ProcessVersion] = relationship()


class HumanTask(Base):
    """One occurrence of a user task; the inbox reads this, never the workflow state."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_state_due", "state", "due_at"),
        # a person's tasks, and the tickets of those tasks from the index alone (access.ticket_ids)
        Index("ix_human_task_assignee_ticket", "assignee", "ticket_id"),
        # issue 12: "my tasks" (READY, assigned to me, soonest due) straight from the index
        Index("ix_human_task_state_assignee_due", "state", "assignee", "due_at"),
        # issue 12: the lead's list walks open tickets in a column's order and takes each one's
        # open task from this (READY rows only: ~1 per open ticket, not every task ever); with the
        # full ticket_id index the planner chose a parallel plan at a million tickets (15 ms → 0.3 ms)
        Index("ix_human_task_ready_ticket", "ticket_id", postgresql_where=text("state = 'READY'"),
              sqlite_where=text("state = 'READY'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(120))
    process_id: Mapped[str] = mapped_column(String(120))  # the BPMN process the task sits in
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(120))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    candidate_users: Mapped[list] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(80))  # ix_human_task_assignee_ticket
    claimed: Mapped[bool] = mapped_column(Boolean, default=False)
    form_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default=TaskState.READY)
    created_at: Mapped[datetime] = mapped_column(default=now)
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(80))

    instance: Mapped[ProcessInstance] = relationship()
    ticket: Mapped[Ticket | None] = relationship(viewonly=True)


class TicketCounter(Base):
    """The last number issued per prefix and day, for INC-20261123-0001 style numbers."""

    __tablename__ = "ticket_counter"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    """The business projection of a desk instance, rewritten after every step.

    KPIs are SQL over this table, ``sla_clock`` and ``human_task``.
    """

    __tablename__ = "ticket"
    __table_args__ = (
        # issue 12: the ticket list's filters (holder, date range); the search's
        # trigram index is PostgreSQL-only: POSTGRES_ONLY_DDL at the end of this module
        # (assignee, id) and (pm_group, id): a back-line reader's tickets come from the index
        # alone, with no visit to the rows (access.ticket_ids)
        Index("ix_ticket_assignee_id", "assignee", "id"),
        Index("ix_ticket_pm_group_id", "pm_group", "id"),  # issue 11: a project's PM reads the project's tickets
        # ix_ticket_accepted_at (the date-range filter) is issue 9's, below with its KPI indexes
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # None for a history record imported from a ledger (engine.reporting.imports): no process ran it
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="", info={"max_length": LONG_TEXT})
    reporter_name: Mapped[str] = mapped_column(String(120), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="", index=True)
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    device_model: Mapped[str] = mapped_column(String(120), default="")
    device_serial: Mapped[str] = mapped_column(String(120), default="")
    occurred_at: Mapped[datetime | None]
    category: Mapped[str] = mapped_column(String(80), default="")
    impact: Mapped[str] = mapped_column(String(10), default="")
    urgency: Mapped[str] = mapped_column(String(10), default="")
    priority: Mapped[str] = mapped_column(String(4), default="", index=True)
    project: Mapped[str] = mapped_column(String(120), default="")
    pm_group: Mapped[str] = mapped_column(String(40), default="")
    sla_calendar: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.OPEN, index=True)
    stage: Mapped[str] = mapped_column(String(300), default="")
    assignee: Mapped[str | None] = mapped_column(String(80))
    engineer: Mapped[str | None] = mapped_column(String(80))
    qualified: Mapped[bool] = mapped_column(Boolean, default=True)
    missing_fields: Mapped[list] = mapped_column(JSON, default=list)
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolved_role: Mapped[str | None] = mapped_column(String(40))
    solution: Mapped[str] = mapped_column(Text, default="", info={"max_length": LONG_TEXT})
    vendor_case: Mapped[str] = mapped_column(String(200), default="")
    satisfaction: Mapped[str | None] = mapped_column(String(30))
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="", info={"max_length": LONG_TEXT})
    to_kb: Mapped[bool] = mapped_column(Boolean, default=False)
    complaint_about: Mapped[str | None] = mapped_column(String(32))  # a complaint: the number of the ticket it is about
    chased: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # chase calls (催单) added to this ticket (issue 8)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    # The moments the desk's rules measure (001 §五–§七, 004 §3–4); KPIs read these columns.
    accepted_at: Mapped[datetime] = mapped_column(default=now)
    responded_at: Mapped[datetime | None]  # the desk took the online fix or dispatched to the PM
    handoff_at: Mapped[datetime | None]  # first handed to the back line
    returned: Mapped[int] = mapped_column(Integer, default=0)  # times sent back to the PM
    resolved_at: Mapped[datetime | None]
    callback_at: Mapped[datetime | None]
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=now)
    # the earliest due time of its running SLA clocks (desk.clocks.project): the lead's task list sorts by it
    sla_due_at: Mapped[datetime | None]
    # issue 14: the customer archive's organisation, contact and device this ticket is about
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"), index=True)
    on_duty: Mapped[str | None] = mapped_column(String(200))  # issue 10: who was on duty when it came in

    instance: Mapped[ProcessInstance | None] = relationship()
    clocks: Mapped[list[SlaClock]] = relationship(
        back_populates="ticket", order_by="SlaClock.id", cascade="all, delete-orphan", lazy="selectin"
    )
    # read once per step by the pause ending, the clocks and the next check (desk.pauses, desk.clocks);
    # loaded on first use, after the instance lock that every pause change takes
    pauses: Mapped[list[TicketPause]] = relationship(
        order_by="(TicketPause.started_at, TicketPause.id)", passive_deletes=True
    )

    def clock(self, name: str) -> SlaClock | None:
        return next((c for c in self.clocks if c.name == name), None)


class SlaClock(Base):
    """One SLA of one ticket (response, handoff, resolution, callback).

    ``breached`` is set once, either when the breach timer fires while the clock
    runs or when the clock stops late; ``warned_at`` likewise for the warning.
    """

    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("ticket_id", "name"),
        # issue 12: the ticket list's "breached" filter reads the few breached clocks only
        Index("ix_sla_clock_breached_ticket", "breached", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    minutes: Mapped[int | None]
    calendar: Mapped[str] = mapped_column(String(20), default="")
    started_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    breached_at: Mapped[datetime | None]
    # issue 10: working seconds (in this clock's calendar) spent paused; KPIs with or without pauses
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # whether a breach of this clock raises the priority (sla.dmn's ``breach_raises``, not yet
    # raised): such a breach changes the workflow and takes the full step; None: not known yet
    raises_on_breach: Mapped[bool | None]

    ticket: Mapped[Ticket] = relationship(back_populates="clocks")


class AuditEvent(Base):
    """Who did what, when, with the data they submitted."""

    __tablename__ = "audit_event"
    # the tickets a person worked on (issue 11: what the back line may read)
    __table_args__ = (Index("ix_audit_event_actor_ticket", "actor", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id", ondelete="SET NULL"))
    bpmn_id: Mapped[str | None] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Notification(Base):
    """An in-app message for one user (the bell menu)."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_read", "username", "read_at"),
        # issue 12: the bell's latest few without sorting all of a user's notifications
        Index("ix_notification_user_created", "username", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    read_at: Mapped[datetime | None]


class Draft(Base):
    """A process owner's work in progress: a bundle of files not yet deployed.

    ``files`` maps file names to their text (.bpmn, .dmn and the scenario files that
    travel with them); drafts survive restarts and keep who saved them last.
    """

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    process_key: Mapped[str | None] = mapped_column(String(120), index=True)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    files: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_TEXT})
    author: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    last_test_passed: Mapped[bool | None]
    last_test_report: Mapped[dict | None] = mapped_column(JSON)


# --- issue 9: reporting (KPI indexes, calls, scorecards) ---
# Every KPI puts a ticket in a period by one of these moments (engine.reporting.kpis); a month
# of a million tickets is an index range, not a scan.
Index("ix_ticket_accepted_at", Ticket.accepted_at)
# issue 12: the lead's list of every open task, sorted by a column of its ticket, walks one of
# these in order (only tickets not closed: those are the ones with open tasks)
OPEN_TICKET = text("status <> 'closed'")
OPEN_TICKET_SORTS = {"priority": "priority", "sla_due": "sla_due_at", "ticket_created": "accepted_at", "ticket": "number"}
for _key, _column in OPEN_TICKET_SORTS.items():
    Index(f"ix_ticket_open_{_column}", getattr(Ticket, _column), Ticket.id,
          postgresql_where=OPEN_TICKET, sqlite_where=OPEN_TICKET)
Index("ix_ticket_closed_at", Ticket.closed_at)
Index("ix_ticket_handoff_at", Ticket.handoff_at)
Index("ix_ticket_resolved_at", Ticket.resolved_at)
Index("ix_ticket_callback_at", Ticket.callback_at)


class Call(Base):
    """One telephone call to the desk, for 电话及时接听率 (answer_rate); imported from the exchange's records.

    ``answered_at`` is None for a missed call.
    """

    __tablename__ = "call"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    ring_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    agent: Mapped[str] = mapped_column(String(80), default="")
    caller: Mapped[str] = mapped_column(String(60), default="")
    imported_by: Mapped[str] = mapped_column(String(80), default="")


class ScorecardItem(Base):
    """One line of a scorecard (001 §7.3 运行指标, §7.4 客户服务指标), kept as data an admin edits.

    ``source`` says where its events come from: a KPI computed from the tickets and calls
    (``emergency_response``, ``emergency_close``, ``answer_rate``, ``timely_rate``,
    ``satisfaction``) or ``manual`` entries by the lead. ``per_event`` is taken off for
    every ``per_events`` events (报表填写: 1 per 3); ``cap`` bounds what the item can cost
    (or, for a bonus item, add).
    """

    __tablename__ = "scorecard_item"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    card: Mapped[str] = mapped_column(String(30))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    points: Mapped[float] = mapped_column(Float, default=0)
    per_event: Mapped[float] = mapped_column(Float, default=0)
    per_events: Mapped[int] = mapped_column(Integer, default=1)
    cap: Mapped[float] = mapped_column(Float, default=0)
    source: Mapped[str] = mapped_column(String(30), default="manual")
    bonus: Mapped[bool] = mapped_column(Boolean, default=False)
    rule: Mapped[str] = mapped_column(Text, default="")  # the seed's wording, shown beside the item


class ScorecardEntry(Base):
    """A deduction (or bonus) the lead entered for a manual item, with its evidence."""

    __tablename__ = "scorecard_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("scorecard_item.id", ondelete="CASCADE"), index=True)
    happened_on: Mapped[date] = mapped_column(Date, index=True)  # the local day it happened
    ticket: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[float] = mapped_column(Float)  # points this event is worth (a deduction or a bonus)
    evidence: Mapped[str] = mapped_column(Text, info={"max_length": NOTE_TEXT})
    entered_by: Mapped[str] = mapped_column(String(80))
    entered_at: Mapped[datetime] = mapped_column(default=now)

    item: Mapped[ScorecardItem] = relationship()
# --- issue 14: notes, attachments, customer archive ---


class TicketNote(Base):
    """A note on a ticket: ``internal`` ones are for staff only, the others are replies the customer sees."""

    __tablename__ = "ticket_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text, info={"max_length": LONG_TEXT})
    internal: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Attachment(Base):
    """A file kept with a ticket. The bytes live in the file store under ``sha256``, not in the row."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="file")  # file | signature
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(default=now)


class Organisation(Base):
    """A customer organisation (客户单位): the head of its archive (000 ①)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_TEXT})
    created_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)

    contacts: Mapped[list[Contact]] = relationship(order_by="Contact.id", cascade="all, delete-orphan")
    sites: Mapped[list[Site]] = relationship(order_by="Site.id", cascade="all, delete-orphan")
    devices: Mapped[list[Device]] = relationship(order_by="Device.id", cascade="all, delete-orphan")
    contracts: Mapped[list[ServiceContract]] = relationship(order_by="ServiceContract.id", cascade="all, delete-orphan")


class Contact(Base):
    """A person at a customer organisation who calls the desk or signs for work."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(60), default="", index=True)
    phone2: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(200), default="", index=True)
    role: Mapped[str] = mapped_column(String(80), default="")  # 职务, e.g. 信息科科长
    created_at: Mapped[datetime] = mapped_column(default=now)


class Site(Base):
    """A place where an organisation has equipment (a campus, a machine room)."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")


class Device(Base):
    """A device or asset the desk services: model and serial identify it on a call."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    model: Mapped[str] = mapped_column(String(120), default="")
    serial: Mapped[str] = mapped_column(String(120), default="", index=True)
    location: Mapped[str] = mapped_column(String(200), default="")
    vendor: Mapped[str] = mapped_column(String(120), default="")
    warranty_until: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=now)


class ServiceContract(Base):
    """A service contract with its SLA level (e.g. 金牌 7×24), valid between two dates."""

    __tablename__ = "service_contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(80), default="")
    sla_level: Mapped[str] = mapped_column(String(40), default="")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_TEXT})


# --- issue 14: knowledge base ---


class KbStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class KnowledgeArticle(Base):
    """A knowledge-base article (知识库): symptom, cause, solution, reviewed before it is published.

    ``search_title`` and ``search_body`` hold the text cut into words (jieba) between
    spaces, followed by the raw text, so SQL can score whole-word and substring matches.
    """

    __tablename__ = "kb_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    symptom: Mapped[str] = mapped_column(Text, default="", info={"max_length": ARTICLE_TEXT})
    cause: Mapped[str] = mapped_column(Text, default="", info={"max_length": ARTICLE_TEXT})
    solution: Mapped[str] = mapped_column(Text, default="", info={"max_length": ARTICLE_TEXT})
    category: Mapped[str] = mapped_column(String(80), default="", index=True)
    device_model: Mapped[str] = mapped_column(String(120), default="")
    tags: Mapped[str] = mapped_column(String(500), default="")  # comma-separated
    status: Mapped[str] = mapped_column(String(20), default=KbStatus.DRAFT, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    valid_until: Mapped[date | None]
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    submitted_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime] = mapped_column(default=now)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=now)
    reviewed_by: Mapped[str | None] = mapped_column(String(80))
    published_at: Mapped[datetime | None]
    search_title: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")


class KnowledgeVersion(Base):
    """One saved version of an article: what it said, who wrote it, when."""

    __tablename__ = "kb_version"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    symptom: Mapped[str] = mapped_column(Text, default="", info={"max_length": ARTICLE_TEXT})
    cause: Mapped[str] = mapped_column(Text, default="", info={"max_length": ARTICLE_TEXT})
    solution: Mapped[str] = mapped_column(Text, default="", info={"max_length": ARTICLE_TEXT})
    category: Mapped[str] = mapped_column(String(80), default="")
    device_model: Mapped[str] = mapped_column(String(120), default="")
    tags: Mapped[str] = mapped_column(String(500), default="")
    edited_by: Mapped[str] = mapped_column(String(80))
    edited_at: Mapped[datetime] = mapped_column(default=now)


class KnowledgeUse(Base):
    """An article used on a ticket (at classify or online fix): the KPIs count fixes from the knowledge base."""

    __tablename__ = "kb_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    bpmn_id: Mapped[str | None] = mapped_column(String(120))
    used_by: Mapped[str] = mapped_column(String(80))
    used_at: Mapped[datetime] = mapped_column(default=now)


# --- issue 14: on-site service record ---


class OnsiteRecord(Base):
    """运维现场服务记录单 (003): one visit to the customer's site, signed by the customer.

    The customer signs twice, as 003 asks ("签字确认2处"): to confirm the data backup
    before risky work, and at the end. Each signature is a PNG attachment (kind
    ``signature``); the signer's name (and at the end the phone) are recorded, because
    nobody may sign for the customer (禁止代签). A signed record is final.
    """

    __tablename__ = "onsite_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    engineer: Mapped[str] = mapped_column(String(80))
    arrived_at: Mapped[datetime]
    departed_at: Mapped[datetime | None]
    work_done: Mapped[str] = mapped_column(Text, default="", info={"max_length": LONG_TEXT})
    parts: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_TEXT})
    risky_work: Mapped[bool] = mapped_column(Boolean, default=False)
    backup_done: Mapped[bool] = mapped_column(Boolean, default=False)
    backup_note: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_TEXT})
    # the customer's first signature: the data was backed up before the risky work (003)
    backup_signer_name: Mapped[str] = mapped_column(String(120), default="")
    backup_signature_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id", ondelete="SET NULL"))
    backup_confirmed_at: Mapped[datetime | None]
    opinion: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_TEXT})  # 客户意见
    signer_name: Mapped[str] = mapped_column(String(120), default="")
    signer_phone: Mapped[str] = mapped_column(String(60), default="")
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)


# --- issue 14: announcements ---


class Announcement(Base):
    """A notice (公告) to customers and/or staff — planned maintenance, holidays — shown while valid."""

    __tablename__ = "announcement"
    __table_args__ = (Index("ix_announcement_valid", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="", info={"max_length": LONG_TEXT})
    audience: Mapped[str] = mapped_column(String(20), default="all")  # all | staff | customers
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=now)
# --- issue 12: who may take an open task, and saved list filters ---


class TaskCandidate(Base):
    """One role or user a READY task nobody holds is offered to, one row each, so the inbox filters by index.

    ``human_task.roles`` / ``candidate_users`` stay as the task's description (JSON
    lists cannot be indexed); these rows exist only while the task is READY and
    unassigned, so the table stays the size of the open group work, not of all history.
    They are written by one flush hook on ``HumanTask`` (``engine.runtime.tasks``), so
    every change of a task's assignee, state or candidates keeps them in step.
    """

    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_task_candidate_kind_code_due", "kind", "code", "due_at", "task_id"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "role" or "user"
    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    due_at: Mapped[datetime | None]  # the task's, so a group's inbox walks this index in due order
    # the task's ticket (None: a process without one), so a back-line reader's tickets "offered
    # to me" come from these rows alone, without joining every offered task (access.ticket_ids)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))


class SavedFilter(Base):
    """A list's filter a user keeps under a name (the query string of the list's URL)."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("username", "page", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    page: Mapped[str] = mapped_column(String(20))  # the list it filters: "tickets" or "inbox"
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_TEXT})
    created_at: Mapped[datetime] = mapped_column(default=now)


class PathStep(Base):
    """A step of an instance's path cut off its live workflow state (``runtime.archive``).

    An element of a (sub)process that completed, and the element it was reached
    from; the ticket page reads these together with the live task tree.
    """

    __tablename__ = "path_step"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True
    )
    process: Mapped[str] = mapped_column(String(120), primary_key=True)  # the spec the element ran in
    element: Mapped[str] = mapped_column(String(120), primary_key=True)
    came_from: Mapped[str] = mapped_column(String(120), primary_key=True, default="")


# The ticket search's text (issue 12): one expression, so the PostgreSQL trigram index
# below serves ``ILIKE '%…%'`` over it (Chinese substrings of 3+ characters included).
# SQLite has no such index and scans; its zero-setup mode is for small desks.
TICKET_SEARCH_TEXT = (
    "number || ' ' || title || ' ' || description || ' ' || organisation || ' ' || reporter_name || ' ' || phone"
)
POSTGRES_ONLY_DDL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS ix_ticket_search_trgm ON ticket USING gin (({TICKET_SEARCH_TEXT}) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_ticket_number_prefix ON ticket (number varchar_pattern_ops)",
)
for _statement in POSTGRES_ONLY_DDL:
    event.listen(Ticket.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))


# --- issue 15: channels (monitoring alarms, mail in, the customer portal) ---


class AlertSource(Base):
    """A monitoring system allowed to raise alarms (an Alertmanager, a Zabbix, a script).

    Only the SHA-256 of its token is stored; the token is shown once, when the source
    is added. ``organisation``, ``email`` and ``phone`` fill the ticket's contact fields:
    who runs the monitored systems, so the record is complete without a caller.
    """

    __tablename__ = "alert_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_used_at: Mapped[datetime | None]


class AlarmStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    CLOSED = "closed"  # its ticket was closed while it still fired; a new firing opens a new ticket


class Alarm(Base):
    """One fingerprint of one source and the ticket it opened: repeats are counted here, not duplicated."""

    __tablename__ = "alarm"
    __table_args__ = (Index("ix_alarm_source_fingerprint", "source_id", "fingerprint", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("alert_source.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(128))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=AlarmStatus.FIRING)
    severity: Mapped[str] = mapped_column(String(40), default="")
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    first_at: Mapped[datetime] = mapped_column(default=now)
    last_at: Mapped[datetime] = mapped_column(default=now)


class Inbound(Base):
    """One message a channel received (an alert request, a mail), and what became of it.

    The rows are what throttling counts (per sender, per window), what a replay is
    recognised by (``digest``: the body's SHA-256, a mail's Message-ID) and the
    quarantine a person looks through (``outcome`` quarantined, with ``reason``).
    """

    __tablename__ = "inbound"
    __table_args__ = (
        Index("ix_inbound_sender", "channel", "sender", "received_at"),
        Index("ix_inbound_digest", "channel", "digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(20), index=True)  # accepted / ignored / quarantined
    reason: Mapped[str] = mapped_column(String(300), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # kept only when quarantined
    received_at: Mapped[datetime] = mapped_column(default=now)


class CustomerAccount(Base):
    """A portal account: the ``User`` (role customer) a contact of the archive signs in with."""

    __tablename__ = "customer_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


# --- issue 10: outbox mail, mail templates, notification preferences ---


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a worker, SMTP under way
    SENT = "sent"
    FAILED = "failed"  # given up: too many attempts, or interrupted mid-send (never re-sent)


class OutboxMail(Base):
    """One e-mail, written in the same transaction as the change that causes it.

    The worker claims due rows, sends them over SMTP outside any lock and marks
    them sent; a failure moves ``next_attempt_at`` back by a growing delay.
    """

    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_addr: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(80))  # staff recipient; None for a customer
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)
    next_attempt_at: Mapped[datetime] = mapped_column(default=now)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class MailTemplate(Base):
    """An admin's wording for one kind of message; kinds without a row use the built-in text."""

    __tablename__ = "mail_template"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, info={"max_length": LONG_TEXT})
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=now)


class MailSettings(Base):
    """The SMTP server an admin entered on the outbox page; when it names no host, the environment's is used."""

    __tablename__ = "mail_settings"

    id: Mapped[int] = mapped_column(primary_key=True)  # one row, id 1
    host: Mapped[str] = mapped_column(String(200), default="")
    port: Mapped[int] = mapped_column(Integer, default=25)
    tls: Mapped[str] = mapped_column(String(10), default="")  # "", "starttls", "ssl"
    sender: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=now)


class NotificationPreference(Base):
    """What one staff member wants of one kind of message; no row means both channels on."""

    __tablename__ = "notification_preference"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)


class SlaEscalation(Base):
    """One warning or breach of one clock of one ticket, and whom it reached.

    The unique key is what makes each level fire exactly once, whichever worker
    or request notices it first.
    """

    __tablename__ = "sla_escalation"
    __table_args__ = (UniqueConstraint("ticket_id", "clock", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    clock: Mapped[str] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(20))  # warning / breach
    at: Mapped[datetime] = mapped_column(default=now)
    recipients: Mapped[list] = mapped_column(JSON, default=list)


# --- issue 10: the admins' calendar (working hours per season, extra closed/working days) ---


class WorkingHours(Base):
    """The business calendar's opening hours per season; no row means the built-in 08:00–17:30/18:00."""

    __tablename__ = "working_hours"

    calendar: Mapped[str] = mapped_column(String(20), primary_key=True)
    opens: Mapped[str] = mapped_column(String(5))  # "08:00", local time
    summer_closes: Mapped[str] = mapped_column(String(5))
    winter_closes: Mapped[str] = mapped_column(String(5))
    summer_start: Mapped[str] = mapped_column(String(5))  # "05-01", month-day
    summer_end: Mapped[str] = mapped_column(String(5))
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=now)


class CalendarDay(Base):
    """A day an admin declares closed or working, over the Chinese holiday calendar."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(120), default="")
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=now)


# --- issue 10: the pause ledger (挂起) and which clocks a pause stops ---


class TicketPause(Base):
    """One pause of one ticket: from, to, by whom, why, which clocks it stopped and for how long.

    ``paused_minutes`` holds, per clock, the working minutes of that clock's
    calendar between ``started_at`` and ``ended_at`` (by how much its due moved).
    """

    __tablename__ = "ticket_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(120), default="")  # the back-line step it was paused on
    reason: Mapped[str] = mapped_column(Text, info={"max_length": NOTE_TEXT})
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(80))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(80))
    clocks: Mapped[list] = mapped_column(JSON, default=list)
    paused_minutes: Mapped[dict] = mapped_column(JSON, default=dict)


class PauseRule(Base):
    """Whether a pause stops one SLA clock; clocks without a row use ``pauses.DEFAULT_STOPPED``."""

    __tablename__ = "sla_pause_rule"

    clock: Mapped[str] = mapped_column(String(30), primary_key=True)
    stops: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=now)


# --- issue 10: the duty roster (值班表) ---


class DutyShift(Base):
    """A shift of the rota: 白班 08:00–close, 夜班 close–08:00, 全天 00:00–24:00 …

    ``starts``/``ends`` are local "HH:MM" times, or "close" for the business
    calendar's closing time that day (17:30 in summer, 18:00 in winter); a shift
    that ends at or before it starts runs into the next day.
    """

    __tablename__ = "duty_shift"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    starts: Mapped[str] = mapped_column(String(5))
    ends: Mapped[str] = mapped_column(String(5))
    position: Mapped[int] = mapped_column(Integer, default=0)


class DutyAssignment(Base):
    """One person on one shift of one day; ``rostered`` keeps who was planned when a swap (顶岗) changed it."""

    __tablename__ = "duty_assignment"
    __table_args__ = (UniqueConstraint("day", "shift_code", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    shift_code: Mapped[str] = mapped_column(ForeignKey("duty_shift.code", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(80))
    rostered: Mapped[str | None] = mapped_column(String(80))
    created_by: Mapped[str] = mapped_column(String(80), default="")

    shift: Mapped[DutyShift] = relationship(lazy="joined")


class DutySwap(Base):
    """A request that someone else takes a shift (顶岗), approved or refused by a lead."""

    __tablename__ = "duty_swap"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("duty_assignment.id", ondelete="CASCADE"), index=True)
    from_user: Mapped[str] = mapped_column(String(80))
    to_user: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_TEXT})
    status: Mapped[str] = mapped_column(String(20), default="requested")  # requested / approved / refused
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(default=now)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]

    assignment: Mapped[DutyAssignment] = relationship(lazy="joined")
