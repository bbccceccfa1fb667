"""Tests for engine.desk.calendars: SLA due times and elapsed working minutes.

Every expected value is written out by hand. Facts about the 2026 Chinese
calendar used below (as published, and as chinesecalendar 1.11 reports them):

* Spring Festival: 15–23 Feb off; Sat 14 Feb and Sat 28 Feb are make-up working days.
* Labour Day: 1–5 May off; Sat 9 May is a make-up working day.
* Mid-Autumn: Fri 25 Sep – Sun 27 Sep off; Sun 20 Sep is a make-up working day.
* National Day: 1–7 Oct off; Sat 10 Oct is a make-up working day.

Winter hours (1 Oct – 30 Apr) are 08:00–18:00 = 600 min/day; summer hours
(1 May – 30 Sep) are 08:00–17:30 = 570 min/day.
"""

import logging
import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.desk.calendars import (
    BUSINESS,
    CALENDARS,
    BusinessCalendar,
    add_minutes,
    is_workday,
    working_minutes,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def sh(*args: int) -> datetime:
    """A Shanghai-local aware datetime."""
    return datetime(*args, tzinfo=SHANGHAI)


def test_known_calendar_names():
    assert set(CALENDARS) == {"24x7", "business"}


def test_default_business_calendar_is_shanghai():
    assert BUSINESS.tz == SHANGHAI


# --------------------------------------------------------------------------- 24x7


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # across midnight
        (sh(2026, 3, 10, 23, 50), 30, sh(2026, 3, 11, 0, 20)),
        # across a weekend and a holiday: 24x7 ignores both
        (sh(2026, 10, 1, 10, 0), 1440, sh(2026, 10, 2, 10, 0)),
        # across the year end, start given in UTC
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), 120, datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),
        # fractional
        (sh(2026, 3, 10, 10, 0), 11.25, sh(2026, 3, 10, 10, 11, 15)),
        (sh(2026, 3, 10, 10, 0), 0, sh(2026, 3, 10, 10, 0)),
    ],
)
def test_24x7_is_plain_addition(start, minutes, expected):
    due = add_minutes(start, minutes, "24x7")
    assert due == expected
    assert due.tzinfo is UTC


def test_24x7_working_minutes_is_plain_difference():
    assert working_minutes(sh(2026, 3, 10, 23, 50), sh(2026, 3, 11, 0, 20), "24x7") == 30
    assert working_minutes(sh(2026, 10, 1, 0, 0), sh(2026, 10, 8, 0, 0), "24x7") == 7 * 1440


# ----------------------------------------------------------------------- business


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # inside hours, same day (Tue, winter)
        pytest.param(sh(2026, 3, 10, 10, 0), 60, sh(2026, 3, 10, 11, 0), id="inside-hours"),
        # 60 min left on Tue, the other 60 on Wed
        pytest.param(sh(2026, 3, 10, 17, 0), 120, sh(2026, 3, 11, 9, 0), id="inside-hours-overnight"),
        pytest.param(sh(2026, 3, 10, 6, 0), 30, sh(2026, 3, 10, 8, 30), id="before-opening"),
        pytest.param(sh(2026, 3, 10, 0, 0), 30, sh(2026, 3, 10, 8, 30), id="at-midnight"),
        pytest.param(sh(2026, 3, 10, 19, 0), 30, sh(2026, 3, 11, 8, 30), id="after-closing"),
        pytest.param(sh(2026, 3, 13, 18, 30), 30, sh(2026, 3, 16, 8, 30), id="friday-evening"),
        pytest.param(sh(2026, 3, 14, 10, 0), 30, sh(2026, 3, 16, 8, 30), id="saturday"),
        pytest.param(sh(2026, 3, 15, 23, 59), 30, sh(2026, 3, 16, 8, 30), id="sunday-night"),
        # National Day: Thu 1 Oct .. Wed 7 Oct off, Thu 8 Oct is the next working day
        pytest.param(sh(2026, 10, 1, 10, 0), 30, sh(2026, 10, 8, 8, 30), id="national-day"),
        pytest.param(sh(2026, 10, 5, 9, 0), 30, sh(2026, 10, 8, 8, 30), id="national-day-monday"),
        # Spring Festival: Mon 16 Feb is off, first working day after is Tue 24 Feb
        pytest.param(sh(2026, 2, 16, 10, 0), 30, sh(2026, 2, 24, 8, 30), id="spring-festival"),
        # Fri 13 Feb: 60 min left; Sat 14 Feb is a make-up working day
        pytest.param(sh(2026, 2, 13, 17, 0), 120, sh(2026, 2, 14, 9, 0), id="into-makeup-saturday"),
        # make-up working days themselves count
        pytest.param(sh(2026, 10, 10, 9, 0), 60, sh(2026, 10, 10, 10, 0), id="makeup-saturday-oct"),
        pytest.param(sh(2026, 2, 28, 7, 0), 60, sh(2026, 2, 28, 9, 0), id="makeup-saturday-feb"),
        pytest.param(sh(2026, 9, 20, 8, 0), 60, sh(2026, 9, 20, 9, 0), id="makeup-sunday-sep"),
        pytest.param(sh(2026, 1, 4, 12, 0), 15, sh(2026, 1, 4, 12, 15), id="makeup-sunday-jan"),
        # Fri 9 Oct 2026, 17:00: 60 min left, then Sat 10 Oct (make-up) from 08:00
        pytest.param(sh(2026, 10, 9, 17, 0), 90, sh(2026, 10, 10, 8, 30), id="friday-into-makeup-saturday"),
        # Mid-Autumn: Fri 25 Sep off, so Thu 24 Sep 17:00 (+30 summer) -> Mon 28 Sep
        pytest.param(sh(2026, 9, 24, 17, 0), 60, sh(2026, 9, 28, 8, 30), id="mid-autumn"),
    ],
)
def test_business_add_minutes(start, minutes, expected):
    due = add_minutes(start, minutes, "business")
    assert due == expected
    assert due.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # Wed 30 Sep (summer, closes 17:30): 30 min; 1–7 Oct off; Thu 8 Oct 08:30
        pytest.param(sh(2026, 9, 30, 17, 0), 60, sh(2026, 10, 8, 8, 30), id="30-sep-to-8-oct"),
        # 30 + a whole winter day of 600 -> exactly closing time on 8 Oct, 18:00
        pytest.param(sh(2026, 9, 30, 17, 0), 630, sh(2026, 10, 8, 18, 0), id="winter-day-is-600"),
        pytest.param(sh(2026, 9, 30, 17, 0), 631, sh(2026, 10, 9, 8, 1), id="one-more-minute"),
        # Thu 30 Apr (winter, closes 18:00): 15 min; 1–5 May off; Wed 6 May
        pytest.param(sh(2026, 4, 30, 17, 45), 30, sh(2026, 5, 6, 8, 15), id="30-apr-to-6-may"),
        # 15 + a whole summer day of 570 -> 17:30 on 6 May
        pytest.param(sh(2026, 4, 30, 17, 45), 585, sh(2026, 5, 6, 17, 30), id="summer-day-is-570"),
        # Labour Day make-up: Fri 8 May 17:00 (30 left), Sat 9 May working
        pytest.param(sh(2026, 5, 8, 17, 0), 60, sh(2026, 5, 9, 8, 30), id="labour-day-makeup"),
    ],
)
def test_business_season_boundaries(start, minutes, expected):
    assert add_minutes(start, minutes, "business") == expected


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # winter: lands at 18:00 and stays there
        pytest.param(sh(2026, 3, 10, 17, 0), 60, sh(2026, 3, 10, 18, 0), id="winter-close"),
        pytest.param(sh(2026, 3, 10, 8, 0), 600, sh(2026, 3, 10, 18, 0), id="winter-full-day"),
        # summer: lands at 17:30 and stays there
        pytest.param(sh(2026, 7, 1, 17, 0), 30, sh(2026, 7, 1, 17, 30), id="summer-close"),
        pytest.param(sh(2026, 7, 1, 8, 0), 570, sh(2026, 7, 1, 17, 30), id="summer-full-day"),
        # started before opening, one full day -> closing of that same day
        pytest.param(sh(2026, 7, 1, 6, 0), 570, sh(2026, 7, 1, 17, 30), id="summer-from-early"),
        # Friday close stays Friday, does not jump to Monday
        pytest.param(sh(2026, 3, 13, 17, 0), 60, sh(2026, 3, 13, 18, 0), id="friday-close"),
    ],
)
def test_due_exactly_at_closing_stays_at_closing(start, minutes, expected):
    assert add_minutes(start, minutes, "business") == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(sh(2026, 3, 10, 10, 0), sh(2026, 3, 10, 10, 0), id="inside"),
        pytest.param(sh(2026, 3, 10, 8, 0), sh(2026, 3, 10, 8, 0), id="at-opening"),
        pytest.param(sh(2026, 3, 10, 18, 0), sh(2026, 3, 10, 18, 0), id="at-closing"),
        pytest.param(sh(2026, 3, 10, 6, 0), sh(2026, 3, 10, 8, 0), id="before-opening"),
        pytest.param(sh(2026, 3, 10, 18, 1), sh(2026, 3, 11, 8, 0), id="after-closing"),
        pytest.param(sh(2026, 3, 14, 10, 0), sh(2026, 3, 16, 8, 0), id="saturday"),
        pytest.param(sh(2026, 10, 3, 10, 0), sh(2026, 10, 8, 8, 0), id="holiday"),
    ],
)
def test_zero_minutes(start, expected):
    assert add_minutes(start, 0, "business") == expected


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # 0.75 x 15
        pytest.param(sh(2026, 3, 10, 10, 0), 11.25, sh(2026, 3, 10, 10, 11, 15), id="11.25"),
        pytest.param(sh(2026, 3, 10, 10, 0), 0.5, sh(2026, 3, 10, 10, 0, 30), id="half"),
        pytest.param(sh(2026, 3, 10, 10, 0), 1 / 3, sh(2026, 3, 10, 10, 0, 20), id="third"),
        pytest.param(sh(2026, 3, 10, 10, 0), 0.001, sh(2026, 3, 10, 10, 0, 0, 60000), id="milli"),
        # 30 s left on Tue, 60 s on Wed
        pytest.param(sh(2026, 3, 10, 17, 59, 30), 1.5, sh(2026, 3, 11, 8, 1), id="across-night"),
        # start with seconds, outside hours: seconds are dropped at the next opening
        pytest.param(sh(2026, 3, 10, 18, 20, 45), 2.25, sh(2026, 3, 11, 8, 2, 15), id="outside-secs"),
    ],
)
def test_fractional_minutes(start, minutes, expected):
    assert add_minutes(start, minutes, "business") == expected


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # Wed 10:00: 480 Wed + 600 Thu = 1080, 360 left -> Fri 14:00
        pytest.param(sh(2026, 3, 11, 10, 0), 1440, sh(2026, 3, 13, 14, 0), id="winter-1440"),
        # Fri 10:00: 480 Fri + 600 Mon + 600 Tue = 1680, 120 left -> Wed 10:00
        pytest.param(sh(2026, 3, 13, 10, 0), 1800, sh(2026, 3, 18, 10, 0), id="over-weekend"),
        # Mon 08:00 summer: 570 Mon + 570 Tue = 1140, 300 left -> Wed 13:00
        pytest.param(sh(2026, 7, 6, 8, 0), 1440, sh(2026, 7, 8, 13, 0), id="summer-1440"),
        # Tue 29 Sep 17:00 (30) + Wed 30 Sep (570) = 600; 1–7 Oct off;
        # Thu 8 Oct (600) = 1200; 240 left -> Fri 9 Oct 12:00
        pytest.param(sh(2026, 9, 29, 17, 0), 1440, sh(2026, 10, 9, 12, 0), id="over-national-day"),
        # Fri 13 Feb 10:00: 480 Fri + 600 Sat 14 (make-up) = 1080; 15–23 off;
        # 360 left -> Tue 24 Feb 14:00
        pytest.param(sh(2026, 2, 13, 10, 0), 1440, sh(2026, 2, 24, 14, 0), id="over-spring-festival"),
    ],
)
def test_long_spans(start, minutes, expected):
    assert add_minutes(start, minutes, "business") == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # 01:00 UTC = 09:00 Shanghai
        (datetime(2026, 3, 10, 1, 0, tzinfo=UTC), datetime(2026, 3, 10, 1, 30, tzinfo=UTC)),
        # Mon 9 Mar 21:00 New York (EDT from 8 Mar, UTC-4) = Tue 10 Mar 09:00 Shanghai
        (
            datetime(2026, 3, 9, 21, 0, tzinfo=ZoneInfo("America/New_York")),
            datetime(2026, 3, 10, 1, 30, tzinfo=UTC),
        ),
        # Fri 13 Mar 10:30 UTC = 18:30 Shanghai, after closing -> Mon 08:30 = 00:30 UTC
        (datetime(2026, 3, 13, 10, 30, tzinfo=UTC), datetime(2026, 3, 16, 0, 30, tzinfo=UTC)),
    ],
)
def test_start_in_other_time_zones(start, expected):
    due = add_minutes(start, 30, "business")
    assert due == expected
    assert due.tzinfo is UTC


def test_custom_time_zone_with_daylight_saving():
    berlin = ZoneInfo("Europe/Berlin")
    cal = BusinessCalendar(tz=berlin)
    # Fri 27 Mar 17:30 CET: 30 min left; weekend (DST starts Sun 29 Mar); Mon 08:30 CEST
    due = add_minutes(datetime(2026, 3, 27, 17, 30, tzinfo=berlin), 60, cal)
    assert due == datetime(2026, 3, 30, 8, 30, tzinfo=berlin)
    assert due == datetime(2026, 3, 30, 6, 30, tzinfo=UTC)


# ------------------------------------------------------------------ working_minutes


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(sh(2026, 3, 10, 10, 0), sh(2026, 3, 10, 11, 0), 60, id="same-day"),
        pytest.param(sh(2026, 3, 10, 17, 0), sh(2026, 3, 11, 9, 0), 120, id="overnight"),
        pytest.param(sh(2026, 3, 10, 6, 0), sh(2026, 3, 10, 7, 0), 0, id="before-opening"),
        pytest.param(sh(2026, 3, 14, 0, 0), sh(2026, 3, 16, 0, 0), 0, id="weekend"),
        pytest.param(sh(2026, 3, 10, 0, 0), sh(2026, 3, 11, 0, 0), 600, id="winter-day"),
        pytest.param(sh(2026, 7, 1, 0, 0), sh(2026, 7, 2, 0, 0), 570, id="summer-day"),
        pytest.param(sh(2026, 9, 30, 17, 0), sh(2026, 10, 8, 8, 30), 60, id="national-day"),
        pytest.param(sh(2026, 10, 1, 0, 0), sh(2026, 10, 8, 0, 0), 0, id="holiday-week"),
        # Sat 10 Oct is a make-up working day
        pytest.param(sh(2026, 10, 10, 0, 0), sh(2026, 10, 11, 0, 0), 600, id="makeup-saturday"),
        # Mon 9 Mar 00:00 .. Mon 16 Mar 00:00: five winter days
        pytest.param(sh(2026, 3, 9, 0, 0), sh(2026, 3, 16, 0, 0), 3000, id="week"),
        pytest.param(sh(2026, 3, 10, 10, 0), sh(2026, 3, 10, 10, 11, 15), 11.25, id="fractional"),
        pytest.param(sh(2026, 3, 10, 11, 0), sh(2026, 3, 10, 10, 0), 0, id="end-before-start"),
        pytest.param(sh(2026, 3, 10, 11, 0), sh(2026, 3, 10, 11, 0), 0, id="equal"),
        # mixed zones: 01:00 UTC = 09:00 Shanghai
        pytest.param(datetime(2026, 3, 10, 1, 0, tzinfo=UTC), sh(2026, 3, 10, 10, 0), 60, id="mixed-tz"),
    ],
)
def test_business_working_minutes(start, end, expected):
    assert working_minutes(start, end, "business") == expected


def test_working_minutes_returns_float():
    assert isinstance(working_minutes(sh(2026, 3, 10, 10, 0), sh(2026, 3, 10, 11, 0), "business"), float)
    assert isinstance(working_minutes(sh(2026, 3, 10, 11, 0), sh(2026, 3, 10, 10, 0), "24x7"), float)


@pytest.mark.parametrize("calendar", CALENDARS)
def test_working_minutes_inverts_add_minutes(calendar):
    rng = random.Random(20260101)
    base = sh(2025, 1, 1, 0, 0)
    for _ in range(500):
        start = base + timedelta(seconds=rng.randrange(2 * 365 * 86400))
        minutes = rng.choice([0, rng.randrange(1, 600), rng.uniform(0, 5000), rng.randrange(600, 6000) / 4])
        due = add_minutes(start, minutes, calendar)
        assert due >= start
        assert working_minutes(start, due, calendar) == pytest.approx(minutes, abs=1e-6), (start, minutes, due)
        if calendar == "business":
            local = due.astimezone(SHANGHAI)
            assert is_workday(local.date())
            assert "08:00" <= local.strftime("%H:%M") <= "18:00"


# ---------------------------------------------------------------- unknown years


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # Mon 1 Jan 2035 would be New Year's Day, but the package has no 2035
        # data, so it is an ordinary Monday
        pytest.param(sh(2035, 1, 1, 10, 0), 30, sh(2035, 1, 1, 10, 30), id="new-year-is-monday"),
        # Fri 5 Jan 17:30: 30 min left; Sat/Sun off; Mon 8 Jan 08:30
        pytest.param(sh(2035, 1, 5, 17, 30), 60, sh(2035, 1, 8, 8, 30), id="friday-to-monday"),
        pytest.param(sh(2035, 1, 6, 10, 0), 30, sh(2035, 1, 8, 8, 30), id="saturday"),
        # summer hours still apply: Mon 2 Jul 2035 closes 17:30
        pytest.param(sh(2035, 7, 2, 17, 0), 60, sh(2035, 7, 3, 8, 30), id="summer"),
    ],
)
def test_unknown_year_falls_back_to_monday_to_friday(start, minutes, expected):
    assert add_minutes(start, minutes, "business") == expected


def test_unknown_year_working_minutes():
    # Mon 5 Feb 2035 .. Mon 12 Feb 2035: five winter days, no holidays known
    assert working_minutes(sh(2035, 2, 5, 0, 0), sh(2035, 2, 12, 0, 0), "business") == 3000
    assert is_workday(date(2035, 2, 10)) is False  # Saturday
    assert is_workday(date(2035, 2, 12)) is True  # Monday


def test_unknown_year_logs_a_warning(caplog):
    # once per year per process: another test in this process may have asked about 2041 already
    from engine.desk import calendars

    calendars.is_workday.cache_clear()
    calendars._warn_unknown_year.cache_clear()
    with caplog.at_level(logging.WARNING, logger="engine.desk.calendars"):
        assert is_workday(date(2041, 1, 7)) is True  # Monday
    assert any("2041" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize("name", ["", "Business", "24/7", "office", None])
def test_unknown_calendar_raises(name):
    with pytest.raises(ValueError, match="unknown calendar") as info:
        add_minutes(sh(2026, 3, 10, 10, 0), 30, name)
    assert "'24x7'" in str(info.value) and "'business'" in str(info.value)
    with pytest.raises(ValueError, match="unknown calendar"):
        working_minutes(sh(2026, 3, 10, 10, 0), sh(2026, 3, 10, 11, 0), name)


@pytest.mark.parametrize("calendar", CALENDARS)
@pytest.mark.parametrize("minutes", [-1, -0.001, float("nan"), float("inf")])
def test_bad_minutes_raise(calendar, minutes):
    with pytest.raises(ValueError, match="minutes"):
        add_minutes(sh(2026, 3, 10, 10, 0), minutes, calendar)


@pytest.mark.parametrize("calendar", CALENDARS)
def test_naive_datetimes_raise(calendar):
    naive = datetime(2026, 3, 10, 10, 0)
    aware = sh(2026, 3, 10, 10, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_minutes(naive, 30, calendar)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_minutes(naive, aware, calendar)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_minutes(aware, naive, calendar)


def test_calendar_with_closing_before_opening_is_refused():
    with pytest.raises(ValueError, match="closing time"):
        BusinessCalendar(opens=time(9, 0), winter_closes=time(8, 0))
