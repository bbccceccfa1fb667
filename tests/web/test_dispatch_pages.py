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
