"""Pausing and resuming from the ticket page; the ledger shows from, to, by and reason."""

from __future__ import annotations


def dispatched(api) -> str:
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
    api.complete("agent1", number, "online_fix", outcome="dispatch")
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    return number


def test_the_holder_pauses_and_resumes_from_the_ticket_page(api, desk):
    number = dispatched(api)
    desk.login("agent1")
    page = desk.text(f"/tickets/{number}")
    assert "从未挂起" in page and f"/tickets/{number}/pause" not in page  # not the holder
    desk.login("eng1")
    page = desk.text(f"/tickets/{number}")
    assert f"/tickets/{number}/pause" in page
    res = desk.post(f"/tickets/{number}/pause", {"reason": "等待客户"}, follow_redirects=True)
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and "已挂起" in page and "等待客户" in page and "仍在挂起" in page
    assert f"/tickets/{number}/resume" in page
    again = desk.post(f"/tickets/{number}/pause", {"reason": "x"}, follow_redirects=True)
    assert "已挂起" in again.get_data(as_text=True)  # the 409 message, shown as a flash
    page = desk.post(f"/tickets/{number}/resume", follow_redirects=True).get_data(as_text=True)
    assert "仍在挂起" not in page and "等待客户" in page
    assert api.ticket(number)["paused"] is False


def test_an_empty_reason_is_refused_on_the_page(api, desk):
    number = dispatched(api)
    desk.login("eng1")
    page = desk.post(f"/tickets/{number}/pause", {"reason": " "}, follow_redirects=True).get_data(as_text=True)
    assert "请填写挂起原因" in page
    assert api.ticket(number)["pauses"] == []
