"""Issue 11, process assignment: a step the process gave to one person (``camunda:assignee``) stays theirs.

The PM picks the engineer (resolution.bpmn, ``camunda:assignee="${engineer}"``). That
person used to claim the step and release it to the group, where anyone could take
it. Now claiming it changes nothing, releasing it is refused, nobody else may claim
it, and only the lead's reassignment (with a reason, audited) gives it to someone else.
"""

from __future__ import annotations

import pytest

from engine.models import AuditEvent

from webforms.extensions import db


def dispatched(api) -> str:
    """A network fault the desk could not fix online: it waits for pm1 to pick the engineer."""
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    return number


@pytest.fixture
def engineer_step(api) -> tuple[str, int]:
    """A ticket whose engineer step the PM gave to eng1, and that step's id."""
    number = dispatched(api)
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    task = api.task("eng1", number, "engineer")
    assert task["assignee"] == "eng1" and not task["claimed"]
    return number, task["id"]


def holder(api, tid: int) -> tuple[str | None, bool]:
    task = api.get("admin1", f"/api/tasks/{tid}").get_json()
    return task["assignee"], task["claimed"]


def test_claim_then_release_no_longer_hands_it_to_the_group(api, engineer_step):
    number, tid = engineer_step
    res = api.post("eng1", f"/api/tasks/{tid}/claim")  # already theirs: nothing changes
    assert res.status_code == 200 and res.get_json()["assignee"] == "eng1" and not res.get_json()["claimed"]
    res = api.post("eng1", f"/api/tasks/{tid}/unclaim")
    assert res.status_code == 403
    assert "流程指派给 eng1" in res.get_json()["message"] and "reassign" in res.get_json()["message"]
    assert holder(api, tid) == ("eng1", False)
    assert api.get("eng2", f"/api/tasks?scope=group&ticket={number}").get_json()["items"] == []


def test_nobody_else_claims_or_releases_it(api, engineer_step):
    _number, tid = engineer_step
    for user in ("eng2", "admin1", "lead1"):
        assert api.post(user, f"/api/tasks/{tid}/claim").status_code == 403, user
    for user in ("lead1", "admin1", "eng2"):
        assert api.post(user, f"/api/tasks/{tid}/unclaim").status_code == 403, user
    assert holder(api, tid) == ("eng1", False)


def test_only_the_leads_reassignment_moves_it_and_it_stays_assigned(api, app, engineer_step):
    number, tid = engineer_step
    res = api.post("lead1", f"/api/tasks/{tid}/reassign", json={"username": "eng2", "reason": "eng1 休假"})
    assert res.status_code == 200 and res.get_json()["assignee"] == "eng2"
    assert holder(api, tid) == ("eng2", False)
    assert api.post("eng2", f"/api/tasks/{tid}/unclaim").status_code == 403  # still the assignment, now eng2's
    assert api.post("eng1", f"/api/tasks/{tid}/claim").status_code == 403
    with app.app_context():
        moves = db.session.scalars(db.select(AuditEvent).where(AuditEvent.task_id == tid,
                                                               AuditEvent.action.in_(("claim", "unclaim", "reassign"))))
        assert [(e.action, e.actor, e.data) for e in moves] == [
            ("reassign", "lead1", {"from": "eng1", "to": "eng2", "reason": "eng1 休假"})]
    api.complete("eng2", number, "engineer", outcome="resolved", solution="更换光模块")


def test_a_group_step_is_still_claimed_and_released(api):
    """The rule is for the process's assignments: a step claimed from the group goes back as before."""
    number = api.new_ticket()["number"]
    task = api.task("agent1", number, "classify")
    assert api.post("agent1", f"/api/tasks/{task['id']}/unclaim").status_code == 200
    assert api.post("agent1", f"/api/tasks/{task['id']}/unclaim").status_code == 422  # nobody holds it now
    assert api.post("lead1", f"/api/tasks/{task['id']}/claim").status_code == 200
    assert api.post("agent1", f"/api/tasks/{task['id']}/claim").status_code == 403


def test_the_pages_refuse_the_same(desk, api, app, engineer_step):
    number, tid = engineer_step
    desk.login("eng1")
    inbox = desk.text("/inbox?scope=mine")
    assert number in inbox and f"/tasks/{tid}/unclaim" not in inbox and f"/tasks/{tid}/claim" not in inbox
    res = desk.post(f"/tasks/{tid}/unclaim")
    assert res.status_code == 403 and "流程指派给 eng1" in res.get_data(as_text=True)
    assert desk.post(f"/tasks/{tid}/claim").status_code == 302  # theirs already; nothing changes
    desk.login("eng2")
    assert desk.post(f"/tasks/{tid}/claim").status_code == 403
    desk.login("lead1")
    res = desk.post("/inbox/bulk", {"action": "assign", "assignee": "eng2", "task": str(tid)}, follow_redirects=True)
    assert "1 个任务未能处理" in res.get_data(as_text=True) and "流程指派给 eng1" in res.get_data(as_text=True)
    assert holder(api, tid) == ("eng1", False)
    assert desk.post(f"/tasks/{tid}/unclaim").status_code == 403
    res = desk.post(f"/tickets/tasks/{tid}/reassign", {"username": "eng2", "reason": "eng1 出差"})  # the ticket page
    assert res.status_code == 302 and holder(api, tid) == ("eng2", False)
