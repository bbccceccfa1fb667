"""Both scorecards over the golden dataset: every item's deduction, the caps, and the
"同一事件，不同指标项不重复扣分，计扣分值最高项" waivers."""

from __future__ import annotations

import golden_reporting as golden
import pytest

from engine.errors import Invalid
from engine.reporting import periods, reports, scorecards


@pytest.fixture
def session(db_session):
    golden.load(db_session)
    scorecards.ensure_items(db_session)
    golden.load_entries(db_session)
    return db_session


def items(card):
    return {i["id"]: i for i in card["items"]}


def test_october_scorecards(session):
    report = reports.kpi_report(session, periods.parse(period="2026-10"))
    operations, service = report["scorecards"]
    assert operations["id"] == "operations" and service["id"] == "customer_service"
    ops = items(operations)
    # INC-04: response late (−2) and close late (−0.5) → −2, the −0.5 waived;
    # INC-11: never responded (−2) but a failed maintenance permit (−5) → −5, the −2 waived
    assert ops["emergency_response"]["events"] == [{"ticket": "INC-04", "deduction": 2.0}]
    assert (ops["emergency_response"]["deduction"], ops["emergency_response"]["score"]) == (2.0, 18.0)
    assert (ops["emergency_close"]["deduction"], ops["emergency_close"]["events"]) == (0.0, [])
    assert (ops["maintenance_permit"]["deduction"], ops["maintenance_permit"]["score"]) == (5.0, 35.0)
    assert ops["report_forms"]["deduction"] == 1.0  # 4 in October → 1 per 3
    assert ops["incident_response"]["deduction"] == 1.0  # 3 → 1 per 2
    assert operations["waived"] == [
        {"ticket": "INC-04", "item": "emergency_close", "deduction": 0.5},
        {"ticket": "INC-11", "item": "emergency_response", "deduction": 2.0},
    ]
    assert operations["total"] == 91.0
    cs = items(service)
    # answer rate 1/2 = 50 % → ⌊99 − 50⌋ = 49 → capped at 10; timely 6/8 = 75 % → 24 → 10
    assert (cs["answer_rate"]["deduction"], cs["answer_rate"]["score"]) == (10.0, 0.0)
    assert cs["timely_rate"]["deduction"] == 10.0
    # dissatisfied: INC-04, INC-09; the complaint CMP-08 is charged to INC-04 → INC-04 once
    assert sorted(e["ticket"] for e in cs["satisfaction"]["events"]) == ["INC-04", "INC-09"]
    assert cs["satisfaction"]["deduction"] == 10.0
    # INC-09's knowledge-base entry (−2) is below its dissatisfied callback (−5): waived
    assert cs["knowledge_base"]["deduction"] == 0.0
    assert (cs["bonus"]["bonus"], cs["bonus"]["score"]) == (5.0, 5.0)
    assert service["waived"] == [
        {"ticket": "INC-04", "item": "satisfaction", "deduction": 5.0},
        {"ticket": "INC-09", "item": "knowledge_base", "deduction": 2.0},
    ]
    assert service["total"] == 70 - 30 + 5


@pytest.mark.parametrize(
    "n, d, expected",
    [(974, 1000, 1), (99, 100, 0), (9899, 10000, 0), (98, 100, 1), (979, 1000, 1), (969, 1000, 2), (0, 0, 0), (50, 100, 10),
     (1, 1, 0)],
)
def test_rate_deduction_per_full_point_below_99(n, d, expected):
    assert scorecards.rate_deduction(n, d, 1, 10) == expected


def test_caps_and_cycles(session):
    for _ in range(12):  # 12 more failed permits: 13 × 5 = 65 → capped at 40
        scorecards.add_entry(session, item_id="maintenance_permit", happened_on="2026-10-25", evidence="检修记录",
                             entered_by="lead1")
    report = reports.scorecard_report(session, periods.parse(cycle="2026-11"))
    ops = items(report["scorecards"][0])
    assert (ops["maintenance_permit"]["deduction"], ops["maintenance_permit"]["score"]) == (40.0, 0.0)
    # the cycle 2026-11 sees the November report-form entry too: 5 → still 1 per 3
    assert ops["report_forms"]["deduction"] == 1.0


def test_entries_are_checked(session):
    with pytest.raises(Invalid) as info:
        scorecards.add_entry(session, item_id="emergency_response", happened_on="2026-13-01", evidence="",
                             entered_by="lead1", ticket="NOPE", amount="x")
    assert set(info.value.fields) == {"item", "happened_on", "evidence", "ticket", "amount"}


def test_items_are_data_an_admin_edits(session):
    scorecards.update_item(session, "emergency_close", {"per_event": "1", "points": "10"})
    report = reports.scorecard_report(session, periods.parse(period="2026-10"))
    operations = report["scorecards"][0]
    # now INC-04's close (−1) is still below its response (−2): waived at its new value
    assert {"ticket": "INC-04", "item": "emergency_close", "deduction": 1.0} in operations["waived"]
    with pytest.raises(Invalid):
        scorecards.update_item(session, "emergency_close", {"per_events": "0", "source": "magic"})


def test_downloads(session):
    report = reports.kpi_report(session, periods.parse(period="2026-10"))
    text = reports.to_csv(report).decode("utf-8-sig")
    assert "KPI,2026-10-01..2026-10-31,timely_rate,工单及时处理率 / Handled on time,6,8,0.75,0.99" in text
    assert "Deductions,operations,emergency_close,INC-04,0.5,waived 不重复扣分" in text
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(reports.to_xlsx(report)))
    assert book.sheetnames == ["KPI", "Breakdowns", "Scorecards", "Deductions"]
    assert [c.value for c in book["KPI"][2]][1:6] == ["timely_rate", "工单及时处理率 / Handled on time", 6, 8, 0.75]
