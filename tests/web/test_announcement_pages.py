"""Announcements on the login page and the inbox, managed by leads."""

from __future__ import annotations


def test_published_announcement_shows_on_login_and_inbox(desk):
    desk.login("lead1")
    res = desk.post("/announcements", {"title": "周六机房断电检修", "body": "08:00-12:00 暂停远程服务", "audience": "all"})
    assert res.status_code == 302
    assert "周六机房断电检修" in desk.text("/inbox")
    desk.post("/logout")
    assert "周六机房断电检修" in desk.text("/login")
    desk.login("lead1")
    page = desk.text("/announcements")
    row_id = page.split("/announcements/")[1].split("/withdraw")[0]
    assert desk.post(f"/announcements/{row_id}/withdraw").status_code == 303
    assert "周六机房断电检修" not in desk.text("/inbox")


def test_customer_only_notices_stay_off_the_staff_pages_and_agents_cannot_publish(desk):
    desk.login("lead1")
    desk.post("/announcements", {"title": "客户专用通知", "audience": "customers"})
    assert "客户专用通知" not in desk.text("/inbox")
    assert desk.post("/announcements", {"title": "", "audience": "all"}).status_code == 422
    desk.login("agent1")
    assert desk.post("/announcements", {"title": "x"}).status_code == 403
    assert "新公告" not in desk.text("/announcements")
