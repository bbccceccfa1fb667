"""The desk's KPIs, each defined once here as SQL over the ticket's moments (and the calls).

The seeds judge the desk by these figures (001 §六6, §7.1, §7.3, §7.4; DESIGN.md "Timestamps
are the truth the KPIs read"). Each KPI is a function of the period that returns a
``Measure``: the moment that puts a ticket in the period (``window``), which of those
tickets the figure is about (``scope``), and which of them count (``numerator``). The
figures, the breakdowns and the click-through ticket lists are all built from that one
definition, so a number and the tickets behind it cannot disagree.

Rules that hold for every figure (so that two careful people get the same number):

- A period covers ``from 00:00:00 ≤ t < (to + 1 day) 00:00:00`` Asia/Shanghai
  (``engine.reporting.periods``); "in the period" and "no later than its end" are both
  strictly before that instant.
- Minutes are wall-clock minutes (SLA business calendars do not apply here); durations
  are exact to the second, never truncated to minutes: 60:00 exactly is *not* under an hour.
- Every type counts (complaints included); the emergency figures take every P1 ticket.
- Tickets imported from a ledger carry the same columns and count exactly the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import Float, String, and_, case, func, literal, not_, null, or_, select, true, tuple_, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from ..models import Call, Ticket
from .periods import Period

HOUR = 3600
SATISFIED = ("very_satisfied", "satisfied", "basically_satisfied")
LEVELS = SATISFIED + ("dissatisfied",)
# the breakdowns: dimension → column
DIMENSIONS = {
    "priority": Ticket.priority,
    "type": Ticket.type,
    "category": Ticket.category,
    "organisation": Ticket.organisation,
    "engineer": Ticket.engineer,
    "resolved_role": Ticket.resolved_role,
}


class seconds_between(FunctionElement):
    """``b − a`` in seconds, exact on both databases.

    PostgreSQL subtracts timestamps exactly. SQLite keeps them as text
    (``YYYY-MM-DD HH:MM:SS.ffffff``) and its ``julianday`` is a double (about 40 µs apart),
    so the whole seconds come from ``julianday`` rounded to an integer and the fractions are
    added from the text: 59:59.999999 stays under the hour, 60:00 is exactly 3600.
    """

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    whole = f"round((julianday(substr({b}, 1, 19)) - julianday(substr({a}, 1, 19))) * 86400.0)"
    return f"({whole} + (CAST(substr({b}, 20) AS REAL) - CAST(substr({a}, 20) AS REAL)))"


@compiles(seconds_between)
def _seconds_postgresql(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"extract(epoch from ({b} - {a}))"


def within(column, seconds: int):
    """``column − accepted_at < seconds``, false (never unknown) when the moment is missing."""
    return and_(column.is_not(None), seconds_between(Ticket.accepted_at, column) < seconds)


@dataclass(frozen=True)
class Measure:
    """One KPI as SQL. ``kind``: ``rate`` (numerator/denominator), ``violations`` (the
    numerator are the violations), ``mean`` (the mean of ``value`` seconds, in minutes)."""

    kind: str
    window: object  # the column whose moment puts a row in the period
    scope: object = None  # a further condition on the denominator
    numerator: object = None
    value: object = None
    target: Fraction | None = None  # rates: at least this; violations: at most 0
    table: type = Ticket


def timely_rate(p: Period) -> Measure:
    """工单及时处理率 / 及时解决率 — target ≥ 99 % (001 §7.1, §7.4 item 2).

    Seed: 及时解决率 = (当月已关闭的工单中及时处理的工单数 / 当月已关闭的工单总数) × 100 %;
    处理及时工单: 自受理起到该工单关闭的时长, 或者是从受理到传到后线的时长, 小于 1 小时.

    Denominator: tickets closed in the period. Numerator: ``closed_at − accepted_at < 60 min``
    or ``handoff_at − accepted_at < 60 min`` (the first hand-off counts even when the ticket
    was returned later).
    """
    return Measure("rate", Ticket.closed_at, numerator=or_(within(Ticket.closed_at, HOUR), within(Ticket.handoff_at, HOUR)),
                   target=Fraction(99, 100))


def emergency_response(p: Period) -> Measure:
    """突发事件响应 — ≤ 15 min (001 §7.1 item 2, §7.3 (2)).

    Seed: 突发事件响应时间 = 突发事件发生后值班台通知相关人员的时间 − 突发事件发生时间.

    P1 tickets accepted in the period; a violation is ``responded_at − occurred_at > 15 min``
    (``accepted_at`` when ``occurred_at`` is unknown), or no ``responded_at`` at all.
    """
    started = func.coalesce(Ticket.occurred_at, Ticket.accepted_at)
    late = or_(Ticket.responded_at.is_(None), seconds_between(started, Ticket.responded_at) > 15 * 60)
    return Measure("violations", Ticket.accepted_at, scope=Ticket.priority == "P1", numerator=late, target=Fraction(0))


def emergency_close(p: Period) -> Measure:
    """突发事件及时关单 — ≤ 60 min (001 §7.1 item 2, §7.3 (3)).

    Seed: 突发事件及时关单时长 = 值班台关闭突发事件工单时间 − 该突发事件工单流转至值班台的时间.

    P1 tickets closed in the period; a violation is ``closed_at − accepted_at > 60 min``.
    """
    late = seconds_between(Ticket.accepted_at, Ticket.closed_at) > HOUR
    return Measure("violations", Ticket.closed_at, scope=Ticket.priority == "P1", numerator=late, target=Fraction(0))


def satisfaction_rate(p: Period) -> Measure:
    """用户满意率 — target ≥ 99 % (001 §7.1 item 1).

    Seed: 服务满意度调查 — 非常满意, 满意, 基本满意, 不满意 (001 §8.1).

    Denominator: tickets whose callback (``callback_at``) is in the period and carries a
    rating; numerator: rated very_satisfied, satisfied or basically_satisfied. A callback
    without a rating counts nowhere.
    """
    return Measure("rate", Ticket.callback_at, scope=Ticket.satisfaction.in_(LEVELS),
                   numerator=Ticket.satisfaction.in_(SATISFIED), target=Fraction(99, 100))


def callback_rate(p: Period) -> Measure:
    """回访率 — target ≥ 98 % (DESIGN.md §1, from the desk's rules).

    Denominator: tickets accepted in the period (every type); numerator: of those, called
    back (``callback_at`` set) no later than the period's end.
    """
    return Measure("rate", Ticket.accepted_at, numerator=and_(Ticket.callback_at.is_not(None), Ticket.callback_at < p.end),
                   target=Fraction(98, 100))


def dispatch_success_rate(p: Period) -> Measure:
    """派单成功率 — target ≥ 95 %.

    Denominator: tickets handed to the back line (``handoff_at``, the first hand-off) in the
    period; numerator: of those, never returned to the PM (``returned`` = 0; counted per
    ticket, so a dispatch returned twice is one failure).
    """
    return Measure("rate", Ticket.handoff_at, numerator=Ticket.returned == 0, target=Fraction(95, 100))


def qualified_rate(p: Period) -> Measure:
    """工单合格率 — target 100 % (001 §7.3 (1)).

    Seed: 工单合格率 = (派发的合格工单数 / 总派发工单数) × 100 %; 工单相关信息未填写完整或
    工单内容描述不清楚即记为该工单不合格.

    Denominator: the tickets dispatched in the period (as ``dispatch_success_rate``);
    numerator: of those, qualified (a complete record).
    """
    return Measure("rate", Ticket.handoff_at, numerator=Ticket.qualified.is_(True), target=Fraction(1))


def completeness_rate(p: Period) -> Measure:
    """录入事件完整性 — target ≥ 95 %.

    Denominator: tickets accepted in the period; numerator: of those, qualified.
    """
    return Measure("rate", Ticket.accepted_at, numerator=Ticket.qualified.is_(True), target=Fraction(95, 100))


def completion_rate(p: Period) -> Measure:
    """完成率 (001 §六6: 解决事件的完成率).

    Denominator: tickets accepted in the period; numerator: of those, closed no later than
    the period's end (a ticket accepted on the last day and closed the next day is not).
    """
    return Measure("rate", Ticket.accepted_at, numerator=and_(Ticket.closed_at.is_not(None), Ticket.closed_at < p.end))


def mean_resolution_minutes(p: Period) -> Measure:
    """平均解决时间 (001 §六6: 事件平均解决时间).

    Over every ticket whose ``resolved_at`` is in the period, closed or not, the mean of
    ``resolved_at − accepted_at`` in minutes, rounded to 0.1. A reopened ticket carries its
    last ``resolved_at``.
    """
    return Measure("mean", Ticket.resolved_at, value=seconds_between(Ticket.accepted_at, Ticket.resolved_at))


def answer_rate(p: Period) -> Measure:
    """电话及时接听率 — target ≥ 99 % (001 §7.1 item 1, §7.4 item 1).

    Seed: 客服人员应在 20s 内接听客服电话; 及时接听率 = (及时接通的电话数量 / 已接听的客服电话总数) × 100 %.

    Denominator: calls that rang in the period and were answered (missed calls excluded);
    numerator: answered within 20 s of ringing (``answered_at − ring_at ≤ 20 s``).
    """
    return Measure("rate", Call.ring_at, scope=Call.answered_at.is_not(None),
                   numerator=seconds_between(Call.ring_at, Call.answered_at) <= 20, target=Fraction(99, 100), table=Call)


KPIS = {
    f.__name__: f
    for f in (timely_rate, emergency_response, emergency_close, satisfaction_rate, callback_rate,
              dispatch_success_rate, qualified_rate, completeness_rate, completion_rate,
              mean_resolution_minutes, answer_rate)
}  # fmt: skip


# what people read in downloads (the pages translate their own)
LABELS = {
    "timely_rate": "工单及时处理率 / Handled on time", "emergency_response": "突发事件响应 / Emergency response",
    "emergency_close": "突发事件及时关单 / Emergency close", "satisfaction_rate": "用户满意率 / Satisfaction",
    "callback_rate": "回访率 / Callback rate", "dispatch_success_rate": "派单成功率 / Dispatch success",
    "qualified_rate": "工单合格率 / Qualified dispatches", "completeness_rate": "录入事件完整性 / Record completeness",
    "completion_rate": "完成率 / Completion", "mean_resolution_minutes": "平均解决时间(分钟) / Mean resolution (min)",
    "answer_rate": "电话及时接听率 / Calls answered on time",
}  # fmt: skip


def rate(numerator: int, denominator: int) -> dict:
    return {"numerator": numerator, "denominator": denominator,
            "value": numerator / denominator if denominator else None}


def mean_minutes(total_seconds: float, count: int) -> float | None:
    """Minutes rounded half up to 0.1, from the exact total."""
    if not count:
        return None
    minutes = Decimal(repr(float(total_seconds))) / count / 60
    return float(minutes.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def in_period(measure: Measure, period: Period):
    return and_(measure.window >= period.start, measure.window < period.end)


def _counted(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _figure(measure: Measure, row: dict, name: str) -> object:
    n, d = row.get(f"{name}.n", 0), row.get(f"{name}.d", 0)
    if measure.kind == "mean":
        return mean_minutes(row.get(f"{name}.value", 0), d)
    if measure.kind == "violations":
        return {"count": d, "violations": n}
    return rate(n, d)


def compute(session: Session, period: Period, *, breakdowns_too: bool = True) -> dict:
    """Every KPI of the period, the satisfaction mix and the breakdowns, as the report's JSON.

    One query per moment (accepted, closed, handed off, resolved, called back) gives every
    figure over that moment's window: a row for the whole period and, unless a trend's month
    asks for totals only, a row per value of each breakdown dimension; the database adds
    everything up and only the answers travel.
    """
    dimensions = DIMENSIONS if breakdowns_too else {}
    measures = {name: kpi(period) for name, kpi in KPIS.items()}
    result: dict = {"period": period.to_dict()}
    result.update({name: _figure(m, {}, name) for name, m in measures.items()})  # an empty window has no rows
    result["satisfaction_counts"] = dict.fromkeys(LEVELS, 0)
    breakdowns: dict = {dim: defaultdict(dict) for dim in dimensions}
    by_window: dict = defaultdict(list)
    for name, m in measures.items():
        if m.table is Ticket:
            by_window[m.window.key].append(name)
    for names in by_window.values():
        sums = []
        for name in names:
            m = measures[name]
            scope = m.scope if m.scope is not None else true()
            sums.append(_counted(scope).label(f"{name}.d"))
            if m.numerator is not None:
                sums.append(_counted(and_(scope, m.numerator)).label(f"{name}.n"))
            if m.value is not None:
                sums.append(func.coalesce(func.sum(m.value), 0).label(f"{name}.value"))
        window = measures[names[0]]
        if window.window is Ticket.callback_at:  # the satisfaction mix rides along with its own window
            sums += [_counted(Ticket.satisfaction == level).label(f"{level}.n") for level in LEVELS]
        for dim, key, values in _grouped(session, in_period(window, period), sums, dimensions):
            if not dim and window.window is Ticket.callback_at:
                result["satisfaction_counts"] = {level: values[f"{level}.n"] for level in LEVELS}
            for name in names:
                figure = _figure(measures[name], values, name)
                if dim:
                    breakdowns[dim][key][name] = figure
                else:
                    result[name] = figure
    for name, m in measures.items():
        if m.kind == "violations":
            result[name]["tickets"] = list(session.scalars(
                select(Ticket.number).where(in_period(m, period), m.scope, m.numerator).order_by(Ticket.number)
            ))
    answer = measures["answer_rate"]
    n, d = session.execute(
        select(_counted(and_(answer.scope, answer.numerator)), _counted(answer.scope)).where(in_period(answer, period))
    ).one()
    result["answer_rate"] = rate(int(n), int(d))
    result["breakdowns"] = {
        dim: [{"key": key, **figures} for key, figures in sorted(keyed.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]
        for dim, keyed in breakdowns.items()
    }
    result["targets"] = {name: float(m.target) for name, m in measures.items() if m.target is not None}
    return result


def _grouped(session: Session, where, sums: list, dimensions: dict):
    """(dimension, key, sums) rows: ``("", None, …)`` for the whole window, then one per value of
    each dimension. PostgreSQL reads the window once (GROUPING SETS); SQLite, which has none,
    reads it once per dimension (UNION ALL)."""
    if not dimensions:
        yield "", None, _ints(session.execute(select(*sums).where(where)).mappings().one())
        return
    if session.get_bind().dialect.name == "postgresql":
        columns = [c.label(f"k.{d}") for d, c in dimensions.items()] + [
            func.grouping(c).label(f"g.{d}") for d, c in dimensions.items()]
        sets = func.grouping_sets(tuple_(), *(tuple_(c) for c in dimensions.values()))
        for row in session.execute(select(*columns, *sums).where(where).group_by(sets)).mappings():
            dim = next((d for d in dimensions if row[f"g.{d}"] == 0), "")
            yield dim, row[f"k.{dim}"] if dim else None, _ints(row)
        return
    parts = [select(literal("").label("dim"), null().cast(String).label("key"), *sums).where(where)]
    parts += [select(literal(dim).label("dim"), column.cast(String).label("key"), *sums).where(where).group_by(column)
              for dim, column in dimensions.items()]
    for row in session.execute(union_all(*parts)).mappings():
        yield row["dim"], row["key"], _ints(row)


def _ints(row) -> dict:
    """Counts back to ints (sums of 0/1), the seconds total left as it is."""
    return {k: (float(v or 0) if k.endswith(".value") else int(v or 0)) for k, v in row.items()
            if k.endswith((".d", ".n", ".value"))}


PARTS = ("denominator", "numerator", "missed")


def rows_behind(period: Period, kpi: str, part: str = "denominator", *, dimension: str | None = None, key=None):
    """The SELECT of the tickets (calls, for answer_rate) behind one figure, for the click-through.

    ``part``: ``denominator`` (every row the figure is over), ``numerator`` (those counted;
    for the emergency figures, the violations) or ``missed`` (the rest).
    """
    if kpi not in KPIS or part not in PARTS:
        from ..errors import Invalid

        raise Invalid(f"没有指标 {kpi}/{part} / no figure {kpi}/{part}", fields={"kpi": list(KPIS), "part": list(PARTS)})
    m = KPIS[kpi](period)
    conditions = [in_period(m, period)]
    if m.scope is not None:
        conditions.append(m.scope)
    if part != "denominator" and m.numerator is not None:
        conditions.append(m.numerator if part == "numerator" else not_(m.numerator))
    if dimension in DIMENSIONS and m.table is Ticket:
        column = DIMENSIONS[dimension]
        conditions.append(column.is_(None) if key is None else column == key)
    return select(m.table).where(*conditions).order_by(m.window, m.table.id)
