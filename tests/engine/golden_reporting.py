"""A golden dataset built by hand for the KPI and scorecard tests, with every edge the issue names.

All times are Asia/Shanghai local. October 2026 runs 10-01 00:00 ≤ t < 11-01 00:00; the
cycle "2026-11" runs 10-21 00:00 ≤ t < 11-21 00:00, the cycle "2026-10" 09-21 ≤ t < 10-21.

    ticket  what it is for
    INC-01  closed 59:59 after acceptance: on time; satisfied
    INC-02  closed 60:00 exactly after acceptance: late; very satisfied
    INC-03  handed off at 59:59 (on time), returned to the PM twice, unqualified; basically satisfied
    INC-04  P1 responded 20 min after it occurred and closed 90 min after acceptance: late on both
            (−2, not −2.5); dissatisfied callback *and* complained about by CMP-08 (−5 once)
    INC-05  P1 responded 15:00 exactly after acceptance (occurred unknown) and closed 60:00 exactly:
            neither is a violation; no callback
    INC-06  accepted 10-31 23:59:59, resolved, called back and closed on 11-01: in October it is
            accepted but neither completed nor called back
    INC-07  accepted 09-30 23:59:59 (September), resolved and closed 10-01 00:00:00 (October, 1 s);
            its callback on 10-01 carries no rating
    CMP-08  a complaint about INC-04, accepted 10-15
    INC-09  reopened: carries its last resolved_at (26 h after acceptance) and closed_at; dissatisfied
    INC-10  accepted 10-20 23:59 (cycle 2026-10), unqualified, open
    INC-11  P1 accepted 10-21 00:00 (cycle 2026-11), never responded: a violation
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from engine.desk.tickets import LOCAL_TZ
from engine.models import Call, ScorecardEntry, Ticket, TicketStatus


def L(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


TICKETS = [
    dict(number="INC-01", priority="P2", accepted_at=L("2026-10-05 08:00:00"), resolved_at=L("2026-10-05 08:30:00"),
         closed_at=L("2026-10-05 08:59:59"), callback_at=L("2026-10-05 08:40:00"), satisfaction="satisfied",
         organisation="A医院", category="software", resolved_role="agent"),
    dict(number="INC-02", priority="P3", accepted_at=L("2026-10-06 09:00:00"), resolved_at=L("2026-10-06 09:50:00"),
         closed_at=L("2026-10-06 10:00:00"), callback_at=L("2026-10-06 09:55:00"), satisfaction="very_satisfied",
         organisation="A医院", category="software", resolved_role="agent"),
    dict(number="INC-03", priority="P3", accepted_at=L("2026-10-07 10:00:00"), handoff_at=L("2026-10-07 10:59:59"),
         returned=2, resolved_at=L("2026-10-08 10:00:00"), closed_at=L("2026-10-08 12:00:00"),
         callback_at=L("2026-10-08 11:00:00"), satisfaction="basically_satisfied", qualified=False,
         engineer="eng1", resolved_role="engineer", organisation="B医院", category="network"),
    dict(number="INC-04", priority="P1", occurred_at=L("2026-10-10 07:50:00"), accepted_at=L("2026-10-10 08:00:00"),
         responded_at=L("2026-10-10 08:10:00"), handoff_at=L("2026-10-10 08:05:00"),
         resolved_at=L("2026-10-10 08:50:00"), closed_at=L("2026-10-10 09:30:00"),
         callback_at=L("2026-10-10 09:20:00"), satisfaction="dissatisfied", engineer="eng2",
         resolved_role="engineer", organisation="B医院", category="server"),
    dict(number="INC-05", priority="P1", accepted_at=L("2026-10-12 14:00:00"), responded_at=L("2026-10-12 14:15:00"),
         handoff_at=L("2026-10-12 14:15:00"), resolved_at=L("2026-10-12 14:40:00"),
         closed_at=L("2026-10-12 15:00:00"), engineer="eng2", resolved_role="engineer",
         organisation="B医院", category="server"),
    dict(number="INC-06", priority="P3", accepted_at=L("2026-10-31 23:59:59"), resolved_at=L("2026-11-01 00:10:00"),
         callback_at=L("2026-11-01 00:20:00"), satisfaction="satisfied", closed_at=L("2026-11-01 00:30:00"),
         organisation="C中学", category="desktop", resolved_role="agent"),
    dict(number="INC-07", priority="P4", accepted_at=L("2026-09-30 23:59:59"), resolved_at=L("2026-10-01 00:00:00"),
         closed_at=L("2026-10-01 00:00:00"), callback_at=L("2026-10-01 00:00:00"), satisfaction=None,
         organisation="C中学", category="software", resolved_role="agent"),
    dict(number="CMP-08", type="complaint", priority="P3", accepted_at=L("2026-10-15 09:00:00"),
         resolved_at=L("2026-10-15 09:20:00"), closed_at=L("2026-10-15 09:30:00"),
         callback_at=L("2026-10-15 09:25:00"), satisfaction="satisfied", complaint_about="INC-04",
         organisation="B医院", category="service", resolved_role="agent"),
    dict(number="INC-09", priority="P3", accepted_at=L("2026-10-16 08:00:00"), resolved_at=L("2026-10-17 10:00:00"),
         closed_at=L("2026-10-17 11:00:00"), callback_at=L("2026-10-17 10:30:00"), satisfaction="dissatisfied",
         reopened=1, organisation="A医院", category="software", resolved_role="agent"),
    dict(number="INC-10", priority="P4", accepted_at=L("2026-10-20 23:59:00"), qualified=False,
         organisation="C中学", category="software"),
    dict(number="INC-11", priority="P1", accepted_at=L("2026-10-21 00:00:00"), organisation="A医院", category="server"),
]

CALLS = [
    dict(call_id="C1", ring_at=L("2026-10-01 00:00:00"), answered_at=L("2026-10-01 00:00:20")),  # 20 s: on time
    dict(call_id="C2", ring_at=L("2026-10-02 10:00:00"), answered_at=L("2026-10-02 10:00:21")),  # 21 s: late
    dict(call_id="C3", ring_at=L("2026-10-03 10:00:00"), answered_at=None),  # missed: not counted
    dict(call_id="C4", ring_at=L("2026-09-30 23:59:59"), answered_at=L("2026-10-01 00:00:04")),  # September
]


def load(session) -> None:
    for row in TICKETS:
        data = {"type": "incident", "title": row["number"], **row}
        status = TicketStatus.CLOSED if data.get("closed_at") else (
            TicketStatus.RESOLVED if data.get("resolved_at") else TicketStatus.OPEN)
        session.add(Ticket(status=status, **data))
    for row in CALLS:
        session.add(Call(**row))
    session.flush()


def load_entries(session) -> None:
    """The lead's manual scorecard entries for October (after ``scorecards.ensure_items``)."""
    day = date(2026, 10, 22)
    entries = [("maintenance_permit", 5, "INC-11")]
    entries += [("report_forms", 1, None)] * 4  # 4 in the cycle → −1 (1 per 3)
    entries += [("incident_response", 1, None)] * 3  # 3 → −1 (1 per 2)
    entries += [("knowledge_base", 2, "INC-09"), ("bonus", 5, None)]
    for i, (item, amount, ticket) in enumerate(entries):
        session.add(ScorecardEntry(item_id=item, happened_on=day + timedelta(days=i % 3), amount=amount,
                                   ticket=ticket, evidence="会议纪要", entered_by="lead1"))
    session.add(ScorecardEntry(item_id="report_forms", happened_on=date(2026, 11, 1), amount=1, evidence="11月",
                               entered_by="lead1"))  # November: not in October
    session.flush()
