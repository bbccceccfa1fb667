"""engine.runtime.paths: which elements and flows of a ticket's own diagrams its run went through."""

from __future__ import annotations

from engine.desk import tickets
from engine.runtime import paths
from webforms.extensions import db

CLASSIFY = {"category": "network", "impact": "medium", "urgency": "medium"}


def escalated_and_closed(api) -> str:
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    api.complete("eng1", number, "engineer", outcome="escalate", solution="疑似硬件故障")
    api.complete("ts1", number, "tech_support", outcome="resolved", solution="更换光模块")
    api.confirm(number)
    api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="satisfied")
    api.complete("lead1", number, "close", summary="已处理完毕")
    return number


def marks_of(app, number: str) -> dict:
    with app.app_context():
        ticket = tickets.get_by_number(db.session, number)
        return paths.visited(db.session, ticket.instance)


def test_a_running_ticket_marks_done_and_current_per_process(api, app):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    marks = marks_of(app, number)
    desk, work = marks["service_desk"], marks["ticket_resolution"]
    assert desk["file"] == "service_desk.bpmn" and work["file"] == "resolution.bpmn"
    assert {"start", "intake", "accept", "classify"} <= set(desk["completed"])
    assert "resolution" in desk["current"]  # the call activity runs while its process works
    assert work["current"] == ["online_fix"]
    assert {"Flow_start_to_intake", "Flow_intake_to_accept", "Flow_accept_to_merge_sla", "Flow_not_classified",
            "Flow_decide_priority_to_merge_sla", "Flow_classified"} <= set(desk["flows"])
    assert "Flow_first_time" in work["flows"]


def test_the_path_taken_and_only_that_path(api, app):
    marks = marks_of(app, escalated_and_closed(api))
    desk, work = marks["service_desk"], marks["ticket_resolution"]
    assert desk["current"] == [] and work["current"] == []
    assert {"intake", "classify", "resolution", "callback", "close", "end"} <= set(desk["completed"])
    assert {"online_fix", "pm_assign", "engineer", "tech_support"} <= set(work["completed"])
    assert "vendor_result" not in work["completed"]
    taken = {"Flow_dispatch", "Flow_merge_pm_to_pm_assign", "Flow_escalate", "Flow_merge_tech_to_tech_support",
             "Flow_tech_resolved"}
    assert taken <= set(work["flows"])
    not_taken = {"Flow_online_resolved", "Flow_vendor", "Flow_return_to_pm", "Flow_engineer_resolved"}
    assert not not_taken & set(work["flows"])
    assert {"Flow_type_other", "Flow_reached", "Flow_solved", "Flow_merge_close_to_close"} <= set(desk["flows"])
    assert not {"Flow_type_complaint", "Flow_not_reached", "Flow_not_solved"} & set(desk["flows"])
    assert "complaint" not in marks
