"""What the desk does beside the process steps: 补录, chase calls (催单), a lead's reassignment."""

from __future__ import annotations

CLASSIFY = {"category": "server", "impact": "medium", "urgency": "medium"}  # hardware: device fields required


def history(ticket: dict, action: str) -> list[dict]:
    return [h for h in ticket["history"] if h["action"] == action]


# --- one completeness rule, filled in later ------------------------------------------------------------


def test_missing_fields_are_filled_in_later_and_the_ticket_is_requalified(api):
    number = api.new_ticket(reporter_name="", occurred_at=None)["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    ticket = api.ticket(number)
    assert not ticket["qualified"]
    assert ticket["missing_fields"] == ["reporter_name", "occurred_at", "device_model", "device_serial"]
    res = api.post("agent1", f"/api/tickets/{number}/supplement", json={"priority": "P1"})
    assert res.status_code == 422  # not a record field: nothing changes
    res = api.post("agent1", f"/api/tickets/{number}/supplement", json={"reporter_name": "王工",
                                                                          "occurred_at": "not a time"})
    assert res.status_code == 422 and "occurred_at" in res.get_json()["fields"]
    assert api.ticket(number)["missing_fields"] == ["reporter_name", "occurred_at", "device_model", "device_serial"]
    res = api.post("agent1", f"/api/tickets/{number}/supplement", json={
        "reporter_name": "王工", "occurred_at": "2026-11-23T08:30:00+08:00", "device_model": "华为 RH2288",
    })  # fmt: skip
    assert res.status_code == 200, res.get_json()
    ticket = res.get_json()
    assert ticket["missing_fields"] == ["device_serial"] and ticket["reporter_name"] == "王工"
    entry = history(ticket, "supplement")[0]
    assert entry["actor"] == "agent1" and entry["data"]["missing_after"] == ["device_serial"]
    # a later step still sees the filled-in values: the record stays as filled in
    api.complete("agent1", number, "online_fix", outcome="dispatch")
    assert api.ticket(number)["missing_fields"] == ["device_serial"]


def test_a_closed_ticket_can_be_filled_in_too(api):
    number = api.new_ticket(organisation="")["number"]
    api.complete("agent1", number, "classify", category="application", impact="low", urgency="low")
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="已指导")
    api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="satisfied")
    api.complete("lead1", number, "close", summary="已处理")
    closed_at = api.ticket(number)["closed_at"]
    ticket = api.post("lead1", f"/api/tickets/{number}/supplement", json={"organisation": "市人民医院信息科"}).get_json()
    assert ticket["qualified"] and ticket["status"] == "closed" and ticket["closed_at"] == closed_at


# --- chase calls ----------------------------------------------------------------------------------------


def test_a_chase_call_adds_to_the_open_ticket_and_tells_its_holder(api, app):
    number = api.new_ticket(phone="13900000001")["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="dispatch")
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    found = api.get("agent1", "/api/tickets/open-for?phone=13900000001").get_json()["items"]
    assert [t["number"] for t in found] == [number]
    res = api.post("agent1", f"/api/tickets/{number}/chase", json={"note": "客户第二次来电催促"})
    assert res.status_code == 200
    ticket = res.get_json()
    assert ticket["chased"] == 1 and history(ticket, "chase")[0]["data"]["note"] == "客户第二次来电催促"
    with app.app_context():
        from engine.desk import audit
        from webforms.extensions import db

        notes = audit.notifications(db.session, "eng1")
        assert any(n.kind == "chase" and number in n.message for n in notes)
    res = api.get("agent1", "/api/tickets?q=13900000001").get_json()
    assert res["total"] == 1  # no duplicate ticket


def test_a_closed_ticket_is_not_chased(api):
    number = api.new_ticket(type="consultation")["number"]
    api.complete("agent1", number, "classify", category="other", impact="low", urgency="low")
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="已答复")
    api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="satisfied")
    api.complete("lead1", number, "close", summary="已答复")
    res = api.post("agent1", f"/api/tickets/{number}/chase", json={})
    assert res.status_code == 422 and api.ticket(number)["chased"] == 0


# --- a lead reassigns any open task ---------------------------------------------------------------------


def test_a_lead_reassigns_an_open_task_to_a_named_person_with_a_reason(api):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="dispatch")
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    task = api.task("eng1", number, "engineer")
    res = api.post("agent1", f"/api/tasks/{task['id']}/reassign", json={"username": "eng2", "reason": "eng1 休假"})
    assert res.status_code == 403
    res = api.post("lead1", f"/api/tasks/{task['id']}/reassign", json={"username": "eng2", "reason": " "})
    assert res.status_code == 422 and "reason" in res.get_json()["fields"]
    res = api.post("lead1", f"/api/tasks/{task['id']}/reassign", json={"username": "nobody", "reason": "x"})
    assert res.status_code == 422 and "username" in res.get_json()["fields"]
    res = api.post("lead1", f"/api/tasks/{task['id']}/reassign", json={"username": "eng2", "reason": "eng1 休假"})
    assert res.status_code == 200 and res.get_json()["assignee"] == "eng2"
    forbidden = api.post("eng1", f"/api/tasks/{task['id']}/complete", json={"data": {"outcome": "resolved"}})
    assert forbidden.status_code == 403
    api.complete("eng2", number, "engineer", outcome="resolved", solution="更换电源")
    entry = history(api.ticket(number), "reassign")[0]
    assert entry["actor"] == "lead1" and entry["data"] == {"from": "eng1", "to": "eng2", "reason": "eng1 休假"}
