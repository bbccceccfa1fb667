"""History import: the golden dataset as a ledger (CSV with English headers, XLSX with the
Chinese ones) gives exactly the golden KPIs; bad rows stop the whole file; twice adds nothing."""

from __future__ import annotations

import csv
import io
from datetime import timezone

import golden_reporting as golden
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from engine.desk.tickets import LOCAL_TZ
from engine.errors import Invalid
from engine.models import Call, Ticket, TicketStatus
from engine.reporting import imports, kpis, periods

COLUMNS = ["number", "type", "priority", "organisation", "category", "qualified", "occurred_at", "accepted_at",
           "responded_at", "handoff_at", "returned", "resolved_at", "resolved_role", "engineer", "closed_at",
           "callback_at", "satisfaction", "complaint_about"]
CHINESE = {"number": "工单编号", "organisation": "单位", "occurred_at": "发生时间", "accepted_at": "受理时间",
           "responded_at": "响应时间", "handoff_at": "转后线时间", "returned": "退回项目经理次数",
           "callback_at": "回访时间"}
ZH_LEVELS = {"very_satisfied": "非常满意", "satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


def ledger_rows(chinese: bool = False) -> list[list[str]]:
    header = [CHINESE.get(c, c) if chinese else c for c in COLUMNS]
    rows = [header]
    for i, t in enumerate(golden.TICKETS):
        row = []
        for c in COLUMNS:
            value = t.get(c, {"type": "incident", "qualified": True, "returned": 0}.get(c))
            if c in imports.TICKET_TIMES:
                if value is None:
                    value = ""
                elif i % 2:  # every other ticket as ISO with an offset (UTC), converted back on import
                    value = value.astimezone(timezone.utc).isoformat()
                else:
                    value = value.strftime("%Y-%m-%d %H:%M:%S")
            elif c == "qualified":
                value = "1" if value else "0"
            elif c == "satisfaction" and value and chinese:
                value = ZH_LEVELS[value]
            row.append("" if value is None else str(value))
        rows.append(row)
    return rows


def as_csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def calls_csv() -> bytes:
    rows = [["call_id", "ring_at", "answered_at", "agent", "caller"]]
    for c in golden.CALLS:
        rows.append([c["call_id"], c["ring_at"].strftime("%Y-%m-%d %H:%M:%S"),
                     c["answered_at"].strftime("%Y-%m-%d %H:%M:%S") if c["answered_at"] else "", "agent1", "138"])
    return as_csv(rows)


@pytest.mark.parametrize("name, data", [("ledger.csv", as_csv(ledger_rows())),
                                        ("台账.xlsx", as_xlsx(ledger_rows(chinese=True)))])
def test_an_imported_ledger_gives_the_golden_kpis(db_session, name, data):
    result = imports.run(db_session, "tickets", name, data, user="admin1")
    assert (len(result.new), result.existing, result.errors) == (11, [], [])
    imports.run(db_session, "calls", "calls.csv", calls_csv(), user="admin1")
    k = kpis.compute(db_session, periods.parse(period="2026-10"))
    assert k["timely_rate"]["numerator"] == 6 and k["timely_rate"]["denominator"] == 8
    assert k["emergency_response"]["tickets"] == ["INC-04", "INC-11"]
    assert k["emergency_close"]["tickets"] == ["INC-04"]
    assert k["satisfaction_counts"] == {"very_satisfied": 1, "satisfied": 2, "basically_satisfied": 1, "dissatisfied": 2}
    assert k["dispatch_success_rate"]["numerator"] == 2 and k["completion_rate"]["numerator"] == 7
    assert k["mean_resolution_minutes"] == 398.8
    assert k["answer_rate"] == {"numerator": 1, "denominator": 2, "value": 0.5}
    ticket = db_session.scalars(select(Ticket).where(Ticket.number == "INC-06")).one()
    assert ticket.instance_id is None and ticket.status == TicketStatus.CLOSED
    assert ticket.accepted_at.astimezone(LOCAL_TZ).isoformat() == "2026-10-31T23:59:59+08:00"


def test_the_same_file_twice_adds_nothing(db_session):
    data = as_csv(ledger_rows())
    imports.run(db_session, "tickets", "a.csv", data, user="admin1")
    again = imports.run(db_session, "tickets", "a.csv", data, user="admin1")
    assert (len(again.new), len(again.existing)) == (0, 11)
    assert db_session.scalar(select(func.count()).select_from(Ticket).where(Ticket.number.like("INC-%"))) == 10
    imports.run(db_session, "calls", "c.csv", calls_csv(), user="admin1")
    imports.run(db_session, "calls", "c.csv", calls_csv(), user="admin1")
    assert db_session.scalar(select(func.count()).select_from(Call)) == 4


def test_a_bad_row_stops_the_whole_file(db_session):
    rows = ledger_rows()
    rows[3][COLUMNS.index("priority")] = "P9"
    rows[5][COLUMNS.index("accepted_at")] = "2026-10-99"
    rows[6][COLUMNS.index("number")] = rows[2][0]
    rows[8][COLUMNS.index("complaint_about")] = "INC-99"
    with pytest.raises(Invalid) as info:
        imports.run(db_session, "tickets", "bad.csv", as_csv(rows), user="admin1")
    lines = sorted(int(key.split()[1]) for key in info.value.fields)
    assert lines == [4, 6, 7, 9]
    assert "P1–P4" in info.value.fields["line 4"][0]
    assert db_session.scalar(select(func.count()).select_from(Ticket).where(Ticket.number.like("INC-%"))) == 0


def test_an_empty_qualified_follows_the_intake_rule(db_session):
    rows = [["工单编号", "类型", "报告人", "单位", "电话", "描述", "发生时间", "受理时间", "合格", "备注"],
            ["H-1", "事件", "王工", "市医院", "138", "打印机卡纸", "2026-10-01 08:00", "2026-10-01 08:05", "", "x"],
            ["H-2", "咨询", "", "市医院", "138", "如何报修", "2026-10-01 08:00", "2026-10-01 08:05", "", "y"]]
    result = imports.run(db_session, "tickets", "h.csv", as_csv(rows), user="admin1")
    assert result.ignored_columns == ["备注"]
    h1, h2 = (db_session.scalars(select(Ticket).where(Ticket.number == n)).one() for n in ("H-1", "H-2"))
    assert (h1.qualified, h1.type, h1.status) == (True, "incident", TicketStatus.OPEN)
    assert (h2.qualified, h2.missing_fields) == (False, ["reporter_name"])


def test_missing_columns_and_wrong_files_are_refused(db_session):
    result = imports.preview(db_session, "tickets", "x.csv", as_csv([["number", "title"], ["A", "b"]]))
    assert result.errors == [(1, "缺少列 type / the column type is missing"),
                             (1, "缺少列 accepted_at / the column accepted_at is missing")]
    with pytest.raises(Invalid):
        imports.preview(db_session, "tickets", "x.txt", b"hello")
    with pytest.raises(Invalid):
        imports.preview(db_session, "tickets", "x.xlsx", b"not a workbook")
