"""The staff desk's pages, through the Flask test client."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import time_machine

from engine.desk import audit
from engine.models import HumanTask, LoginThrottle, TaskState, User
from engine.runtime import tasks
from webforms.extensions import db

CLASSIFY = {"category": "network", "impact": "medium", "urgency": "medium"}


def task_id(app, number: str, bpmn_id: str) -> int:
    with app.app_context():
        from engine.models import Ticket

        ticket = db.session.scalars(db.select(Ticket).where(Ticket.number == number)).one()
        row = db.session.scalars(
            db.select(HumanTask).where(HumanTask.ticket_id == ticket.id, HumanTask.bpmn_id == bpmn_id,
                                       HumanTask.state == TaskState.READY)
        ).one()
        return row.id


# --- signing in -------------------------------------------------------------------------


def test_pages_need_login(client):
    res = client.get("/inbox")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_wrong_password_does_not_say_which_part(desk):
    res = desk.login("agent1", "nope")
    assert res.status_code == 401
    assert "用户名或密码错误" in res.get_data(as_text=True)
    res = desk.login("nobody", "demo")
    assert "用户名或密码错误" in res.get_data(as_text=True)


def test_login_and_logout(desk):
    res = desk.login("agent1")
    assert res.status_code == 200 and res.request.path == "/inbox"
    page = res.get_data(as_text=True)
    assert "王小服" in page and "收件箱" in page
    res = desk.post("/logout", follow_redirects=True)
    assert res.request.path == "/login"
    assert desk.get("/inbox").status_code == 302


def test_failed_logins_make_the_client_wait_and_say_how_long(desk, app):
    for _ in range(5):
        assert desk.login("agent1", "wrong").status_code == 401
    res = desk.login("agent1")  # right password, but this client has to wait now (tests/web/test_login_throttle.py)
    assert res.status_code == 429
    assert "登录失败次数过多，请 1 分钟后再试" in res.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(db.select(LoginThrottle).where(LoginThrottle.account == "agent1")).one().blocked_until


def test_next_is_followed_only_within_the_site(desk):
    page = desk.get("/login").get_data(as_text=True)
    token = desk.token_from(page)
    res = desk.post("/login?next=https://evil.example/", {"username": "agent1", "password": "demo",
                                                          "csrf_token": token})
    assert res.headers["Location"] == "/inbox"


def test_form_without_csrf_token_is_refused(desk):
    page = desk.get("/login").get_data(as_text=True)
    assert desk.token_from(page)
    res = desk.post("/login", {"username": "agent1", "password": "demo"}, csrf=False)
    assert res.status_code == 400
    desk.login("agent1")
    assert desk.post("/tickets/new", {"type": "incident"}, csrf=False).status_code == 400


def test_api_needs_no_csrf_token(api):
    assert api.new_ticket()["number"]


# --- language -----------------------------------------------------------------------------


def test_language_switch_to_english_and_back(desk):
    desk.login("agent1")
    assert "收件箱" in desk.text("/inbox")
    res = desk.post("/lang", {"lang": "en", "next": "/tickets"})
    assert res.headers["Location"] == "/tickets"
    page = desk.text("/inbox")
    assert "Inbox" in page and "My tasks" in page and 'lang="en"' in page
    desk.post("/lang", {"lang": "zh_CN"})
    assert "我的任务" in desk.text("/inbox")


def test_engine_messages_show_in_the_page_language(desk):
    desk.post("/lang", {"lang": "en"}, csrf=False)  # refused: no token yet
    page = desk.get("/login").get_data(as_text=True)
    desk.token = desk.token_from(page)
    desk.post("/lang", {"lang": "en"})
    res = desk.login("agent1", "bad")
    text = res.get_data(as_text=True)
    assert "wrong username or password" in text and "用户名或密码错误" not in text


# --- inbox ---------------------------------------------------------------------------------


def test_inbox_scopes(desk, api):
    number = api.new_ticket("lead1")["number"]
    desk.login("agent1")
    assert number not in desk.text("/inbox?scope=mine")
    assert number not in desk.text("/inbox")  # lead1 registered it and goes on to classify it
    desk.login("lead1")
    assert number in desk.text("/inbox?scope=mine")
    task = re.search(r'/tasks/(\d+)"', desk.text("/inbox?scope=mine")).group(1)
    desk.post(f"/tasks/{task}/unclaim")
    desk.login("agent1")
    assert number not in desk.text("/inbox?scope=mine")
    group = desk.text("/inbox")  # the first view: mine and my groups' unclaimed tasks together
    assert number in group and "分类定级" in group
    desk.login("pm1")
    assert number not in desk.text("/inbox?scope=group")
    assert number not in desk.text("/inbox?scope=all")  # not a lead: falls back to own tasks
    desk.login("lead1")
    page = desk.text("/inbox?scope=all")
    assert number in page and "全部待办" in page


def test_inbox_list_is_a_fragment_that_refreshes(desk, api):
    number = api.new_ticket()["number"]
    desk.login("agent1")
    page = desk.text("/inbox?scope=group")
    assert 'hx-trigger="every 30s"' in page
    assert re.search(r'id="task-list"[^>]*hx-get="/inbox/list\?scope=group"', page)
    fragment = desk.text("/inbox/list?scope=group")
    assert number in fragment and "<html" not in fragment and "sidebar" not in fragment


def test_inbox_filters(desk, api):
    first = api.new_ticket(organisation="市人民医院")["number"]
    second = api.new_ticket(organisation="第二中学", type="request")["number"]
    desk.login("agent1")
    page = desk.text("/inbox?scope=group&organisation=第二中学")
    assert second in page and first not in page
    page = desk.text("/inbox?scope=group&type=incident")
    assert first in page and second not in page
    page = desk.text("/inbox?scope=group&stage=classify")
    assert first in page and second in page
    assert "crumbs" not in desk.text("/inbox?scope=group&stage=nothing_like_this")


def test_inbox_sorted_by_sla_due_with_countdown(desk, api):
    low = api.new_ticket(title="第一单")["number"]
    urgent = api.new_ticket(title="第二单")["number"]
    api.complete("agent1", low, "classify", category="desktop", impact="low", urgency="low")
    api.complete("agent1", urgent, "classify", category="network", impact="high", urgency="high")
    desk.login("agent1")
    page = desk.text("/inbox?scope=group")
    dues = re.findall(r'data-due="([^"]+)"', page)
    assert len(dues) == 2 and dues == sorted(dues)
    assert page.index(urgent) < page.index(low)  # P1 answers within 15 minutes: on top
    assert 'class="countdown"' in page


def test_inbox_colours_rows_as_the_deadline_nears_and_passes(desk, api):
    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    with time_machine.travel(t0, tick=False) as clock:
        number = api.new_ticket(occurred_at=t0.isoformat())["number"]
        api.complete("agent1", number, "classify", category="network", impact="high", urgency="high")  # P1: 15 min
        desk.login("agent1")

        def row_class() -> str:
            page = desk.text("/inbox?scope=group")
            return re.search(r'<tr class="(sla-\w+)" data-task="\d+" data-bpmn="online_fix"', page).group(1)

        assert row_class() == "sla-ok"
        clock.move_to(t0 + timedelta(minutes=12))  # 3 of 15 minutes left
        assert row_class() == "sla-near"
        clock.move_to(t0 + timedelta(minutes=16))
        assert row_class() == "sla-late"


def test_claim_and_unclaim(desk, api, app):
    number = api.new_ticket()["number"]
    tid = task_id(app, number, "classify")
    desk.login("agent1")
    res = desk.post(f"/tasks/{tid}/claim", {"next": "/inbox?scope=mine"})
    assert res.status_code == 302 and res.headers["Location"] == "/inbox?scope=mine"
    page = desk.text("/inbox?scope=mine")
    assert number in page and "退回" in page
    desk.login("lead1")
    assert f"/tasks/{tid}/claim" not in desk.text("/inbox?scope=group")
    desk.login("agent1")
    assert desk.post(f"/tasks/{tid}/unclaim").status_code == 302
    assert number not in desk.text("/inbox?scope=mine")
    assert f"/tasks/{tid}/claim" in desk.text("/inbox?scope=group")


def test_a_task_claimed_by_someone_else_is_theirs(desk, api, app):
    number = api.new_ticket()["number"]
    tid = task_id(app, number, "classify")
    desk.login("agent1")
    desk.post(f"/tasks/{tid}/claim")
    desk.login("lead1")
    res = desk.post(f"/tasks/{tid}/claim")
    assert res.status_code == 403
    assert "该任务已分配给 agent1" in res.get_data(as_text=True)
    assert desk.get(f"/tasks/{tid}").status_code == 403


# --- task forms ------------------------------------------------------------------------------


def test_task_form_renders_fields_labels_options_and_required(desk, api, app):
    number = api.new_ticket(reporter_name="李主任")["number"]
    desk.login("agent1")
    page = desk.text(f"/tasks/{task_id(app, number, 'classify')}")
    for label in ("服务类别", "影响程度", "紧急程度"):
        assert label in page
    assert re.search(r'<select[^>]*name="category"[^>]*required', page)
    assert '<option value="network">网络</option>' in page
    assert re.search(r'<input[^>]*name="impact"[^>]*required[^>]*type="radio"[^>]*value="high"', page)
    assert "<span>高</span>" in page
    assert "李主任您好" in page  # the standard phrase, with the ticket's data filled in
    assert number in page and "及时处理" in page  # summary and SLA clocks above the form: they run from acceptance
    api.complete("agent1", number, "classify", **CLASSIFY)
    page = desk.text(f"/tasks/{task_id(app, number, 'online_fix')}")
    assert 'data-clock="response"' in page and "响应" in page and "已用" in page


def test_user_picker_lists_active_users_of_the_role(desk, api, app):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="dispatch")
    desk.login("pm1")
    page = desk.text(f"/tasks/{task_id(app, number, 'pm_assign')}")
    picker = re.search(r'<select[^>]*name="engineer".*?</select>', page, re.S).group(0)
    assert 'value="eng1"' in picker and 'value="eng2"' in picker and 'value="agent1"' not in picker


def test_missing_required_field_shows_error_and_keeps_input(desk, api, app):
    number = api.new_ticket()["number"]
    tid = task_id(app, number, "classify")
    desk.login("agent1")
    res = desk.post(f"/tasks/{tid}", {"category": "server", "impact": "high"})
    assert res.status_code == 422
    page = res.get_data(as_text=True)
    urgency = re.search(r'<div class="field has-error[^"]*"[^>]*data-field="urgency".*?</div>\s*</div>', page, re.S)
    assert urgency and "必填" in urgency.group(0)
    assert "has-error" not in re.search(r'<div class="field[^"]*"[^>]*data-field="impact"', page).group(0)
    assert re.search(r'<option selected value="server">', page)
    assert re.search(r'<input checked[^>]*name="impact"[^>]*value="high"', page)
    with app.app_context():
        assert db.session.get(HumanTask, tid).state == TaskState.READY


def test_completing_a_task_moves_the_ticket_on(desk, api, app):
    number = api.new_ticket()["number"]
    tid = task_id(app, number, "classify")
    desk.login("agent1")
    res = desk.post(f"/tasks/{tid}", CLASSIFY)
    online_fix = task_id(app, number, "online_fix")
    assert res.status_code == 302 and res.headers["Location"] == f"/tasks/{online_fix}"  # the same agent goes on
    assert api.ticket(number)["stage"] == ["online_fix"]
    assert "分类定级" in desk.text(res.headers["Location"])  # the flash message
    res = desk.post(f"/tasks/{online_fix}", {"outcome": "dispatch", "solution": "远程排查无果"})
    assert res.headers["Location"] == f"/tickets/{number}"  # the PM's turn: back to the ticket


def test_boolean_and_datetime_fields(desk, api, app):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="已指导")
    desk.login("agent1")
    tid = task_id(app, number, "callback")
    page = desk.text(f"/tasks/{tid}")
    assert re.search(r'type="radio"[^>]*name="reached"[^>]*value="true"|name="reached" type="radio" value="true"', page)
    res = desk.post(f"/tasks/{tid}", {"reached": "true", "solved": "true", "satisfaction": "satisfied"})
    assert res.status_code == 302
    ticket = api.ticket(number)
    assert ticket["satisfaction"] == "satisfied" and ticket["stage"] == ["close"]


def test_task_of_another_role_is_forbidden(desk, api, app):
    number = api.new_ticket()["number"]
    tid = task_id(app, number, "classify")
    desk.login("eng1")
    assert desk.get(f"/tasks/{tid}").status_code == 403
    assert desk.post(f"/tasks/{tid}", CLASSIFY).status_code == 403
    assert number not in desk.text("/inbox?scope=group")
    assert api.ticket(number)["stage"] == ["classify"]


def test_second_completion_says_who_was_first(desk, api, app):
    number = api.new_ticket("lead1")["number"]
    tid = task_id(app, number, "classify")
    api.complete("lead1", number, "classify", **CLASSIFY)
    desk.login("agent1")
    res = desk.post(f"/tasks/{tid}", CLASSIFY)
    assert res.status_code == 409
    page = res.get_data(as_text=True)
    assert "该任务已由 李组长 于" in page and "完成" in page
    assert "该任务已由 李组长 于" in desk.text(f"/tasks/{tid}")


def test_instructions_are_sandboxed(app):
    from webforms.tasks.forms import instructions

    with app.test_request_context():
        assert instructions("您好 {{ name }}", {"name": "王工"}) == "您好 王工"
        hostile = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
        assert instructions(hostile, {}) == hostile
        assert instructions("{{ config }}", {}) == ""
        assert instructions("{% broken", {}) == "{% broken"


# --- intake --------------------------------------------------------------------------------


def test_intake_page_is_the_phone_screen(desk):
    desk.login("agent1")
    page = desk.text("/tickets/new")
    assert re.search(r'type="radio"[^>]*autofocus|autofocus[^>]*type="radio"', page)
    assert "choices-big" in page and "事件/故障" in page and "电话" in page
    assert 'hx-get="/tickets/lookup"' in page and 'hx-post="/tickets/completeness"' in page
    assert "不合格工单" in page  # nothing entered yet
    assert "您好，这里是运维服务台" in page  # the intake's standard phrases


def test_intake_creates_a_ticket(desk, api):
    desk.login("agent1")
    number = desk.new_ticket()
    assert number.startswith("INC-")
    page = desk.text(f"/tickets/{number}")
    assert "核心交换机端口故障" in page and "已登记" in page
    assert api.ticket(number)["created_by"] == "agent1"


def test_intake_with_missing_required_keeps_input(desk):
    desk.login("agent1")
    res = desk.post("/tickets/new", {"type": "incident", "channel": "phone", "reporter_name": "赵六", "title": ""})
    assert res.status_code == 422
    page = res.get_data(as_text=True)
    assert 'value="赵六"' in page and "必填" in page


def test_unqualified_record_is_accepted_and_flagged(desk):
    desk.login("agent1")
    number = desk.new_ticket(phone="", email="", reporter_name="")
    page = desk.text(f"/tickets/{number}")
    assert "不合格工单" in page


def test_completeness_check(desk):
    desk.login("agent1")
    res = desk.post("/tickets/completeness", {"reporter_name": "王工", "organisation": "医院"})
    page = res.get_data(as_text=True)
    assert "不合格工单" in page
    for label in ("电话或邮箱", "问题描述", "发生时间"):
        assert label in page
    assert "报障人" not in page
    res = desk.post("/tickets/completeness", {"reporter_name": "王工", "organisation": "医院", "email": "a@b.cn",
                                              "description": "x", "occurred_at": "2026-11-23T08:00"})
    assert "信息完整" in res.get_data(as_text=True)


def test_lookup_returns_earlier_organisations(desk, api):
    api.new_ticket(organisation="市人民医院信息科", reporter_name="王工", phone="13800000000")
    api.new_ticket(organisation="市第二中学", reporter_name="钱老师", phone="13900000000", email="q@school.cn")
    desk.login("agent1")
    page = desk.text("/tickets/lookup?organisation=市第二")
    assert "市第二中学" in page and "钱老师" in page and "市人民医院" not in page
    assert "q@school.cn" in page and "data-fill" in page
    page = desk.text("/tickets/lookup?phone=1380")
    assert "市人民医院信息科" in page and "市第二中学" not in page
    assert "data-fill" not in desk.text("/tickets/lookup?organisation=%25")  # LIKE wildcards are literal


def test_intake_is_for_desk_staff_only(desk):
    desk.login("eng1")
    assert desk.get("/tickets/new").status_code == 403
    assert "新建工单" not in desk.text("/tickets")


# --- tickets --------------------------------------------------------------------------------


def test_ticket_list_search_and_paging(desk, api):
    for i in range(22):
        api.new_ticket(title=f"打印机故障 {i}", organisation="财务部" if i % 2 else "人事部")
    api.new_ticket(title="VPN 无法连接", type="request")
    desk.login("mgr1")  # the desk reads every ticket (issue 11)
    page = desk.text("/tickets")
    assert "23" in page and "第 1 / 2 页" in page
    page = desk.text("/tickets?page=2")
    assert "第 2 / 2 页" in page
    page = desk.text("/tickets?q=VPN")
    assert "VPN 无法连接" in page and "打印机" not in page
    page = desk.text("/tickets?type=request")
    assert "VPN 无法连接" in page and "打印机" not in page
    assert "打印机" in desk.text("/tickets?q=财务部")


def test_ticket_page_shows_record_clocks_timeline_and_diagram(desk, api):
    desk.login("agent1")
    number = desk.new_ticket()
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    api.complete("pm1", number, "pm_assign", engineer="eng1", pm_note="请尽快到场")
    page = desk.text(f"/tickets/{number}")
    for text in ("市人民医院信息科", "13800000000", "P3"):
        assert text in page
    for clock in ("响应", "转交", "解决"):
        assert clock in page
    # the timeline: who, what, and the submitted data with the form's labels
    for text in ("受理登记", "分类定级", "在线解决", "项目经理派单", "张经理", "处理工程师", "刘工", "转派项目经理",
                 "请尽快到场", "影响程度"):
        assert text in page, text
    data = re.search(r'<script type="application/json" id="diagram-data">(.*?)</script>', page, re.S).group(1)
    import json

    diagram = json.loads(data)
    assert [f["name"] for f in diagram["files"]] == ["service_desk.bpmn", "resolution.bpmn"]
    assert "<bpmn:definitions" in diagram["files"][0]["xml"]
    assert "intake" in diagram["marks"]["service_desk"]["completed"]
    assert "resolution" in diagram["marks"]["service_desk"]["current"]
    assert "engineer" in diagram["marks"]["ticket_resolution"]["current"]
    assert "pm_assign" in diagram["marks"]["ticket_resolution"]["completed"]
    assert diagram["marks"]["ticket_resolution"]["flows"]
    assert "dist/diagram.js" in page


def test_ticket_page_offers_the_open_task_to_who_may_do_it(desk, api, app):
    number = api.new_ticket()["number"]
    tid = task_id(app, number, "classify")
    desk.login("agent1")
    assert f"/tasks/{tid}" in desk.text(f"/tickets/{number}")
    desk.login("mgr1")  # reads every ticket, does not classify
    assert f"/tasks/{tid}" not in desk.text(f"/tickets/{number}")
    desk.login("eng1")  # issue 11: not a ticket eng1 worked on
    assert desk.get(f"/tickets/{number}").status_code == 403


def test_unknown_ticket_is_404(desk):
    desk.login("agent1")
    res = desk.get("/tickets/INC-19990101-0001")
    assert res.status_code == 404 and "不存在" in res.get_data(as_text=True)


# --- notifications ------------------------------------------------------------------------------


def test_notifications_bell_and_mark_read(desk, api, app):
    number = api.new_ticket()["number"]
    with app.app_context():
        sent = audit.notify_role(db.session, "lead", "sla_breach", f"工单 {number} 的响应时限已超时")
        db.session.commit()
        assert sent == 1
        ids = [n.id for n in audit.notifications(db.session, "lead1")]
    desk.login("lead1")
    page = desk.text("/inbox")
    assert 'data-count="1"' in page and f"工单 {number} 的响应时限已超时" in page
    assert 'hx-vals=\'{"ids": "all"}\'' in page  # opening the bell marks every unread one read
    assert desk.post("/notifications/read", {"ids": str(ids[0])}, csrf=False).status_code == 400
    res = desk.post("/notifications/read", {"ids": str(ids[0])}, headers={"HX-Request": "true"})
    assert res.status_code == 200 and 'data-count="0"' in res.get_data(as_text=True)
    assert 'data-count="0"' in desk.text("/inbox")
    with app.app_context():
        assert audit.notifications(db.session, "lead1", unread_only=True) == []


def test_roles_shape_the_sidebar(desk):
    desk.login("eng1")
    page = desk.text("/inbox")
    assert "/tickets/new" not in page and "流程/版本" not in page
    desk.login("owner1")
    assert "流程/版本" in desk.text("/inbox")


def test_may_do_matches_what_the_inbox_shows(desk, api, app):
    number = api.new_ticket()["number"]
    with app.app_context():
        row = db.session.get(HumanTask, task_id(app, number, "classify"))
        eng = db.session.scalars(db.select(User).where(User.username == "eng1")).one()
        assert not tasks.may_do(eng, row)


def test_local_times_are_written_as_babel_writes_them(app):
    """The desk's digit patterns are written by strftime; each must read exactly as Babel's own."""
    from datetime import datetime, timezone

    from flask_babel import format_datetime

    from webforms.i18n import _strftime_pattern, local_time

    moments = [datetime(2026, 12, 31, 16, 5, 9, tzinfo=timezone.utc),  # 00:05 the next year in Beijing
               datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc), datetime(2026, 7, 4, 23, 59, 59)]  # naive: UTC
    patterns = ["yyyy-MM-dd HH:mm", "MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "MM-dd HH:mm:ss", "yyyy-MM-dd", "HH:mm:ss",
                "yyyy年MM月dd日 HH:mm", "d MMM yyyy", "EEE HH:mm", "'at' HH:mm"]
    with app.test_request_context():
        for pattern in patterns:
            for moment in moments:
                assert local_time(moment, pattern) == format_datetime(moment, pattern), (pattern, moment)
        assert local_time(moments[0]) == "2027-01-01 00:05" and local_time(None) == "—"
        assert local_time("2026-12-31T16:05:09Z", "MM-dd HH:mm") == "01-01 00:05"
    assert _strftime_pattern("MM-dd HH:mm") == "%m-%d %H:%M" and _strftime_pattern("yyyy年MM月") == "%Y年%m月"
    assert [_strftime_pattern(p) for p in ("d MMM yyyy", "EEE HH:mm", "'at' HH:mm")] == [None, None, None]
