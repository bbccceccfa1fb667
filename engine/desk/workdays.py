"""The admins' calendar: opening hours per season and extra closed or working days.

``calendars`` counts SLA time with the Chinese public holidays and make-up days
from the ``chinesecalendar`` package and the built-in desk hours. Admins refine
that here, in the database: the hours per season (``working_hours``) and single
days (``calendar_day``) that are closed (a company closure) or working (an
extra duty day) — and, for a year the package does not know yet (2027 in
chinesecalendar 1.11), the whole holiday list by hand, published by the State
Council each November: its holidays as closed days, its make-up Saturdays and
Sundays as working days.

``load`` puts what is stored into ``calendars.configure``; each process keeps
it for ``MAX_AGE`` seconds (``refresh``), so a change made on one server is
used by every worker within that time, and at once in the process that made it.
"""

from __future__ import annotations

import logging
import re
import threading
import time as _time
from collections.abc import Callable
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Invalid
from ..models import CalendarDay, User, WorkingHours
from . import calendars

log = logging.getLogger(__name__)

MAX_AGE = 30.0
_loaded: list = [None, 0.0]  # [database URL, monotonic time] of the last load in this process

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MMDD = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


def hours(session: Session) -> dict[str, str]:
    """The business hours as the form shows them ("08:00", "05-01"…)."""
    row = session.get(WorkingHours, "business")
    if row is not None:
        return {k: getattr(row, k) for k in ("opens", "summer_closes", "winter_closes", "summer_start", "summer_end")}
    cal = calendars.BUSINESS
    return {
        "opens": cal.opens.strftime("%H:%M"), "summer_closes": cal.summer_closes.strftime("%H:%M"),
        "winter_closes": cal.winter_closes.strftime("%H:%M"),
        "summer_start": "%02d-%02d" % cal.summer_start, "summer_end": "%02d-%02d" % cal.summer_end,
    }  # fmt: skip


def _calendar(values: dict[str, str]) -> calendars.BusinessCalendar:
    def hm(text: str) -> time:
        h, m = text.split(":")
        return time(int(h), int(m))

    def md(text: str) -> tuple[int, int]:
        m, d = text.split("-")
        return int(m), int(d)

    return calendars.BusinessCalendar(
        opens=hm(values["opens"]), summer_closes=hm(values["summer_closes"]),
        winter_closes=hm(values["winter_closes"]), summer_start=md(values["summer_start"]),
        summer_end=md(values["summer_end"]),
    )  # fmt: skip


def set_hours(session: Session, values: dict[str, str], *, user: User) -> WorkingHours:
    """Store the business hours after checking them; refused with field errors, nothing changed."""
    values = {k: (values.get(k) or "").strip() for k in ("opens", "summer_closes", "winter_closes", "summer_start",
                                                          "summer_end")}
    fields: dict[str, list[str]] = {}
    for key in ("opens", "summer_closes", "winter_closes"):
        if not _HHMM.match(values[key]):
            fields[key] = ["请填写 HH:MM 格式的时间 / a time as HH:MM"]
    for key in ("summer_start", "summer_end"):
        if not _MMDD.match(values[key]):
            fields[key] = ["请填写 MM-DD 格式的日期 / a day as MM-DD"]
    if not fields:
        for key in ("summer_closes", "winter_closes"):
            if values[key] <= values["opens"]:
                fields[key] = ["下班时间应晚于上班时间 / closing must be after opening"]
        if values["summer_end"] < values["summer_start"]:
            fields["summer_end"] = ["夏季结束应不早于开始 / summer must end after it starts"]
    if fields:
        raise Invalid("工作时间有误 / the working hours have errors", fields=fields)
    row = session.get(WorkingHours, "business") or WorkingHours(calendar="business")
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_by, row.updated_at = user.username, now()
    session.add(row)
    session.flush()
    load(session)
    return row


def days(session: Session, year: int | None = None) -> list[CalendarDay]:
    stmt = select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        stmt = stmt.where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(session.scalars(stmt))


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise Invalid("日期格式应为 YYYY-MM-DD / a date as YYYY-MM-DD",
                      fields={"day": ["日期格式应为 YYYY-MM-DD / a date as YYYY-MM-DD"]}) from None


def set_day(session: Session, day: date, working: bool, note: str = "", *, user: User) -> CalendarDay:
    """Declare one day closed (``working=False``) or working, whatever the holiday calendar says."""
    row = session.get(CalendarDay, day) or CalendarDay(day=day)
    row.working, row.note, row.updated_by, row.updated_at = bool(working), (note or "").strip()[:120], user.username, now()
    session.add(row)
    session.flush()
    load(session)
    return row


def set_days(session: Session, text: str, working: bool, note: str = "", *, user: User) -> list[CalendarDay]:
    """Many days at once, one per line or separated by commas (a year's holiday list pasted in)."""
    parts = [p for p in re.split(r"[\s,，;；]+", text or "") if p]
    if not parts:
        raise Invalid("请至少填写一个日期 / enter at least one date", fields={"days": ["必填 / required"]})
    parsed = []
    for part in parts:
        try:
            parsed.append(date.fromisoformat(part))
        except ValueError:
            raise Invalid(f"无效日期 / not a date: {part}", fields={"days": [f"无效日期 / not a date: {part}"]}) from None
    return [set_day(session, day, working, note, user=user) for day in parsed]


def remove_day(session: Session, day: date) -> None:
    row = session.get(CalendarDay, day)
    if row is not None:
        session.delete(row)
        session.flush()
    load(session)


def load(session: Session) -> None:
    """Use what admins stored for every due time computed in this process from now on."""
    row = session.get(WorkingHours, "business")
    business = _calendar(hours(session)) if row is not None else None
    extra = {d.day: d.working for d in session.scalars(select(CalendarDay))}
    calendars.configure(business=business, extra_days=extra)
    _loaded[:] = [str(session.get_bind().url), _time.monotonic()]


def refresh(session: Session, max_age: float = MAX_AGE) -> bool:
    """``load`` unless this process loaded from this same database less than ``max_age`` seconds ago."""
    url, at = _loaded
    if url == str(session.get_bind().url) and _time.monotonic() - at < max_age:
        return False
    load(session)
    return True



def forget() -> None:
    """Back to the built-in calendar until the next ``load`` (tests; a process switching databases)."""
    calendars.configure()
    _loaded[:] = [None, 0.0]


def exceptions(year: int) -> list[tuple[date, bool, str]]:
    """The year's days that differ from Monday–Friday: (day, working, source) — holidays and make-up days."""
    day, out = date(year, 1, 1), []
    while day.year == year:
        working = calendars.is_workday(day)
        if working != (day.weekday() < 5) or calendars.day_source(day) == "admin":
            out.append((day, working, calendars.day_source(day)))
        day = date.fromordinal(day.toordinal() + 1)
    return out


def keep_fresh(session_factory: Callable[[], Session], stop: threading.Event, every: float = MAX_AGE) -> None:
    """A worker process's thread: reload the admins' calendar every ``every`` seconds."""
    while not stop.is_set():
        try:
            with session_factory() as session, session.begin():
                load(session)
        except Exception:  # keep going through a database hiccup; the last calendar stays in use
            log.exception("reloading the calendar failed")
        stop.wait(every)


def start_thread(session_factory: Callable[[], Session], stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=keep_fresh, args=(session_factory, stop), name="desk-calendar", daemon=True)
    thread.start()
    return thread
