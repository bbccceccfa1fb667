"""Finding tickets: the list's filters, the text search, saved filters and the CSV export.

At a million tickets the list must never read what it does not show:

- text: ``ILIKE '%…%'`` (``LIKE`` for words without case, ``_operator``) over one
  expression (``models.TICKET_SEARCH_TEXT``) that a PostgreSQL trigram GIN index
  serves, Chinese included (substrings of three or more characters; one or two
  characters give no trigram and are found by walking the newest tickets
  backwards until a page is full). ``%`` and ``_`` typed by a person are
  literal. SQLite has no such index and scans.
- a ticket number or its prefix (``INC-202611``) is looked up by the number's
  own index, not by the text search.
- the total is counted up to ``COUNT_CAP`` only ("more than 1,000"): counting every
  match of a common word cost more than finding the page. A short page is the last
  one, and its total needs no count; a back-line reader's text search is counted
  from their own tickets (``_from_readable``), and their page, for a word PostgreSQL
  expects in many tickets, tests the text on their own tickets only (``text_is_common``).
- what the reader may read (``access.readable_clause``, issue 11) is one more
  condition of the same query, so paging stays in SQL; every caller names its
  ``reader`` (``None`` only for the CLI and benchmarks, which read everything).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from sqlalchemy import Select, bindparam, exists, func, literal_column, select, text
from sqlalchemy.orm import Session

from ..errors import Invalid, NotFound
from ..models import TICKET_SEARCH_TEXT, HumanTask, SavedFilter, SlaClock, TaskState, Ticket, User
from . import access
from .tickets import LOCAL_TZ, PREFIXES

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
COUNT_CAP = 1_000
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9998, 12, 31)  # filter days: the desk's and its ledgers'
EXPORT_MAX = 100_000
NUMBER_PREFIX = re.compile(rf"^({'|'.join(sorted(set(PREFIXES.values()) | {'TKT'}))})(-[0-9-]*)?$", re.I)
NARROW_PREFIX = len("INC-202611")  # a prefix naming a month or narrower
SEARCH_TEXT = literal_column(f"({TICKET_SEARCH_TEXT})")
BREACHED = exists().where(SlaClock.ticket_id == Ticket.id, SlaClock.breached.is_(True))


@dataclass
class Filters:
    """What a ticket list is narrowed to; every field optional. Dates are local days, both ends included."""

    q: str = ""
    status: str = ""
    type: str = ""
    priority: str = ""
    organisation: str = ""
    holder: str = ""
    breached: bool = False
    accepted_from: date | None = None
    accepted_to: date | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        """From a request's arguments (``from``/``to`` as YYYY-MM-DD); a bad date is a 422."""
        values: dict = {f.name: (args.get(f.name) or "").strip() for f in fields(cls) if f.type == "str"}
        values["breached"] = (args.get("breached") or "") in ("1", "true", "on", "yes")
        for name, key in (("accepted_from", "from"), ("accepted_to", "to")):
            raw = (args.get(key) or "").strip()
            if raw:
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError:
                    raise Invalid("日期格式应为 YYYY-MM-DD / dates are YYYY-MM-DD", fields={key: [raw]}) from None
                if not EARLIEST_DAY <= values[name] <= LATEST_DAY:  # a day's bounds must stay datetimes
                    raise Invalid(f"日期应在 {EARLIEST_DAY.year} 到 {LATEST_DAY.year} 年之间 / dates are years "
                                  f"{EARLIEST_DAY.year} to {LATEST_DAY.year}", fields={key: [raw]})
        return cls(**values)

    def query(self) -> dict[str, str]:
        """The URL arguments that give these filters back (what a saved filter stores)."""
        out = {name: getattr(self, name) for name in ("q", "status", "type", "priority", "organisation", "holder")}
        out["breached"] = "1" if self.breached else ""
        out["from"] = self.accepted_from.isoformat() if self.accepted_from else ""
        out["to"] = self.accepted_to.isoformat() if self.accepted_to else ""
        return {k: v for k, v in out.items() if v}


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(words: str) -> str:
    """The ``LIKE`` pattern for ``words`` anywhere, ``%`` and ``_`` in them literal (escaped with a backslash)."""
    return f"%{_escaped(words)}%"


def _operator(words: str) -> str:
    """``LIKE`` for words without upper or lower case (Chinese, digits), else ``ILIKE``.

    For such words the two find the same tickets, and ``ILIKE`` folds the case of every
    character of every text it tests: on Chinese text that was ~40 % of a search that
    tests many texts (a PM's 交换机 over their 16,000 tickets: 71–110 ms by ``ILIKE``,
    47–79 by ``LIKE``; docs/benchmarks.md, run 11). The trigram index serves both.
    """
    return "ILIKE" if words.lower() != words.upper() else "LIKE"


def _back_line_text_search(session: Session, filters: Filters, reader: User | None) -> bool:
    """A back-line reader's text search (not a number) on PostgreSQL: its plan needs steering."""
    return (bool(filters.q) and not NUMBER_PREFIX.match(filters.q) and reader is not None
            and not access.reads_every_ticket(reader) and session.get_bind().dialect.name == "postgresql")


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ)


def statement(filters: Filters, *, reader: User | None, common_text: bool = False) -> Select:
    """The tickets matching ``filters`` that ``reader`` may read, newest first.

    ``common_text`` (``text_is_common``): a back-line reader's tickets are joined, and the
    text is tested as a condition of that join, so on the reader's tickets only.
    """
    stmt = select(Ticket)
    readable = None
    if reader is not None and not access.reads_every_ticket(reader):
        if common_text and access.can_see_customer_data(reader):
            readable = access.ticket_ids(reader, pad=True).subquery("readable")
            stmt = stmt.join(readable, readable.c.id == Ticket.id)
        else:
            stmt = stmt.where(access.readable_clause(reader))
    for name in ("status", "type", "priority", "organisation"):
        if getattr(filters, name):
            stmt = stmt.where(getattr(Ticket, name) == getattr(filters, name))
    if filters.holder:
        stmt = stmt.where(Ticket.assignee == filters.holder)
    if filters.breached:
        stmt = stmt.where(BREACHED)
    if filters.accepted_from:
        stmt = stmt.where(Ticket.accepted_at >= _local_midnight(filters.accepted_from))
    if filters.accepted_to:
        stmt = stmt.where(Ticket.accepted_at < _local_midnight(filters.accepted_to + timedelta(days=1)))
    q = filters.q
    if q and NUMBER_PREFIX.match(q):
        stmt = stmt.where(Ticket.number.like(_escaped(q.upper()) + "%", escape="\\"))
        if len(q) >= NARROW_PREFIX:
            # a month or a day of numbers: found by the number's index and sorted, where walking every
            # ticket newest first until one matched read a million rows for an old month (600 ms)
            return stmt.order_by((Ticket.id + 0).desc())
    elif q:
        searched = SEARCH_TEXT if readable is None else SEARCH_TEXT.op("||")(readable.c.pad)
        matches = searched.like if _operator(q) == "LIKE" else searched.ilike
        stmt = stmt.where(matches(_contains(q), escape="\\"))
    return stmt.order_by(Ticket.id.desc())


COMMON_TEXT_ROWS = 10_000
"""Tickets PostgreSQL must expect a word in before a back-line search tests it on the reader's tickets only."""


def text_is_common(session: Session, filters: Filters, reader: User | None) -> bool:
    """Whether a back-line reader's text search is for a word PostgreSQL expects in many tickets.

    For such a word the planner walks the newest tickets and, merging them with the
    reader's, tests the text of every ticket it passes, the reader's or not: a PM who
    reads one open ticket in six searched 交换机 (in one ticket in ten, none of them
    the PM's) by testing 100,000 texts: 218 ms (p50) at a million tickets. Tested as a
    condition of the join instead (``statement``'s ``common_text``), only the reader's
    16,000 texts are: 74 ms (docs/benchmarks.md, run 10). A rare word is still found
    from the trigram index (2 ms), which that form gives up, so the planner's own
    estimate decides: one ``EXPLAIN``, no rows read. SQLite and the desk (who read
    every ticket) never ask.
    """
    if not _back_line_text_search(session, filters, reader):
        return False
    explain = text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM ticket WHERE ({TICKET_SEARCH_TEXT}) "
                   f"{_operator(filters.q)} :pattern ESCAPE '\\'")
    plan = session.execute(explain, {"pattern": _contains(filters.q)}).scalar()
    return plan[0]["Plan"]["Plan Rows"] >= COMMON_TEXT_ROWS


@dataclass
class TicketPage:
    rows: list[Ticket]
    total: int  # exact when ``total_exact``, else at least COUNT_CAP
    total_exact: bool
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or not self.total_exact


def find(
    session: Session, filters: Filters, *, reader: User | None, page: int = 1, per_page: int = PAGE_SIZE
) -> TicketPage:
    """One page of the matching tickets ``reader`` may read, and their count up to ``COUNT_CAP``."""
    if not 1 <= per_page <= MAX_PAGE_SIZE:
        raise Invalid(f"每页条数应在 1 到 {MAX_PAGE_SIZE} 之间 / per_page must be 1 to {MAX_PAGE_SIZE}",
                      fields={"per_page": [str(per_page)]})
    page = max(1, page)
    stmt = statement(filters, reader=reader)  # the count's form (``_from_readable`` steers its plan)
    common = text_is_common(session, filters, reader)
    paged = statement(filters, reader=reader, common_text=True) if common else stmt
    rows = list(session.scalars(paged.offset((page - 1) * per_page).limit(per_page)))
    if len(rows) < per_page and (rows or page == 1):
        total = (page - 1) * per_page + len(rows)  # a short page is the last one: no count needed
    else:
        capped = stmt.order_by(None).with_only_columns(Ticket.id).limit(COUNT_CAP + 1).subquery()
        with _from_readable(session, reader, filters):
            total = session.scalar(select(func.count()).select_from(capped)) or 0
    return TicketPage(rows, min(total, COUNT_CAP), total <= COUNT_CAP, page, per_page)


# the join methods that start from the text index's matches rather than from the reader's tickets
_WHOLE_TABLE_JOINS = ("enable_hashjoin", "enable_mergejoin")


@contextmanager
def _from_readable(session: Session, reader: User | None, filters: Filters) -> Iterator[None]:
    """For a back-line reader's text search on PostgreSQL, count by walking the reader's own tickets.

    Left to itself the planner counted an engineer's hits for a common word (交换机, in
    one ticket in ten) by taking every match from the trigram index and joining
    the engineer's tickets to them: 103,000 rows read to find 1,001, 280–340 ms at a
    million tickets, growing with the table. Checking each of the reader's tickets
    by its key instead (a nested loop) costs what they read: 26–89 ms there, and
    16–32 ms where the word is rare (against 1 ms). Only this count is steered,
    and the planner's defaults come back for the rest of the transaction.
    """
    steer = _back_line_text_search(session, filters, reader)
    if steer:
        session.execute(select(*(func.set_config(name, "off", True) for name in _WHOLE_TABLE_JOINS)))
    yield
    if steer:  # (after an error the transaction is rolled back, and SET LOCAL with it)
        session.execute(text("SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name IN :names")
                        .bindparams(bindparam("names", _WHOLE_TABLE_JOINS, expanding=True)))


@dataclass
class Step:
    """An open step of a ticket, for the list's "current step" and "holder" columns."""

    name: str
    assignee: str | None
    roles: list[str]
    bpmn_id: str | None = None  # so a page can name the step in its language


def current_steps(session: Session, ticket_ids: list[int]) -> dict[int, list[Step]]:
    """The READY tasks of these tickets, one query for a whole page."""
    if not ticket_ids:
        return {}
    stmt = (
        select(HumanTask.ticket_id, HumanTask.name, HumanTask.assignee, HumanTask.roles, HumanTask.bpmn_id)
        .where(HumanTask.ticket_id.in_(ticket_ids), HumanTask.state == TaskState.READY)
        .order_by(HumanTask.id)
    )
    steps: dict[int, list[Step]] = {}
    for ticket_id, name, assignee, roles, bpmn_id in session.execute(stmt):
        steps.setdefault(ticket_id, []).append(Step(name, assignee, list(roles or []), bpmn_id))
    return steps


def sla_state(ticket: Ticket, at: datetime) -> str:
    """The ticket's SLA at a glance: "breached", "near" (a quarter left), "running", "met" or "none"."""
    clocks = ticket.clocks
    if any(c.breached or (c.due_at and c.stopped_at is None and at > c.due_at) for c in clocks):
        return "breached"
    running = [c for c in clocks if c.due_at and c.stopped_at is None]
    for c in running:
        total = (c.due_at - c.started_at).total_seconds() if c.started_at else 0
        if total > 0 and (c.due_at - at).total_seconds() <= total / 4:
            return "near"
    if running:
        return "running"
    return "met" if clocks else "none"


EXPORT_COLUMNS = (
    "number", "type", "status", "priority", "title", "organisation", "reporter_name", "phone", "category",
    "stage", "assignee", "accepted_at", "resolved_at", "closed_at", "breached",
)  # fmt: skip


def export_rows(
    session: Session, filters: Filters, *, reader: User | None, limit: int = EXPORT_MAX
) -> Iterator[dict]:
    """The matching tickets ``reader`` may read as plain values (times in local time), streamed in chunks, at most ``limit``."""
    columns = [getattr(Ticket, name) for name in EXPORT_COLUMNS if name != "breached"]
    stmt = statement(filters, reader=reader).with_only_columns(*columns, BREACHED.label("breached")).limit(limit)
    for row in session.execute(stmt.execution_options(yield_per=1000)):
        values = dict(row._mapping)
        for name, value in values.items():
            if isinstance(value, datetime):
                values[name] = value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
        yield values


# --- saved filters ---------------------------------------------------------------------------


def saved_filters(session: Session, username: str, page: str) -> list[SavedFilter]:
    stmt = select(SavedFilter).where(SavedFilter.username == username, SavedFilter.page == page)
    return list(session.scalars(stmt.order_by(SavedFilter.name)))


def save_filter(session: Session, username: str, page: str, name: str, query: dict[str, str]) -> SavedFilter:
    """Keep ``query`` under ``name`` for this user and list; the same name again replaces it."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise Invalid("请填写 1 到 80 个字的名称 / give a name of 1 to 80 characters", fields={"name": [name]})
    row = session.scalars(
        select(SavedFilter).where(SavedFilter.username == username, SavedFilter.page == page, SavedFilter.name == name)
    ).first()
    if row is None:
        row = SavedFilter(username=username, page=page, name=name)
        session.add(row)
    row.query = urlencode(query)
    session.flush()
    return row


def delete_filter(session: Session, username: str, filter_id: int) -> None:
    row = session.get(SavedFilter, filter_id)
    if row is None or row.username != username:
        raise NotFound(f"筛选 {filter_id} 不存在 / no saved filter {filter_id}")
    session.delete(row)
