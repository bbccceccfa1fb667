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
