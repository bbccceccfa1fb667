"""The report of a period as one dict (the JSON of ``desk report``, ``/api/kpi``), and its
CSV and XLSX downloads. The rows of both downloads come from one ``rows`` function."""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

from . import kpis, scorecards
from .periods import Period

SATISFACTION_LABELS = {"very_satisfied": "非常满意", "satisfied": "满意", "basically_satisfied": "基本满意",
                       "dissatisfied": "不满意"}


def kpi_report(session: Session, period: Period) -> dict:
    """Every KPI, the satisfaction mix, the breakdowns and both scorecards."""
    report = kpis.compute(session, period)
    report["scorecards"] = scorecards.compute(session, period, report)
    return report


def scorecard_report(session: Session, period: Period) -> dict:
    report = kpis.compute(session, period)
    return {"period": report["period"], "scorecards": scorecards.compute(session, period, report)}


def _figure_row(name: str, figure, target=None) -> list:
    if isinstance(figure, dict) and "violations" in figure:
        return [figure["violations"], figure["count"], " ".join(figure.get("tickets", [])), target]
    if isinstance(figure, dict):
        return [figure["numerator"], figure["denominator"], figure["value"], target]
    return [None, None, figure, target]


def rows(report: dict):
    """(sheet, row) pairs; each sheet's first row is its header."""
    period = report["period"]
    if "timely_rate" in report:
        yield "KPI", ["期间 period", "指标 KPI", "名称 name", "分子/违规 numerator", "分母/总数 denominator",
                      "值 value", "目标 target"]
        for name in kpis.KPIS:
            yield "KPI", [f"{period['from']}..{period['to']}", name, kpis.LABELS[name],
                          *_figure_row(name, report[name], report["targets"].get(name))]
        for level, count in report["satisfaction_counts"].items():
            yield "KPI", [f"{period['from']}..{period['to']}", f"satisfaction:{level}", SATISFACTION_LABELS[level],
                          count, None, None, None]
        yield "Breakdowns", ["维度 dimension", "值 key", "指标 KPI", "分子 numerator", "分母 denominator", "值 value"]
        for dim, entries in report["breakdowns"].items():
            for entry in entries:
                for name, figure in entry.items():
                    if name != "key":
                        yield "Breakdowns", [dim, entry["key"] or "", name, *_figure_row(name, figure)[:3]]
    yield "Scorecards", ["考核表 card", "考核项 item", "名称 name", "分值 points", "扣分 deduction", "加分 bonus", "得分 score"]
    yield "Deductions", ["考核表 card", "考核项 item", "工单 ticket", "扣分 deduction", "状态 status"]
    for card in report["scorecards"]:
        for item in card["items"]:
            yield "Scorecards", [card["id"], item["id"], item["name"], item["points"], item["deduction"],
                                 item["bonus"], item["score"]]
            for event in item["events"]:
                yield "Deductions", [card["id"], item["id"], event["ticket"] or "", event["deduction"], "charged 扣分"]
        yield "Scorecards", [card["id"], "total", "总分 total", None, None, None, card["total"]]
        for waived in card["waived"]:
            yield "Deductions", [card["id"], waived["item"], waived["ticket"], waived["deduction"], "waived 不重复扣分"]


def to_csv(report: dict) -> bytes:
    """One CSV (UTF-8 with BOM, so Excel reads the Chinese) with the sheet name as first column."""
    out = io.StringIO()
    writer = csv.writer(out)
    for sheet, row in rows(report):
        writer.writerow([sheet, *("" if v is None else v for v in row)])
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for sheet, row in rows(report):
        ws = book[sheet] if sheet in book.sheetnames else book.create_sheet(sheet)
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
