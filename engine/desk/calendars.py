"""Working-time calendars for SLA targets.

An SLA target reads "N minutes in calendar C": a P1 incident may get 240 minutes
on the ``"24x7"`` calendar (wall-clock time), a service request 1440 minutes on
the ``"business"`` calendar (only time when the desk is staffed counts). The
engine needs two operations on such a calendar:

* :func:`add_minutes` — when is a target due, if the clock starts at ``start``?
* :func:`working_minutes` — how many working minutes passed between two
  instants (the "elapsed" figure on a running clock and in KPI reports)?

The two are inverses: ``working_minutes(s, add_minutes(s, m, c), c) == m``.

The business calendar is the Shanghai office's: 08:00–17:30 local time from
1 May to 30 September ("summer"), 08:00–18:00 from 1 October to 30 April
("winter"), no lunch break. Which days are working days comes from the
``chinese_calendar`` package, which knows the public holidays *and* the
make-up working days (调休) that the State Council publishes each year — e.g.
National Day 2026 (1–7 October) is off, and Saturday 10 October 2026 is a
working day. For a year the package has no data for, we fall back to
Monday–Friday (see :func:`is_workday`).

All arithmetic is done on UTC instants with exact ``timedelta`` values, walking
one working period (one day) at a time, so a three-day target costs a handful
of loop iterations rather than thousands of minute steps.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "CALENDARS",
    "BusinessCalendar",
    "BUSINESS",
    "add_minutes",
    "working_minutes",
    "is_workday",
]

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class BusinessCalendar:
    """When the desk is staffed: opening hours per season, in a local time zone.

    Hours are local wall-clock times in ``tz``; a working period is converted to
    UTC before any arithmetic, so a zone with daylight-saving time still gets
    the right length of day. Summer runs from ``summer_start`` to
    ``summer_end`` inclusive, given as ``(month, day)``; every other date is
    winter. Working *days* always come from :func:`is_workday` (the Chinese
    public-holiday calendar), whatever ``tz`` is.
    """

    tz: ZoneInfo = SHANGHAI
    opens: time = time(8, 0)
    summer_closes: time = time(17, 30)
    winter_closes: time = time(18, 0)
    summer_start: tuple[int, int] = (5, 1)
    summer_end: tuple[int, int] = (9, 30)

    def __post_init__(self) -> None:
        # A period that ends before it starts would make the day walk silently
        # skip every day; refuse it where the calendar is defined instead.
        for closes in (self.summer_closes, self.winter_closes):
            if closes <= self.opens:
                raise ValueError(f"closing time {closes} must be after opening time {self.opens}")

    def closes_on(self, day: date) -> time:
        """Closing time on ``day``: summer hours from summer_start to summer_end."""
        if self.summer_start <= (day.month, day.day) <= self.summer_end:
            return self.summer_closes
        return self.winter_closes


BUSINESS = BusinessCalendar()

# Name -> definition; None means wall-clock time (no calendar at all).
_BY_NAME: dict[str, BusinessCalendar | None] = {
    "24x7": None,
    "business": BUSINESS,
}

#: The calendar names an SLA definition may use.
CALENDARS: tuple[str, ...] = tuple(_BY_NAME)

# Extra closed (False) and working (True) days on top of chinese_calendar, entered by
# an admin (see ``workdays``): a company closure, a holiday list for a year the
# package does not know yet. Set only through ``configure``.
_extra_days: dict[date, bool] = {}


def configure(*, business: BusinessCalendar | None = None, extra_days: dict[date, bool] | None = None) -> None:
    """Replace the business hours and the extra days (None: the built-in ones) and forget cached days.

    ``workdays.load`` calls this with what admins stored; every due time
    computed afterwards in this process uses it.
    """
    global _extra_days
    _BY_NAME["business"] = business or BUSINESS
    _extra_days = dict(extra_days or {})
    is_workday.cache_clear()
    _working_period.cache_clear()


def settings() -> tuple[BusinessCalendar, dict[date, bool]]:
    """The business hours and extra days in force (what ``configure`` set), to hand to another process."""
    return _BY_NAME["business"], _extra_days


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China.

    Uses ``chinese_calendar.is_workday``, which accounts for public holidays and
    for weekend days that are declared working days to make up for them (调休).

    Fallback: ``chinese_calendar`` only has data for the years it was released
    with (1.11 covers 2004–2026) and raises ``NotImplementedError`` for any
    other year. For such a year we treat Monday–Friday as working days and
    Saturday/Sunday as off, ignoring holidays we cannot know — targets then run
    a little early around holidays rather than the engine failing. A warning is
    logged once per such year; upgrading the package removes it.

    Cached per date: the engine asks about the same few days for every ticket.
    """
    if day in _extra_days:  # an admin's closed or working day (``workdays``) wins
        return _extra_days[day]
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


def day_source(day: date) -> str:
    """Where a day's status comes from: "admin" (an extra day), "package" (chinese_calendar) or "weekday"."""
    if day in _extra_days:
        return "admin"
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return "weekday"
    return "package"


@lru_cache(maxsize=None)
def _warn_unknown_year(year: int) -> None:
    if any(day.year == year for day in _extra_days):
        return  # an admin entered this year's days by hand
    # Cached so the warning appears once per year per process, not per ticket.
    log.warning(
        "chinese_calendar has no holiday data for %d; treating Monday-Friday as "
        "working days. Upgrade the chinesecalendar package.",
        year,
    )


@lru_cache(maxsize=4096)
def _working_period(cal: BusinessCalendar, day: date) -> tuple[datetime, datetime] | None:
    """The UTC (open, close) of ``day`` in ``cal``, or None if it is not a working day."""
    if not is_workday(day):
        return None
    opens = datetime.combine(day, cal.opens, tzinfo=cal.tz).astimezone(timezone.utc)
    closes = datetime.combine(day, cal.closes_on(day), tzinfo=cal.tz).astimezone(timezone.utc)
    return opens, closes


def _resolve(calendar: str | BusinessCalendar) -> BusinessCalendar | None:
    """Look a calendar name up; a BusinessCalendar instance is used as is."""
    if isinstance(calendar, BusinessCalendar):
        return calendar
    try:
        return _BY_NAME[calendar]
    except (KeyError, TypeError):
        known = ", ".join(repr(n) for n in CALENDARS)
        raise ValueError(f"unknown calendar {calendar!r}; known calendars: {known}") from None


def _as_utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; a naive datetime is refused, since its instant is unknown."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(timezone.utc)


def _duration(minutes: float) -> timedelta:
    """``minutes`` as an exact timedelta (rounded to the microsecond)."""
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
        raise ValueError(f"minutes must be a number, not {type(minutes).__name__}")
    if not math.isfinite(minutes):
        raise ValueError(f"minutes must be finite, got {minutes}")
    if minutes < 0:
        raise ValueError(f"minutes must not be negative, got {minutes}")
    return timedelta(minutes=minutes)


def add_minutes(start: datetime, minutes: float, calendar: str | BusinessCalendar) -> datetime:
    """The instant at which ``minutes`` working minutes of ``calendar`` have passed since ``start``.

    This is how an SLA due time is computed. ``start`` must be timezone-aware
    (any zone); the result is timezone-aware UTC, exact to the microsecond, so
    fractional targets such as 0.75 × 15 = 11.25 minutes come out as 11 min 15 s.

    ``"24x7"`` is plain addition. ``"business"`` (or a :class:`BusinessCalendar`)
    counts only working hours on working days:

    * a start outside working hours (before opening, after closing, on a weekend
      or holiday) starts counting at the next opening — so zero minutes from
      outside hours gives that opening time;
    * a due time that falls exactly at closing stays at closing (17:30 or
      18:00); it does not roll over to the next morning.

    Raises ValueError for an unknown calendar name, negative or non-finite
    minutes, or a naive datetime.
    """
    cal = _resolve(calendar)
    remaining = _duration(minutes)
    cursor = _as_utc(start, "start")
    if cal is None:
        return cursor + remaining

    day = cursor.astimezone(cal.tz).date()
    while True:
        period = _working_period(cal, day)
        if period is not None:
            opens, closes = period
            if cursor < opens:
                cursor = opens
            # `<=`: a start at closing time with nothing left to count stays there.
            if cursor <= closes:
                available = closes - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
                cursor = closes
        day += _ONE_DAY


def is_working_time(at: datetime, calendar: str | BusinessCalendar = "business") -> bool:
    """Whether ``at`` falls in a working period of ``calendar`` (always, for 24x7): in hours or out of hours."""
    cal = _resolve(calendar)
    if cal is None:
        return True
    moment = _as_utc(at, "at")
    period = _working_period(cal, moment.astimezone(cal.tz).date())
    return period is not None and period[0] <= moment < period[1]


def closing_time(day: date) -> time:
    """The business calendar's closing time on ``day`` (its season's), whether or not it is a working day."""
    cal = _resolve("business")
    return cal.closes_on(day)


def working_minutes(start: datetime, end: datetime, calendar: str | BusinessCalendar) -> float:
    """Working minutes of ``calendar`` between ``start`` and ``end``; 0 if ``end <= start``.

    This is the "elapsed" figure of an SLA clock and of KPI reports, and the
    inverse of :func:`add_minutes`. Both datetimes must be timezone-aware (any
    zones). For ``"24x7"`` it is the plain difference; for ``"business"`` only
    the overlap with working periods on working days counts.

    Raises ValueError for an unknown calendar name or a naive datetime.
    """
    cal = _resolve(calendar)
    lo = _as_utc(start, "start")
    hi = _as_utc(end, "end")
    if hi <= lo:
        return 0.0
    if cal is None:
        return (hi - lo) / _ONE_MINUTE

    total = timedelta(0)
    day = lo.astimezone(cal.tz).date()
    last = hi.astimezone(cal.tz).date()
    while day <= last:
        period = _working_period(cal, day)
        if period is not None:
            opens, closes = period
            overlap = min(hi, closes) - max(lo, opens)
            if overlap > timedelta(0):
                total += overlap
        day += _ONE_DAY
    return total / _ONE_MINUTE
