"""Every KPI over the hand-built golden dataset (tests/engine/golden_reporting.py), both period
kinds and each edge case; expected values are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import golden_reporting as golden
import pytest

from engine.errors import Invalid
from engine.reporting import kpis, periods


@pytest.fixture
def session(db_session):
    golden.load(db_session)
    return db_session


def R(n, d):
    return {"numerator": n, "denominator": d, "value": n / d if d else None}


def test_october_every_kpi(session):
    k = kpis.compute(session, periods.parse(period="2026-10"))
    assert k["period"] == {"from": "2026-10-01", "to": "2026-10-31", "label": "2026-10"}
    # closed in October: 01 02 03 04 05 07 08 09; on time: 01 (59:59), 03 (hand-off 59:59), 04, 05 (hand-offs),
    # 07 (1 s), 08; late: 02 (60:00 exactly), 09 (26 h)
    assert k["timely_rate"] == R(6, 8)
    # P1 accepted: 04 (20 min after it occurred), 05 (15:00 exactly: fine), 11 (never responded)
    assert k["emergency_response"] == {"count": 3, "violations": 2, "tickets": ["INC-04", "INC-11"]}
    # P1 closed: 04 (90 min), 05 (60:00 exactly: fine)
    assert k["emergency_close"] == {"count": 2, "violations": 1, "tickets": ["INC-04"]}
    # rated callbacks in October: 01 02 03 04 08 09 (07 unrated, 06 in November)
    assert k["satisfaction_rate"] == R(4, 6)
    assert k["satisfaction_counts"] == {"very_satisfied": 1, "satisfied": 2, "basically_satisfied": 1, "dissatisfied": 2}
    # accepted in October: 01–06, 08–11 (10); called back before 11-01: 01 02 03 04 08 09
    assert k["callback_rate"] == R(6, 10)
    # handed off: 03 (returned twice: one failure), 04, 05
    assert k["dispatch_success_rate"] == R(2, 3)
    assert k["qualified_rate"] == R(2, 3)  # 03 unqualified
    assert k["completeness_rate"] == R(8, 10)  # 03 and 10 unqualified
    # closed before 11-01 of those accepted: 01–05, 08, 09 (06 closed 11-01 00:30)
    assert k["completion_rate"] == R(7, 10)
    # resolved in October: 01 1800 s, 02 3000, 03 86400, 04 3000, 05 2400, 07 1, 08 1200, 09 93600
    # = 191401 s / 8 = 23925.125 s = 398.75 min → 398.8
    assert k["mean_resolution_minutes"] == 398.8
    # answered calls that rang in October: C1 (20 s exactly: on time), C2 (21 s); C3 missed, C4 September
    assert k["answer_rate"] == R(1, 2)
    assert k["targets"]["timely_rate"] == 0.99 and k["targets"]["callback_rate"] == 0.98


def test_cycles_split_at_the_21st_midnight(session):
    # cycle 2026-11: 10-21 00:00 ≤ t < 11-21 00:00 — INC-11 (10-21 00:00) in, INC-10 (10-20 23:59) out
    k = kpis.compute(session, periods.parse(cycle="2026-11"))
    assert k["period"]["from"] == "2026-10-21" and k["period"]["to"] == "2026-11-20"
    assert k["completeness_rate"] == R(2, 2)  # INC-06, INC-11
    assert k["emergency_response"] == {"count": 1, "violations": 1, "tickets": ["INC-11"]}
    assert k["timely_rate"] == R(1, 1)  # INC-06: closed 30:01 after acceptance, in the next month
    assert k["completion_rate"] == R(1, 2) and k["callback_rate"] == R(1, 2)
    assert k["satisfaction_rate"] == R(1, 1)
    assert k["mean_resolution_minutes"] == 10.0  # INC-06: 10:01 = 10.016… → 10.0
    # cycle 2026-10: 09-21 ≤ t < 10-21 — INC-10 (10-20 23:59) and INC-07 (09-30) in, INC-06/11 out
    k = kpis.compute(session, periods.parse(cycle="2026-10"))
    assert k["completeness_rate"] == R(7, 9)
    assert k["emergency_response"]["tickets"] == ["INC-04"]


def test_the_start_day_is_a_setting(session):
    cycle = periods.parse(cycle="2026-11", cycle_start=19)
    assert (cycle.first, cycle.last) == (date(2026, 10, 19), date(2026, 11, 18))
    january = periods.parse(cycle="2027-01")
    assert (january.first, january.last) == (date(2026, 12, 21), date(2027, 1, 20))


@pytest.mark.parametrize(
    "kwargs, first, last",
    [
        ({"period": "2026-10"}, date(2026, 10, 1), date(2026, 10, 31)),
        ({"period": "2026-Q4"}, date(2026, 10, 1), date(2026, 12, 31)),
        ({"period": "2026-h1"}, date(2026, 1, 1), date(2026, 6, 30)),
        ({"period": "2026"}, date(2026, 1, 1), date(2026, 12, 31)),
        ({"period": "2024-02"}, date(2024, 2, 1), date(2024, 2, 29)),
        ({"first": "2026-10-05", "last": "2026-10-06"}, date(2026, 10, 5), date(2026, 10, 6)),
    ],
)
def test_period_kinds(kwargs, first, last):
    p = periods.parse(**kwargs)
    assert (p.first, p.last) == (first, last)
    assert p.start.isoformat() == f"{first - __import__('datetime').timedelta(days=1)}T16:00:00+00:00"


@pytest.mark.parametrize("kwargs", [{"period": "2026-13"}, {"period": "Q4"}, {"cycle": "2026"},
                                    {"first": "2026-10-05", "last": "2026-10-01"}, {"first": "x", "last": "y"},
                                    {"period": "2026-10", "cycle": "2026-11"}])
def test_bad_periods_are_refused_clearly(kwargs):
    with pytest.raises(Invalid) as info:
        periods.parse(**kwargs)
    assert info.value.fields


def test_quarter_and_range(session):
    q4 = kpis.compute(session, periods.parse(period="2026-Q4"))
    assert q4["completion_rate"] == R(8, 10)  # INC-06 now closes inside the period
    day = kpis.compute(session, periods.parse(first="2026-10-06", last="2026-10-06"))
    assert day["timely_rate"] == R(0, 1)  # INC-02 only, 60:00 exactly
    empty = kpis.compute(session, periods.parse(period="2025-01"))
    assert empty["timely_rate"] == R(0, 0) and empty["mean_resolution_minutes"] is None


def test_breakdowns(session):
    k = kpis.compute(session, periods.parse(period="2026-10"))
    by = {dim: {row["key"]: row for row in rows} for dim, rows in k["breakdowns"].items()}
    assert set(by) == {"priority", "type", "category", "organisation", "engineer", "resolved_role"}
    assert by["priority"]["P1"]["timely_rate"] == R(2, 2)
    assert by["priority"]["P1"]["emergency_response"] == {"count": 3, "violations": 2}
    assert by["type"]["complaint"]["completeness_rate"] == R(1, 1)
    assert by["engineer"]["eng2"]["mean_resolution_minutes"] == 45.0  # 04: 50 min, 05: 40 min
    assert by["resolved_role"]["engineer"]["dispatch_success_rate"] == R(2, 3)
    # the breakdown rows add up to the totals
    assert sum(r["callback_rate"]["denominator"] for r in by["organisation"].values() if "callback_rate" in r) == 10


@pytest.mark.parametrize(
    "kpi, part, expected",
    [
        ("timely_rate", "missed", ["INC-02", "INC-09"]),
        ("emergency_response", "numerator", ["INC-04", "INC-11"]),
        ("satisfaction_rate", "denominator", ["CMP-08", "INC-01", "INC-02", "INC-03", "INC-04", "INC-09"]),
        ("completion_rate", "missed", ["INC-06", "INC-10", "INC-11"]),
        ("answer_rate", "numerator", ["C1"]),
    ],
)
def test_click_through_lists_the_rows_behind_a_figure(session, kpi, part, expected):
    rows = session.scalars(kpis.rows_behind(periods.parse(period="2026-10"), kpi, part)).all()
    assert sorted(getattr(r, "number", None) or r.call_id for r in rows) == expected


def test_durations_are_exact_below_the_second(db_session):
    """The engine stamps microseconds: 59:59.999999 is under the hour, 60:00.000001 is not."""
    from datetime import timedelta

    from engine.models import Call, Ticket

    accepted = golden.L("2027-01-05 08:00:00.250000")
    for number, after in (("U-1", timedelta(minutes=59, seconds=59, microseconds=999999)),
                          ("U-2", timedelta(hours=1, microseconds=1)), ("U-3", timedelta(hours=1))):
        db_session.add(Ticket(number=number, type="incident", accepted_at=accepted, closed_at=accepted + after,
                              resolved_at=accepted + after, status="closed"))
    ring = golden.L("2027-01-05 09:00:00.999999")
    db_session.add(Call(call_id="U-C", ring_at=ring, answered_at=ring + timedelta(seconds=20)))
    db_session.flush()
    k = kpis.compute(db_session, periods.parse(period="2027-01"))
    assert k["timely_rate"] == R(1, 3)
    assert k["answer_rate"] == R(1, 1)
    assert k["mean_resolution_minutes"] == 60.0
