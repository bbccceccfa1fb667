"""Callback rules (000, 003, 001 §六) and complaints that name their ticket (004 §3.3–4.1)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy.orm import sessionmaker

from engine.runtime import timers
from webforms.extensions import db

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai, a Monday
CLASSIFY = {"category": "application", "impact": "low", "urgency": "low"}


def run_worker(app) -> int:
    with app.app_context():
        return timers.run_due(sessionmaker(bind=db.engine))


def fixed_on_the_phone(api) -> str:
    number = api.new_ticket(occurred_at=T0.isoformat())["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="电话指导重置密码")
    return number


def test_a_reached_customer_must_give_one_of_the_four_ratings(api):
    number = fixed_on_the_phone(api)
    task = api.task("agent1", number, "callback")
    res = api.post("agent1", f"/api/tasks/{task['id']}/complete", json={"data": {"reached": True, "solved": True}})
    assert res.status_code == 422 and "satisfaction" in res.get_json()["fields"]
    assert api.ticket(number)["stage"] == ["callback"]


def test_unanswered_callbacks_retry_every_2_hours_then_the_lead_records_unreachable(app, api):
    with time_machine.travel(T0, tick=False) as clock:
        number = fixed_on_the_phone(api)
        for attempt in range(1, 4):
            api.complete("agent1", number, "callback", reached=False, comment="无人接听")
            ticket = api.ticket(number)
            assert ticket["callback_attempts"] == attempt and ticket["callback_at"] is None
            if attempt < 3:
                assert ticket["stage"] == []  # waiting for the retry timer
                clock.shift(timedelta(hours=1, minutes=59))
                run_worker(app)
                assert api.ticket(number)["stage"] == []
                clock.shift(timedelta(minutes=2))
                run_worker(app)
                assert api.ticket(number)["stage"] == ["callback"]
        assert api.ticket(number)["stage"] == ["callback_review"]
        task = api.task("lead1", number, "callback_review")
        res = api.post("lead1", f"/api/tasks/{task['id']}/complete", json={"data": {"review_decision": "unreachable"}})
        assert res.status_code == 422 and "review_reason" in res.get_json()["fields"]
        api.complete("lead1", number, "callback_review", review_decision="unreachable", review_reason="三次无人接听")
        api.complete("lead1", number, "close", summary="客户无法联系")
        ticket = api.ticket(number)
    assert ticket["status"] == "closed" and ticket["callback_at"] is None and ticket["callback_attempts"] == 3
    assert ticket["sla"]["callback"]["breached"] is True  # counts against the callback rate
    assert any(h["action"] == "complete" and h["data"].get("review_decision") == "unreachable" for h in ticket["history"])


def test_a_dissatisfied_customer_goes_to_the_lead_who_opens_a_complaint_naming_the_ticket(api):
    number = fixed_on_the_phone(api)
    api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="dissatisfied", comment="态度差")
    assert api.ticket(number)["stage"] == ["callback_review"]
    api.complete("lead1", number, "callback_review", review_decision="complaint", review_reason="客户投诉服务态度")
    ticket = api.ticket(number)
    assert ticket["stage"] == ["close"]
    opened = [h for h in ticket["history"] if h["action"] == "open_complaint"]
    assert len(opened) == 1
    complaint = api.ticket(opened[0]["data"]["complaint"])
    assert complaint["type"] == "complaint" and complaint["complaint_about"] == number
    assert complaint["description"] == "客户投诉服务态度" and complaint["stage"] == ["classify"]


def test_a_dissatisfied_customer_the_lead_sends_back_gets_the_resolver_again(api):
    number = fixed_on_the_phone(api)
    api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="dissatisfied")
    api.complete("lead1", number, "callback_review", review_decision="reopen")
    ticket = api.ticket(number)
    assert ticket["stage"] == ["online_fix"] and ticket["reopened"] == 1 and ticket["status"] == "open"


def test_a_complaint_names_an_existing_ticket(api):
    about = fixed_on_the_phone(api)
    res = api.post("agent1", "/api/tickets", json={
        "type": "complaint", "channel": "phone", "title": "工程师迟到", "description": "约定 9 点，11 点才到",
        "reporter_name": "王工", "organisation": "市人民医院信息科", "phone": "13800000000",
        "complaint_about": "INC-20000101-0001",
    })  # fmt: skip
    assert res.status_code == 422 and "complaint_about" in res.get_json()["fields"]
    complaint = api.new_ticket(type="complaint", complaint_about=about)
    assert complaint["complaint_about"] == about
    assert api.new_ticket(complaint_about=about)["complaint_about"] is None  # only complaints name one


def test_a_complaint_closes_only_after_the_plan_is_implemented_and_a_second_callback(api):
    number = api.new_ticket(type="complaint", title="工程师态度差")["number"]
    api.complete("agent1", number, "classify", category="other", impact="medium", urgency="medium")
    api.complete("agent1", number, "complaint_record", complaint_target="刘工", complaint_detail="电话中态度生硬")
    api.complete("lead1", number, "complaint_handle", handling="已约谈当事人并致歉")
    api.complete("agent1", number, "complaint_callback", reached=False)
    assert api.ticket(number)["stage"] == ["complaint_callback"]
    api.complete("agent1", number, "complaint_callback", reached=True, satisfaction="basically_satisfied")
    api.complete("lead1", number, "improvement_plan", plan="开展服务礼仪培训")
    api.complete("pm1", number, "improvement_implement", implemented=False, result="培训待排期")
    assert api.ticket(number)["stage"] == ["improvement_implement"]
    api.complete("pm1", number, "improvement_implement", implemented=True, result="11 月 30 日已完成培训")
    assert api.ticket(number)["stage"] == ["complaint_second_callback"]
    api.complete("agent1", number, "complaint_second_callback", second_reached=True, second_satisfaction="satisfied")
    api.complete("lead1", number, "close", summary="已整改")
    ticket = api.ticket(number)
    assert ticket["status"] == "closed" and ticket["callback_attempts"] == 3
    assert all(clock["stopped_at"] for clock in ticket["sla"].values())


def test_a_second_round_does_not_carry_the_first_rounds_answers(api):
    number = fixed_on_the_phone(api)
    api.complete("agent1", number, "callback", reached=True, solved=False, satisfaction="dissatisfied", comment="仍无法登录")
    assert api.ticket(number)["satisfaction"] == "dissatisfied"
    api.complete("agent1", number, "online_fix", outcome="resolved")  # no solution typed this time
    api.complete("agent1", number, "callback", reached=False)
    ticket = api.ticket(number)
    assert ticket["satisfaction"] is None and ticket["solution"] == "电话指导重置密码"
