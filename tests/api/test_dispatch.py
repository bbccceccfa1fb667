"""Dispatch as 001 §六 has it: the project's PM, returns with a reason, tech support, confirmations."""

from __future__ import annotations

NETWORK = {"category": "network", "impact": "medium", "urgency": "medium"}  # 基础设施运维项目, pm1
APPLICATION = {"category": "application", "impact": "medium", "urgency": "medium"}  # 应用与终端运维项目, pm2


def dispatched(api, classify: dict) -> str:
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **classify)
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    return number


def group_tasks(api, user: str, number: str) -> list[str]:
    res = api.get(user, f"/api/tasks?scope=group&ticket={number}")
    assert res.status_code == 200
    return [t["bpmn_id"] for t in res.get_json()["items"]]


def test_a_pm_sees_and_does_only_their_projects_tickets(api):
    infra, app_ticket = dispatched(api, NETWORK), dispatched(api, APPLICATION)
    assert api.ticket(infra)["pm_group"] == "pm_infra" and api.ticket(app_ticket)["pm_group"] == "pm_app"
    assert group_tasks(api, "pm1", infra) == ["pm_assign"] and group_tasks(api, "pm1", app_ticket) == []
    assert group_tasks(api, "pm2", app_ticket) == ["pm_assign"] and group_tasks(api, "pm2", infra) == []
    task = api.task("pm2", app_ticket, "pm_assign")
    res = api.post("pm1", f"/api/tasks/{task['id']}/complete", json={"data": {"engineer": "eng1"}})
    assert res.status_code == 403
    api.complete("pm2", app_ticket, "pm_assign", engineer="eng1")


def test_an_engineer_returns_with_a_reason_the_pm_then_sees(api):
    number = dispatched(api, NETWORK)
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    task = api.task("eng1", number, "engineer")
    res = api.post("eng1", f"/api/tasks/{task['id']}/complete", json={"data": {"outcome": "return_to_pm"}})
    assert res.status_code == 422 and "return_reason" in res.get_json()["fields"]
    assert api.ticket(number)["stage"] == ["engineer"]  # nothing changed
    api.complete("eng1", number, "engineer", outcome="return_to_pm", return_reason="需要更换存储控制器，超出现场能力")
    ticket = api.ticket(number)
    assert ticket["stage"] == ["pm_assign"] and ticket["returned"] == 1


def test_the_pm_reassigns_to_tech_support_who_resolves_then_pm_and_desk_confirm(api):
    number = dispatched(api, NETWORK)
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    api.complete("eng1", number, "engineer", outcome="return_to_pm", return_reason="疑似硬件故障")
    api.complete("pm1", number, "pm_assign", assign_to="tech_support")
    assert api.ticket(number)["stage"] == ["tech_support"]
    api.complete("ts1", number, "tech_support", outcome="resolved", solution="更换主控板")
    ticket = api.ticket(number)
    assert ticket["status"] == "resolved" and ticket["resolved_role"] == "tech_support"
    assert ticket["stage"] == ["pm_confirm"]
    api.complete("pm1", number, "pm_confirm", pm_confirmed="confirmed")
    assert api.ticket(number)["stage"] == ["desk_confirm"]
    api.complete("agent1", number, "desk_confirm", desk_confirmed="confirmed")
    assert api.ticket(number)["stage"] == ["callback"]


def test_an_unconfirmed_fix_goes_back_to_the_pm(api):
    number = dispatched(api, NETWORK)
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    api.complete("eng1", number, "engineer", outcome="resolved", solution="重启")
    task = api.task("pm1", number, "pm_confirm")
    res = api.post("pm1", f"/api/tasks/{task['id']}/complete", json={"data": {"pm_confirmed": "rework"}})
    assert res.status_code == 422 and "pm_confirm_note" in res.get_json()["fields"]
    api.complete("pm1", number, "pm_confirm", pm_confirmed="rework", pm_confirm_note="客户反映仍有丢包")
    assert api.ticket(number)["stage"] == ["pm_assign"]
    api.complete("pm1", number, "pm_assign", engineer="eng2")
    api.complete("eng2", number, "engineer", outcome="resolved", solution="更换光模块")
    api.complete("pm1", number, "pm_confirm", pm_confirmed="confirmed")
    api.complete("agent1", number, "desk_confirm", desk_confirmed="rework", desk_confirm_note="未写明根因")
    assert api.ticket(number)["stage"] == ["pm_assign"]


def holder(api, number: str, bpmn_id: str) -> str | None:
    task = api.task("lead1" if bpmn_id in ("desk_confirm", "callback", "callback_review", "close") else "admin1",
                    number, bpmn_id)
    return task["assignee"]


def test_the_next_step_stays_with_whoever_did_the_previous_one_in_their_group(api):
    """Issue 13's flow through issue 8's steps: the same person keeps their group's next step, claimed;
    a step for another group (or a project's PM group they are not in) waits in that group's inbox."""
    number = dispatched(api, NETWORK)  # agent1 registered, classified and dispatched without claiming
    assert holder(api, number, "pm_assign") is None  # the PM group's step: not the agent's
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    api.complete("eng1", number, "engineer", outcome="resolved", solution="更换光模块")
    assert holder(api, number, "pm_confirm") is None  # ${pm_group}: pm_infra, which eng1 is not in
    api.complete("pm1", number, "pm_confirm", pm_confirmed="rework", pm_confirm_note="客户反映仍有丢包")
    assert holder(api, number, "pm_assign") == "pm1"  # the PM who sent it back dispatches again
    api.complete("pm1", number, "pm_assign", engineer="eng2")
    api.complete("eng2", number, "engineer", outcome="resolved", solution="更换光模块并测试")
    api.complete("pm1", number, "pm_confirm", pm_confirmed="confirmed")
    assert holder(api, number, "desk_confirm") is None  # the desk's step: waits for the desk
    api.complete("lead1", number, "desk_confirm", desk_confirmed="confirmed")
    assert holder(api, number, "callback") == "lead1"  # the agent who confirmed makes the callback
    api.complete("lead1", number, "callback", reached=True, solved=True, satisfaction="dissatisfied", comment="太慢")
    assert holder(api, number, "callback_review") is None  # the lead's review: lead1 did the callback as an agent
