"""Report periods: whole local days in Asia/Shanghai, turned into one UTC half-open interval.

The desk compiles its figures per month, quarter, half year and year (001 §六6) and is
assessed per cycle, "当月 21 日至次月 20 日" (001 §7.1; the scorecard of §7.3 writes 19,
so the start day is a setting). A period ``from D1 to D2`` covers every instant ``t``
with ``D1 00:00:00 ≤ t < (D2 + 1 day) 00:00:00`` local time: "in the period" and "no
later than the period's end" both mean strictly before ``end``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from ..desk.tickets import LOCAL_TZ
from ..errors import Invalid

DEFAULT_CYCLE_START = 21


@dataclass(frozen=True)
class Period:
    first: date  # the first local day
    last: date  # the last local day, included
    label: str

    @property
    def start(self) -> datetime:
        """The first instant in the period, UTC."""
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first instant after the period, UTC (the bound is strict)."""
        return _midnight(self.last + timedelta(days=1))

    def to_dict(self) -> dict:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "label": self.label}


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TZ).astimezone(timezone.utc)


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _bad(field: str, value: str) -> Invalid:
    return Invalid(
        f"无法识别的期间 {value!r} / cannot read the period {value!r}",
        fields={field: ["例如 2026-10、2026-Q4、2026-H2、2026 / e.g. 2026-10, 2026-Q4, 2026-H2, 2026"]},
    )


def month(year: int, month_: int) -> Period:
    return Period(date(year, month_, 1), _month_end(year, month_), f"{year}-{month_:02d}")


def parse_period(text: str) -> Period:
    """``2026-10`` (a month), ``2026-Q4``, ``2026-H2`` or ``2026`` (a year)."""
    value = (text or "").strip().upper()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        year, number = int(m[1]), int(m[2])
        if 1 <= number <= 12:
            return month(year, number)
    elif m := re.fullmatch(r"(\d{4})-Q([1-4])", value):
        year, q = int(m[1]), int(m[2])
        return Period(date(year, 3 * q - 2, 1), _month_end(year, 3 * q), f"{year}-Q{q}")
    elif m := re.fullmatch(r"(\d{4})-H([12])", value):
        year, h = int(m[1]), int(m[2])
        return Period(date(year, 6 * h - 5, 1), _month_end(year, 6 * h), f"{year}-H{h}")
    elif m := re.fullmatch(r"(\d{4})", value):
        year = int(m[1])
        return Period(date(year, 1, 1), date(year, 12, 31), str(year))
    raise _bad("period", text)


def parse_cycle(text: str, start_day: int = DEFAULT_CYCLE_START) -> Period:
    """The assessment cycle named by the month it ends in: ``2026-11`` = 2026-10-21 … 2026-11-20.

    With start day 1 the cycle is the calendar month itself.
    """
    if not 1 <= start_day <= 28:
        raise Invalid("考核周期起始日应在 1–28 之间 / the cycle start day must be 1–28", fields={"cycle": ["1–28"]})
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", (text or "").strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise Invalid(f"无法识别的考核周期 {text!r} / cannot read the cycle {text!r}",
                      fields={"cycle": ["例如 2026-11 / e.g. 2026-11"]})
    year, number = int(m[1]), int(m[2])
    label = f"{year}-{number:02d} cycle"
    if start_day == 1:
        return Period(date(year, number, 1), _month_end(year, number), label)
    last = date(year, number, start_day) - timedelta(days=1)
    before = date(year - 1, 12, start_day) if number == 1 else date(year, number - 1, start_day)
    return Period(before, last, label)


def parse_range(first: str, last: str) -> Period:
    """``--from 2026-10-01 --to 2026-10-31``: both days included."""
    try:
        a, b = date.fromisoformat((first or "").strip()), date.fromisoformat((last or "").strip())
    except ValueError:
        raise Invalid("日期应为 YYYY-MM-DD / dates are YYYY-MM-DD",
                      fields={"from": ["YYYY-MM-DD"], "to": ["YYYY-MM-DD"]}) from None
    if b < a:
        raise Invalid("结束日期早于开始日期 / the end is before the start", fields={"to": ["≥ from"]})
    return Period(a, b, f"{a.isoformat()}..{b.isoformat()}")


def parse(
    *,
    period: str | None = None,
    cycle: str | None = None,
    first: str | None = None,
    last: str | None = None,
    cycle_start: int = DEFAULT_CYCLE_START,
    today: date | None = None,
) -> Period:
    """Whichever one of the three ways was given; the current local month when none was."""
    given = [name for name, value in (("period", period), ("cycle", cycle), ("from", first or last)) if value]
    if len(given) > 1:
        raise Invalid("只能指定一种期间 / give one kind of period", fields={name: ["one of"] for name in given})
    if cycle:
        return parse_cycle(cycle, cycle_start)
    if period:
        return parse_period(period)
    if first or last:
        return parse_range(first or "", last or "")
    day = today or datetime.now(timezone.utc).astimezone(LOCAL_TZ).date()
    return month(day.year, day.month)


def months_of(period: Period, at_least: int = 1) -> list[Period]:
    """The calendar months the period touches (the trend's buckets), at least ``at_least`` of them
    ending with the period's last month."""
    year, number = period.last.year, period.last.month
    out = []
    while True:
        bucket = month(year, number)
        if bucket.last < period.first and len(out) >= at_least:
            break
        out.append(bucket)
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return out[::-1]
