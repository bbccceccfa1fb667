"""The report of a period as one dict (the JSON of ``desk report``, ``/api/kpi``), and its
CSV and XLSX downloads. The rows of both downloads come from one ``rows`` function."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import HumanTask, TaskState
from . import kpis, periods, scorecards
from .periods import Period

TREND = ("timely_rate", "satisfaction_rate", "callback_rate", "dispatch_success_rate", "completeness_rate",
         "answer_rate")

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


def trend(session: Session, period: Period, months: int = 6) -> list[dict]:
    """The main rates per calendar month the period touches (at least ``months`` of them)."""
    out = []
    for month in periods.months_of(period, at_least=months):
        figures = kpis.compute(session, month, breakdowns_too=False)
        out.append({"month": month.label, **{name: figures[name]["value"] for name in TREND},
                    "mean_resolution_minutes": figures["mean_resolution_minutes"]})
    return out


def workload(session: Session, period: Period) -> dict:
    """Steps done in the period by stage and by person, from the task rows.

    A stage is ``[name, count, bpmn_id]``: the step's id keeps one bar per step when a
    later version renamed it, and lets a page name it in its own language.
    """
    done = (HumanTask.state == TaskState.COMPLETED, HumanTask.completed_at >= period.start,
            HumanTask.completed_at < period.end)
    by_stage = session.execute(select(func.max(HumanTask.name), func.count(), HumanTask.bpmn_id).where(*done)
                               .group_by(HumanTask.bpmn_id).order_by(func.count().desc())).all()
    by_person = session.execute(select(HumanTask.completed_by, func.count()).where(*done)
                                .group_by(HumanTask.completed_by).order_by(func.count().desc())).all()
    return {"stage": [[name, n, step] for name, n, step in by_stage], "person": [[who or "", n] for who, n in by_person]}


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
