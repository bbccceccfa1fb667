"""The desk as people use it all day (issue 13): flow, both languages, labels not codes, sentences."""

from __future__ import annotations

import json
import re

import pytest

from web.test_pages import CLASSIFY, task_id


def english(desk) -> None:
    desk.post("/lang", {"lang": "en"})


def resolved_by_tech_support(api, number: str) -> None:
    api.complete("agent1", number, "classify", category="desktop", impact="low", urgency="low")
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    api.complete("pm2", number, "pm_assign", engineer="eng1")  # desktops: the applications and desktops PM (issue 8)
    api.complete("eng1", number, "engineer", outcome="escalate", solution="疑似硬件故障")
    api.complete("ts1", number, "tech_support", outcome="resolved", solution="更换主板")


def test_the_ticket_shows_labels_never_codes(desk, api):
    number = api.new_ticket()["number"]
    resolved_by_tech_support(api, number)
    desk.login("lead1")
    page = desk.text(f"/tickets/{number}")
    record = page.split('class="fields"', 1)[1].split("</dl>", 1)[0]
    for label in ("桌面终端", "应用与终端运维项目经理", "工作时间", "应用与终端运维项目"):
        assert label in record, label
    for code in (">desktop<", ">pm<", ">business<"):
        assert code not in record, code
    timeline = page.split('class="timeline"', 1)[1]
    # tech support's "resolved" is that step's own 已解决, not the online fix's 已在线解决
    tech = timeline.split("技术支持处理", 1)[1].split("</li>", 1)[0]
    assert "已解决" in tech and "已在线解决" not in tech


def test_english_pages_speak_english_down_to_the_diagram_text(desk, api, app):
    number = api.new_ticket("lead1")["number"]
    desk.login("agent1")
    english(desk)
    page = desk.text("/tickets/new")
    for text in ("Ticket type", "Incident / fault", "Monitoring alarm", "Reporter", "Register the call"):
        assert text in page, text
    assert "工单类型" not in page and "受理登记" not in page
    desk.login("lead1")
    english(desk)
    tid = task_id(app, number, "classify")
    page = desk.text(f"/tasks/{tid}")
    for text in ("Classify and prioritise", "Service category", "Desktop and terminals", "Impact", "Medium",
                 "[Classify and prioritise]"):
        assert text in page, text
    for text in ("服务类别", "桌面终端", "影响程度", "【分类定级】"):
        assert text not in page, text
    assert "Classify and prioritise" in desk.text("/inbox?scope=mine")
    desk.post(f"/tasks/{tid}", CLASSIFY)
    page = desk.text(f"/tickets/{number}")
    assert "Online fix" in page and "Network" in page


def test_english_timeline_names_each_steps_own_outcome(desk, api):
    number = api.new_ticket()["number"]
    resolved_by_tech_support(api, number)
    desk.login("lead1")
    english(desk)
    page = desk.text(f"/tickets/{number}")
    timeline = page.split('class="timeline"', 1)[1]
    assert "Resolved by technical support" in timeline and "Resolved online" not in timeline
    assert "Dispatch to the project manager" in timeline and "Escalate to technical support" in timeline
    record = page.split('class="fields"', 1)[1].split("</dl>", 1)[0]
    for label in ("Desktop and terminals", "PM, applications and desktops project", "Business hours",
                  "Applications and desktops project"):
        assert label in record, label
    # step names, actions and field labels are English; only what people typed (and their names) is Chinese
    words = re.findall(r'class="event-(?:action|title)">([^<]*)<|<dt>([^<]*)</dt>', timeline.split("</ol>", 1)[0])
    chinese = [w for pair in words for w in pair if re.search(r"[\u4e00-\u9fff]", w)]
    assert words and not chinese, chinese


# --- validation messages are sentences; contact data is checked -------------------------------------------


def test_a_too_long_title_is_told_in_a_sentence(api):
    res = api.post("agent1", "/api/tickets", json={"type": "incident", "channel": "phone", "title": "长" * 201,
                                                  "description": "x"})
    assert res.status_code == 422
    message = res.get_json()["fields"]["title"][0]
    assert message == "最多填写 200 个字 / enter at most 200 characters"
    assert "None" not in message


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("phone", "12345", "电话号码格式不正确"),
    ("phone", "138-0000-000", "电话号码格式不正确"),
    ("email", "wang@", "电子邮箱格式不正确"),
    ("email", "wang example.cn", "电子邮箱格式不正确"),
    ("occurred_at", "2099-01-01T08:00:00+08:00", "时间不能晚于现在"),
    ("occurred_at", "1999-12-31T08:00:00+08:00", "时间不能早于 2000 年"),
])
def test_contact_data_is_checked(api, field, value, reason):
    res = api.post("agent1", "/api/tickets", json={"type": "incident", "channel": "phone", "title": "t",
                                                  "description": "d", field: value})
    assert res.status_code == 422, res.get_json()
    assert res.get_json()["fields"][field][0].startswith(reason)
    assert list(res.get_json()["fields"]) == [field]  # nothing else was wrong, and nothing was stored
    assert api.get("agent1", "/api/tickets").get_json()["total"] == 0


@pytest.mark.parametrize(("field", "value"), [
    ("phone", "13800000000"), ("phone", "010-12345678"), ("phone", "+86 138 0000 0000"), ("phone", "0755-1234567-801"),
    ("email", "wang.gong@hospital.example.cn"), ("occurred_at", "2026-11-23T08:30:00+08:00"),
])
def test_good_contact_data_passes(api, field, value):
    api.new_ticket(**{field: value})


def test_the_reason_is_shown_at_the_field_on_the_intake_page(desk):
    desk.login("agent1")
    res = desk.post("/tickets/new", {"type": "incident", "channel": "phone", "title": "打印机", "description": "卡纸",
                                     "phone": "12345", "email": "wang@", "occurred_at": "2099-01-01T08:00"})
    assert res.status_code == 422
    page = res.get_data(as_text=True)
    for field, reason in (("phone", "电话号码格式不正确"), ("email", "电子邮箱格式不正确"), ("occurred_at", "时间不能晚于现在")):
        block = page.split(f'data-field="{field}"', 1)[1].split('data-field="', 1)[0]
        assert reason in block and 'class="error"' in block, field
    assert 'value="12345"' in page  # what was typed stays


# --- the admins' cockpit ------------------------------------------------------------------------------------


def _fail(app, number: str, reason: str) -> int:
    """Park the ticket's instance as the timer worker does when a step's script fails."""
    from engine.models import Ticket
    from engine.models import ProcessInstance
    from engine.runtime import timers
    from webforms.extensions import db

    from sqlalchemy.orm import sessionmaker

    with app.app_context():
        instance_id = db.session.scalars(db.select(Ticket.instance_id).where(Ticket.number == number)).one()
        db.session.remove()
        with sessionmaker(db.engine)() as session, session.begin():
            timers._park(session.get(ProcessInstance, instance_id), reason)
    return instance_id


def test_the_cockpit_counts_where_instances_wait_and_retries_failed_ones(desk, api, app):
    first = api.new_ticket()["number"]
    second = api.new_ticket()["number"]
    api.complete("agent1", second, "classify", **CLASSIFY)
    broken = _fail(app, first, "NameError: name 'sla_due' is not defined")
    desk.login("admin1")
    index = desk.text("/processes/")
    assert 'id="failed-count"' in index
    called = index.split('data-called="ticket_resolution"', 1)[1].split("</p>", 1)[0]
    assert "运行中 1" in called  # the second ticket is in its resolution, which is called by the desk process
    page = desk.text("/processes/service_desk/versions/1/cockpit")
    data = json.loads(page.split('id="diagram-data">', 1)[1].split("</script>", 1)[0])
    assert data["counts"]["ticket_resolution"]["online_fix"] >= 1
    assert "classify" not in data["counts"].get("service_desk", {})  # the first one is in error, not running
    row = page.split(f'data-instance="{broken}"', 1)[1].split("</tr>", 1)[0]
    assert first in row and "NameError: name &#39;sla_due&#39; is not defined" in row
    res = desk.post(f"/processes/instances/{broken}/retry")
    assert res.status_code == 302
    assert api.get("admin1", f"/api/instances/{broken}").get_json()["status"] == "running"
    assert f'data-instance="{broken}"' not in desk.text("/processes/service_desk/versions/1/cockpit")
    desk.login("owner1")
    assert desk.get("/processes/service_desk/versions/1/cockpit").status_code == 403


def test_called_processes_count_their_own_runs_not_their_callers(desk, api):
    """ticket_resolution ends when a ticket is resolved online, though the ticket waits for its callback."""
    online = api.new_ticket()["number"]
    api.complete("agent1", online, "classify", **CLASSIFY)
    api.complete("agent1", online, "online_fix", outcome="resolved", solution="电话指导重置密码")
    waiting = api.new_ticket()["number"]
    api.complete("agent1", waiting, "classify", **CLASSIFY)  # at the online fix: its resolution runs
    complaint = api.new_ticket(type="complaint", title="工程师态度差")["number"]
    api.complete("agent1", complaint, "classify", category="desktop", impact="low", urgency="low")
    api.complete("agent1", complaint, "complaint_record", complaint_target="eng1", complaint_detail="到场迟到两小时")
    api.complete("lead1", complaint, "complaint_handle", handling="已约谈当事人并致歉", responsible="lead1")
    api.complete("agent1", complaint, "complaint_callback", reached=True, satisfaction="basically_satisfied")
    api.complete("lead1", complaint, "improvement_plan", plan="开展服务礼仪培训", owner="pm1")
    api.complete("pm1", complaint, "improvement_implement", implemented=True, result="已完成培训")
    api.complete("agent1", complaint, "complaint_second_callback", second_reached=True, second_satisfaction="satisfied")
    desk.login("admin1")
    index = desk.text("/processes/")
    resolution = index.split('data-called="ticket_resolution"', 1)[1].split(">", 1)[0]
    assert 'data-running="1"' in resolution and 'data-completed="1"' in resolution, resolution
    handled = index.split('data-called="complaint"', 1)[1].split("</p>", 1)[0]
    assert 'data-running="0"' in handled and 'data-completed="1"' in handled, handled  # was "completed 0"
