"""Every path of the desk process, driven through the JSON API as the people who do it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine

CLASSIFY = {"category": "network", "impact": "medium", "urgency": "medium"}


def dispatch_to(api, number: str, engineer: str = "eng1") -> None:
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    api.complete("pm1", number, "pm_assign", engineer=engineer, pm_note="请尽快到场")


def callback_and_close(api, number: str) -> dict:
    if "pm_confirm" in api.ticket(number)["stage"]:
        api.confirm(number)
    api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="satisfied", comment="好")
    api.complete("lead1", number, "close", summary="已处理完毕", to_kb=True)
    return api.ticket(number)


def test_intake_creates_a_numbered_open_ticket(api):
    ticket = api.new_ticket()
    assert ticket["number"].startswith("INC-")
    assert ticket["status"] == "open"
    assert ticket["stage"] == ["classify"]
    assert ticket["qualified"] is True
    assert [t["bpmn_id"] for t in ticket["open_tasks"]] == ["classify"]
    assert ticket["history"][0]["action"] == "create_ticket"
    assert ticket["history"][0]["actor"] == "agent1"


def test_ticket_numbers_count_per_type_and_day(api):
    first = api.new_ticket()["number"]
    second = api.new_ticket()["number"]
    request = api.new_ticket(type="request")["number"]
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1
    assert request.startswith("SR-") and request.endswith("-0001")


def test_missing_contact_data_is_recorded_not_refused(api):
    ticket = api.new_ticket(phone="", email="", reporter_name="")
    assert ticket["qualified"] is False
    assert set(ticket["missing_fields"]) >= {"phone", "reporter_name"}


def test_online_fix_path(api):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="指导客户重启端口")
    ticket = api.ticket(number)
    assert ticket["status"] == "resolved"
    assert ticket["stage"] == ["callback"]
    assert ticket["resolved_by"] == "agent1"
    ticket = callback_and_close(api, number)
    assert ticket["status"] == "closed"
    assert ticket["satisfaction"] == "satisfied"
    assert ticket["to_kb"] is True
    assert ticket["stage"] == []
    assert ticket["priority"] == "P3"
    assert ticket["sla"]["response"]["stopped_at"] and ticket["sla"]["handoff"]["stopped_at"]
    assert not any(c["breached"] for c in ticket["sla"].values())


def test_pm_assigns_engineer_who_solves(api):
    number = api.new_ticket()["number"]
    dispatch_to(api, number, "eng1")
    task = api.task("eng1", number, "engineer")
    assert task["assignee"] == "eng1"
    # the task is eng1's alone: eng2 neither sees it nor may complete it
    res = api.get("eng2", f"/api/tasks?scope=group&ticket={number}")
    assert res.get_json()["items"] == []
    res = api.post("eng2", f"/api/tasks/{task['id']}/complete", json={"data": {"outcome": "resolved"}})
    assert res.status_code == 403
    api.complete("eng1", number, "engineer", outcome="resolved", solution="更换光模块")
    ticket = api.ticket(number)
    assert ticket["engineer"] == "eng1" and ticket["resolved_by"] == "eng1" and ticket["status"] == "resolved"
    assert callback_and_close(api, number)["status"] == "closed"


def test_engineer_returns_to_pm_who_reassigns(api):
    number = api.new_ticket()["number"]
    dispatch_to(api, number, "eng1")
    api.complete("eng1", number, "engineer", outcome="return_to_pm", return_reason="非本人负责区域")
    assert api.ticket(number)["stage"] == ["pm_assign"]
    api.complete("pm1", number, "pm_assign", engineer="eng2")
    assert api.task("eng2", number, "engineer")["assignee"] == "eng2"
    api.complete("eng2", number, "engineer", outcome="resolved", solution="已修复")
    assert api.ticket(number)["resolved_by"] == "eng2"
    assert callback_and_close(api, number)["status"] == "closed"


def test_pm_must_pick_an_engineer(api):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="dispatch")
    task = api.task("pm1", number, "pm_assign")
    res = api.post("pm1", f"/api/tasks/{task['id']}/complete", json={"data": {"engineer": "agent1"}})
    assert res.status_code == 422
    assert "engineer" in res.get_json()["fields"]


def test_engineer_escalates_to_tech_support_and_vendor(api):
    number = api.new_ticket()["number"]
    dispatch_to(api, number)
    api.complete("eng1", number, "engineer", outcome="escalate", solution="疑似硬件故障")
    api.complete("ts1", number, "tech_support", outcome="vendor", vendor_case="华为 TAC 12345")
    ticket = api.ticket(number)
    assert ticket["stage"] == ["vendor_result"]
    assert ticket["vendor_case"] == "华为 TAC 12345"
    api.complete("ts1", number, "vendor_result", solution="厂商更换主板", vendor_reference="RMA-1")
    ticket = api.ticket(number)
    assert ticket["status"] == "resolved" and ticket["resolved_role"] == "tech_support"
    assert callback_and_close(api, number)["status"] == "closed"


def test_callback_not_solved_reopens_to_the_resolver(api):
    number = api.new_ticket()["number"]
    dispatch_to(api, number, "eng2")
    api.complete("eng2", number, "engineer", outcome="resolved", solution="重启设备")
    api.confirm(number)
    api.complete("agent1", number, "callback", reached=True, solved=False, satisfaction="dissatisfied", comment="问题仍在")
    ticket = api.ticket(number)
    assert ticket["status"] == "open"
    assert ticket["reopened"] == 1
    assert api.task("eng2", number, "engineer")["assignee"] == "eng2"
    api.complete("eng2", number, "engineer", outcome="resolved", solution="更换电源")
    assert callback_and_close(api, number)["status"] == "closed"


def test_callback_not_reached_is_tried_again_2_hours_later(app, api):
    from engine.runtime import timers
    from sqlalchemy.orm import sessionmaker
    from webforms.extensions import db

    with time_machine.travel(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc), tick=False) as clock:
        number = api.new_ticket()["number"]
        api.complete("agent1", number, "classify", **CLASSIFY)
        api.complete("agent1", number, "online_fix", outcome="resolved", solution="已指导")
        api.complete("agent1", number, "callback", reached=False, solved=False)
        assert api.ticket(number)["stage"] == []
        clock.shift(timedelta(hours=2, seconds=1))
        with app.app_context():
            timers.run_due(sessionmaker(bind=db.engine))
        assert api.ticket(number)["stage"] == ["callback"]
        assert callback_and_close(api, number)["status"] == "closed"


def test_consultation_gets_a_callback_within_two_hours(api):
    number = api.new_ticket(type="consultation", title="如何申请VPN账号")["number"]
    assert number.startswith("CON-")
    api.complete("agent1", number, "classify", category="other", impact="low", urgency="low")
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="告知申请流程")
    clock = api.ticket(number)["sla"]["callback"]
    due = datetime.fromisoformat(clock["due_at"])
    started = datetime.fromisoformat(clock["started_at"])
    assert clock["minutes"] == 120
    assert timedelta(0) < due - started <= timedelta(hours=2) or clock["calendar"] == "business"


def test_complaint_runs_the_complaint_process(api):
    number = api.new_ticket(type="complaint", title="工程师态度差")["number"]
    assert number.startswith("CMP-")
    api.complete("agent1", number, "classify", category="other", impact="medium", urgency="medium")
    api.complete("agent1", number, "complaint_record", complaint_target="eng1", complaint_detail="到场迟到两小时")
    api.complete("lead1", number, "complaint_handle", handling="约谈工程师，向客户致歉", responsible="lead1")
    assert api.ticket(number)["status"] == "resolved"
    api.complete("agent1", number, "complaint_callback", reached=True, satisfaction="basically_satisfied")
    api.complete("lead1", number, "improvement_plan", plan="建立到场时限提醒", owner="pm1")
    api.complete("pm1", number, "improvement_implement", implemented=True, result="已上线提醒")
    api.complete("agent1", number, "complaint_second_callback", second_reached=True, second_satisfaction="satisfied")
    api.complete("lead1", number, "close", summary="投诉已处理并改进")
    ticket = api.ticket(number)
    assert ticket["status"] == "closed"
    assert ticket["satisfaction"] == "basically_satisfied"


@pytest.mark.parametrize("impact,urgency,priority", [
    ("high", "high", "P1"), ("high", "medium", "P2"), ("medium", "high", "P2"),
    ("medium", "medium", "P3"), ("low", "high", "P3"), ("low", "low", "P4"),
])  # fmt: skip
def test_priority_matrix(api, impact, urgency, priority):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", category="server", impact=impact, urgency=urgency)
    ticket = api.ticket(number)
    assert ticket["priority"] == priority
    assert ticket["sla_calendar"] == ("24x7" if priority in ("P1", "P2") else "business")
