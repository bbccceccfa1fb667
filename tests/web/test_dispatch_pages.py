"""What earlier people wrote is shown read-only above the next person's form."""

from __future__ import annotations

from .test_pages import CLASSIFY, task_id


def test_the_pm_sees_the_engineers_return_reason_above_an_empty_form(desk, api, app):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    api.complete("pm1", number, "pm_assign", engineer="eng1", pm_note="请上门")
    api.complete("eng1", number, "engineer", outcome="return_to_pm", return_reason="需要更换存储控制器，超出现场能力")
    desk.login("pm1")
    page = desk.text(f"/tasks/{task_id(app, number, 'pm_assign')}")
    assert "上次退回原因" in page and "需要更换存储控制器，超出现场能力" in page
    assert "派给" in page and "技术支持部" in page


def test_a_reopened_step_starts_empty_with_the_earlier_answers_shown_read_only(desk, api, app):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    api.complete("pm1", number, "pm_assign", engineer="eng1", pm_note="请上门")
    api.complete("eng1", number, "engineer", outcome="resolved", solution="重启交换机端口")
    api.confirm(number)
    api.complete("agent1", number, "callback", reached=True, solved=False, satisfaction="dissatisfied",
                 comment="端口仍然频繁断开")
    desk.login("eng1")
    page = desk.text(f"/tasks/{task_id(app, number, 'engineer')}")
    form = page[page.index('id="task-form"'):]
    earlier = page[page.index('id="earlier-steps"'):page.index('id="task-form"')]
    assert "重启交换机端口" in earlier and "端口仍然频繁断开" in earlier and "请上门" in earlier
    assert "重启交换机端口" not in form and 'value="resolved" checked' not in form


def test_the_intake_lookup_offers_a_chase_call_on_the_callers_open_ticket(desk, api, app):
    number = api.new_ticket(phone="13911112222", reporter_name="赵主任")["number"]
    desk.login("agent1")
    page = desk.text("/tickets/lookup?phone=1391111")
    assert number in page and f'href="/tickets/{number}#chase"' in page and "<form" not in page  # no form in a form
    assert f'action="/tickets/{number}/chase"' in desk.text(f"/tickets/{number}")
    res = desk.post(f"/tickets/{number}/chase", {"note": "第二次来电"})
    assert res.status_code == 302
    assert api.ticket(number)["chased"] == 1
    assert "13911112222" in desk.text("/tickets/lookup?phone=1391111")  # still one ticket, still open
    assert api.get("agent1", "/api/tickets?q=13911112222").get_json()["total"] == 1


def test_the_intake_says_what_hardware_categories_require(desk):
    desk.login("agent1")
    page = desk.text("/tickets/new")
    assert 'id="category-requires"' in page and "设备型号" in page


def test_the_ticket_page_fills_in_the_record_and_a_lead_reassigns(desk, api, app):
    number = api.new_ticket(reporter_name="")["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    desk.login("agent1")
    page = desk.text(f"/tickets/{number}")
    assert 'id="fill-in"' in page and "reassign-form" not in page  # only leads reassign
    assert desk.post(f"/tickets/{number}/supplement", {"reporter_name": "王工", "device_model": "H3C S5560",
                                                        "device_serial": "SN-001", "priority": "P1"}).status_code == 302
    assert api.ticket(number)["qualified"] is True
    assert 'id="fill-in"' not in desk.text(f"/tickets/{number}")
    desk.login("lead1")
    tid = task_id(app, number, "online_fix")
    assert "reassign-form" in desk.text(f"/tickets/{number}")
    assert desk.post(f"/tickets/tasks/{tid}/reassign", {"username": "lead1", "reason": "agent1 已下班"}).status_code == 302
    assert api.ticket(number)["open_tasks"][0]["assignee"] == "lead1"
