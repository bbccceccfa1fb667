"""The two scorecards of 001 §7.3 (运行指标, ``operations``) and §7.4 (客户服务指标,
``customer_service``), kept as data an admin edits (``ScorecardItem``), scored per period.

Where each item's events come from (``ScorecardItem.source``):

- ``emergency_response`` / ``emergency_close``: one event per violating P1 ticket of the
  KPI of that name (−2 and −0.5 each in the seed);
- ``answer_rate`` / ``timely_rate``: "每下降 1%，扣 1 分": one event of
  ``min(cap, per_event × ⌊99 − 100·n/d⌋)`` on the exact fraction; none when n/d ≥ 99 % or d = 0;
- ``satisfaction``: "遭到投诉或回访考核不满意的，每发生一例扣 5 分": one event per
  dissatisfied callback in the period (charged to that ticket) and per complaint accepted in
  the period (charged to the ticket complained about);
- ``manual``: the lead's entries (``ScorecardEntry``) with evidence and an optional ticket;
  ``per_events`` > 1 takes ``per_event`` off for each full group (报表填写: 1 per 3).

"同一事件，不同指标项不重复扣分，计扣分值最高项": within a card each ticket is charged once,
at its largest single event (several events of one item included); its other events are
listed as waived and left out before the caps. Every item is capped at ``cap``; a bonus
item adds up to its cap. An item's ``deduction`` is what it takes off after the cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Invalid, NotFound
from ..models import ScorecardEntry, ScorecardItem, Ticket
from . import kpis
from .periods import Period

CARDS = {"operations": ("系统运行指标", "Operations"), "customer_service": ("客户服务指标", "Customer service")}
SOURCES = ("emergency_response", "emergency_close", "answer_rate", "timely_rate", "satisfaction", "manual")

# (id, card, name, name_en, points, per_event, per_events, cap, source, bonus, the seed's rule)
DEFAULT_ITEMS = (
    ("emergency_response", "operations", "突发事件响应", "Emergency response", 20, 2, 1, 20, "emergency_response", False,
     "突发事件响应时间(≤15分钟)，每发生一次，扣2分，扣完为止"),
    ("emergency_close", "operations", "突发事件及时关单", "Emergency close", 10, 0.5, 1, 10, "emergency_close", False,
     "突发事件及时关单率(≤60分钟)，每发生一次，扣0.5分，扣完为止"),
    ("maintenance_permit", "operations", "检修许可", "Maintenance permits", 40, 5, 1, 40, "manual", False,
     "一级检修许可不合格数(0次)，每发生一次，扣5分，扣完为止"),
    ("report_forms", "operations", "报表填写", "Report forms", 10, 1, 3, 10, "manual", False,
     "1个周期内报表填写不合格数(≤3次)，每3次扣1分，扣完为止"),
    ("incident_response", "operations", "事件响应不合格", "Incident response failures", 20, 1, 2, 20, "manual", False,
     "1个周期内事件响应不合格数(≤2次)，每2次扣1分，扣完为止"),
    ("answer_rate", "customer_service", "及时接听率", "Calls answered on time", 10, 1, 1, 10, "answer_rate", False,
     "20s内接听；及时接听率99%(含)以上不扣分，每下降1%扣1分，扣完为止"),
    ("timely_rate", "customer_service", "及时解决率", "Tickets handled on time", 10, 1, 1, 10, "timely_rate", False,
     "受理到关闭或转后线小于1小时；及时解决率99%(含)以上不扣分，每下降1%扣1分，扣完为止"),
    ("satisfaction", "customer_service", "服务满意率", "Satisfaction", 20, 5, 1, 20, "satisfaction", False,
     "遭到投诉或回访考核不满意的，每发生一例扣5分，扣完为止"),
    ("special_work", "customer_service", "专项工作", "Special work", 10, 2, 1, 10, "manual", False,
     "完成及时但效果较差每例扣2分；不及时或效果差且造成不良影响每例扣3分"),
    ("knowledge_base", "customer_service", "运维知识库", "Knowledge base", 10, 2, 1, 10, "manual", False,
     "延期提报或质量一般每例扣2分；未提报或质量差每例扣3分"),
    ("security_hazards", "customer_service", "安全隐患排查治理", "Security hazards", 10, 5, 1, 10, "manual", False,
     "排查治理不到位，发生延期或未及时整改重要安全漏洞隐患，每发生一次扣5分"),
    ("ops_security", "customer_service", "运维安全", "Operations security", 0, 5, 1, 100, "manual", False,
     "未签保密协议每人扣5分；涉密邮件或违规外联每次扣10分；8级事件扣50分；7级及以上扣100分"),
    ("bonus", "customer_service", "附加项", "Bonus", 0, 5, 1, 20, "manual", True,
     "经验材料被国网采纳、隐患纳入隐患库、科技创新，每次加5分，本项满分20分"),
)  # fmt: skip


def ensure_items(session: Session) -> list[ScorecardItem]:
    """The items, in card order; the seeds' defaults are added for any id not there yet."""
    have = {item.id: item for item in session.scalars(select(ScorecardItem))}
    for position, row in enumerate(DEFAULT_ITEMS):
        if row[0] not in have:
            item_id, card, name, name_en, points, per_event, per_events, cap, source, bonus, rule = row
            have[item_id] = ScorecardItem(id=item_id, card=card, position=position, name=name, name_en=name_en,
                                          points=points, per_event=per_event, per_events=per_events, cap=cap,
                                          source=source, bonus=bonus, rule=rule)
            session.add(have[item_id])
    session.flush()
    return sorted(have.values(), key=lambda i: (list(CARDS).index(i.card) if i.card in CARDS else 99, i.position))


def rate_deduction(numerator: int, denominator: int, per_point: float, cap: float, floor_rate=Fraction(99, 100)) -> float:
    """"每下降 1%，扣 1 分": ``min(cap, per_point × ⌊99 − 100·n/d⌋)`` on the exact fraction
    (97.4 % → −1); nothing when n/d ≥ 99 % or there is nothing to measure."""
    if not denominator or Fraction(numerator, denominator) >= floor_rate:
        return 0.0
    points_below = math.floor(100 * floor_rate - 100 * Fraction(numerator, denominator))
    return float(min(Fraction(str(cap)), Fraction(str(per_point)) * points_below))


@dataclass(eq=False)  # two events alike are still two events
class Event:
    item: str
    ticket: str | None
    amount: Fraction  # what this one event is worth, before caps


def _events(session: Session, item: ScorecardItem, period: Period, kpi: dict) -> list[Event]:
    per_event = Fraction(str(item.per_event))
    if item.source in ("emergency_response", "emergency_close"):
        return [Event(item.id, number, per_event) for number in kpi[item.source]["tickets"]]
    if item.source in ("answer_rate", "timely_rate"):
        figure = kpi[item.source]
        amount = rate_deduction(figure["numerator"], figure["denominator"], item.per_event, item.cap)
        return [Event(item.id, None, Fraction(str(amount)))] if amount else []
    if item.source == "satisfaction":
        m = kpis.satisfaction_rate(period)
        dissatisfied = session.scalars(
            select(Ticket.number).where(kpis.in_period(m, period), Ticket.satisfaction == "dissatisfied")
            .order_by(Ticket.callback_at, Ticket.id)
        )
        about = kpis.completeness_rate(period)  # the same window: accepted in the period
        complaints = session.execute(
            select(Ticket.number, Ticket.complaint_about)
            .where(kpis.in_period(about, period), Ticket.type == "complaint").order_by(Ticket.accepted_at, Ticket.id)
        )
        return [Event(item.id, n, per_event) for n in dissatisfied] + [
            Event(item.id, target or number, per_event) for number, target in complaints
        ]
    entries = session.scalars(
        select(ScorecardEntry)
        .where(ScorecardEntry.item_id == item.id, ScorecardEntry.happened_on >= period.first,
               ScorecardEntry.happened_on <= period.last)
        .order_by(ScorecardEntry.happened_on, ScorecardEntry.id)
    )
    share = max(1, item.per_events or 1)
    return [Event(item.id, e.ticket or None, Fraction(str(e.amount)) / share) for e in entries]


def _num(value: Fraction) -> float:
    return float(round(value, 4))


def card(session: Session, card_id: str, items: list[ScorecardItem], period: Period, kpi: dict) -> dict:
    """One scorecard: each item's kept events, deduction after the cap and score; the waived events."""
    events = {item.id: _events(session, item, period, kpi) for item in items}
    bonus = {item.id for item in items if item.bonus}
    best: dict[str, Event] = {}
    for item in items:
        for event in events[item.id]:
            if event.ticket and item.id not in bonus and (event.ticket not in best or event.amount > best[event.ticket].amount):
                best[event.ticket] = event
    waived = []
    out_items = []
    total = Fraction(0)
    for item in items:
        kept = [e for e in events[item.id] if not e.ticket or item.id in bonus or best[e.ticket] is e]
        waived += [e for e in events[item.id] if e.ticket and item.id not in bonus and best[e.ticket] is not e]
        cap = Fraction(str(item.cap))
        if item.per_events and item.per_events > 1:
            amount = Fraction(str(item.per_event)) * (len(kept) // item.per_events)
        else:
            amount = sum((e.amount for e in kept), Fraction(0))
        amount = min(cap, amount)
        points = Fraction(str(item.points))
        score = amount if item.id in bonus else points - amount
        total += score
        out_items.append({
            "id": item.id, "name": item.name, "name_en": item.name_en, "points": _num(points),
            "deduction": 0.0 if item.id in bonus else _num(amount), "bonus": _num(amount) if item.id in bonus else 0.0,
            "score": _num(score), "source": item.source,
            "events": [{"ticket": e.ticket, "deduction": _num(e.amount)} for e in kept],
        })
    waived.sort(key=lambda e: (e.ticket, e.item))
    return {
        "id": card_id, "name": CARDS.get(card_id, (card_id, card_id))[0], "name_en": CARDS.get(card_id, (card_id, card_id))[1],
        "items": out_items,
        "waived": [{"ticket": e.ticket, "item": e.item, "deduction": _num(e.amount)} for e in waived],
        "total": _num(max(Fraction(0), total)),
    }


def compute(session: Session, period: Period, kpi: dict) -> list[dict]:
    """Both scorecards of the period, from the KPI report of the same period."""
    items = ensure_items(session)
    return [card(session, card_id, [i for i in items if i.card == card_id], period, kpi) for card_id in CARDS]


# --- the lead's entries and the admin's edits ---


def add_entry(session: Session, *, item_id: str, happened_on: date | str, evidence: str, entered_by: str,
              amount: float | str | None = None, ticket: str | None = None) -> ScorecardEntry:
    """Record a manual deduction (or bonus) with its evidence; refuses computed items and unknown tickets."""
    ensure_items(session)
    item = session.get(ScorecardItem, item_id or "")
    errors: dict[str, list[str]] = {}
    if item is None or item.source != "manual":
        errors["item"] = ["请选择手工录入的考核项 / choose an item entered by hand"]
    if isinstance(happened_on, str):
        try:
            happened_on = date.fromisoformat(happened_on.strip())
        except ValueError:
            errors["happened_on"] = ["日期应为 YYYY-MM-DD / a date YYYY-MM-DD"]
    if not (evidence or "").strip():
        errors["evidence"] = ["请填写依据 / the evidence is required"]
    ticket = (ticket or "").strip() or None
    if ticket and session.scalar(select(Ticket.id).where(Ticket.number == ticket)) is None:
        errors["ticket"] = [f"工单 {ticket} 不存在 / no ticket {ticket}"]
    value = None
    if amount not in (None, ""):
        try:
            value = float(amount)
        except (TypeError, ValueError):
            value = -1.0
        if not 0 < value <= 100:
            errors["amount"] = ["分值应在 0–100 之间 / points between 0 and 100"]
    if errors:
        raise Invalid("考核记录有错误 / the entry has errors", fields=errors)
    entry = ScorecardEntry(item_id=item.id, happened_on=happened_on, ticket=ticket, evidence=evidence.strip(),
                           amount=value if value is not None else item.per_event, entered_by=entered_by)
    session.add(entry)
    session.flush()
    return entry


def delete_entry(session: Session, entry_id: int) -> None:
    entry = session.get(ScorecardEntry, entry_id)
    if entry is None:
        raise NotFound(f"考核记录 {entry_id} 不存在 / no entry {entry_id}")
    session.delete(entry)
    session.flush()


def entries(session: Session, period: Period) -> list[ScorecardEntry]:
    return list(session.scalars(
        select(ScorecardEntry).where(ScorecardEntry.happened_on >= period.first, ScorecardEntry.happened_on <= period.last)
        .order_by(ScorecardEntry.happened_on.desc(), ScorecardEntry.id.desc())
    ))


EDITABLE = ("name", "name_en", "points", "per_event", "per_events", "cap", "source", "rule")


def update_item(session: Session, item_id: str, values: dict) -> ScorecardItem:
    """An admin's edit of one item: names, points, per-event deduction, group size, cap, source."""
    ensure_items(session)
    item = session.get(ScorecardItem, item_id)
    if item is None:
        raise NotFound(f"考核项 {item_id} 不存在 / no item {item_id}")
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for field in ("points", "per_event", "cap"):
        if field in values:
            try:
                clean[field] = float(values[field])
                if not 0 <= clean[field] <= 1000:
                    raise ValueError
            except (TypeError, ValueError):
                errors[field] = ["0–1000"]
    if "per_events" in values:
        try:
            clean["per_events"] = int(values["per_events"])
            if not 1 <= clean["per_events"] <= 100:
                raise ValueError
        except (TypeError, ValueError):
            errors["per_events"] = ["1–100"]
    if "source" in values:
        if values["source"] not in SOURCES:
            errors["source"] = list(SOURCES)
        clean["source"] = values["source"]
    for field in ("name", "name_en", "rule"):
        if field in values:
            clean[field] = str(values[field] or "").strip()
    if "name" in clean and not clean["name"]:
        errors["name"] = ["请填写名称 / a name is required"]
    if errors:
        raise Invalid("考核项有错误 / the item has errors", fields=errors)
    for field, value in clean.items():
        setattr(item, field, value)
    session.flush()
    return item
