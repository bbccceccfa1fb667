"""Both languages everywhere (issue 13): what English pages still showed in Chinese, and codes for labels.

The migration preview, the record-completeness lists, the reports' charts and
scorecard, the ticket list and its CSV, the inbox's step filter, the process list,
the duty roster and the bell: at 1366 px and 390 px, in Chinese and in English.
Screenshots go to tmp/artefacts/ like the other issue-13 tests.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import close_context, serve_desk
# the people and sizes of issue 13's other browser tests (``artefacts`` and ``visitor`` are fixtures)
from tests.browser.test_daily_use import CASES, IDS, TASK_URL, artefacts, visitor  # noqa: F401

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
CALL = {"type": "incident", "channel": "phone", "title": "交换机端口故障", "description": "三楼交换机端口 down",
        "reporter_name": "王工", "organisation": "市人民医院信息科", "phone": "13800000000",
        "occurred_at": "2026-01-05T08:30:00+08:00"}  # fmt: skip


def _token(request, base: str, username: str) -> dict:
    res = request.post(base + "/api/tokens", data={"username": username, "password": "demo"})
    assert res.status == 201, res.text()
    return {"Authorization": f"Bearer {res.json()['token']}"}


@pytest.fixture(scope="module")
def migrating_desk(tmp_path_factory, browser):
    """A desk of its own (it deploys a second service_desk version): a ticket waits at classify on v1, v2 is deployed."""
    work = tmp_path_factory.mktemp("desk-migrate")
    with serve_desk(work) as base:
        context = browser.new_context()
        try:
            res = context.request.post(base + "/api/tickets", headers=_token(context.request, base, "agent1"), data=CALL)
            assert res.status == 201, res.text()
        finally:
            close_context(context)
        bundle = work / "bundle"
        bundle.mkdir()
        for path in [*(ROOT / "bpmn").glob("*.bpmn"), *(ROOT / "rules").glob("*.dmn"), ROOT / "bpmn" / "labels.en.json"]:
            (bundle / path.name).write_bytes(path.read_bytes())
        desk = bundle / "service_desk.bpmn"  # v2: classify's instructions say it differently
        desk.write_text(desk.read_text().replace("我们会按照服务时限尽快为您处理", "我们会尽快为您处理"))
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'desk.sqlite'}", "PYTHONWARNINGS": "ignore"}
        deploy = subprocess.run([sys.executable, "-m", "webforms.cli", "deploy", str(bundle), "--note", "v2"], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=300)
        assert deploy.returncode == 0 and "service_desk v2" in deploy.stdout, deploy.stdout + deploy.stderr
        yield base


# --- the migration preview ----------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "lang"), CASES, ids=IDS)
def test_the_migration_preview_names_steps_in_the_pages_language(migrating_desk, visitor, size, lang, artefacts):
    admin = visitor(size, lang)
    admin.base = migrating_desk
    admin.login("admin1")
    page = admin.page
    page.goto(f"{migrating_desk}/processes/service_desk/migrate?from=1&to=2&preview=1")
    preview = page.locator("#preview").inner_text()
    assert "王小服" in page.locator("#preview-form").inner_text()  # who started it, by name, not "agent1"
    assert page.locator("#preview .plan[data-migratable=true]").count() == 1
    if lang == "en":
        assert "Classify and prioritise (kept; changed: instructions)" in preview, preview
        assert not CJK.search(preview.replace("交换机端口故障", "")), preview
    else:
        assert "分类定级 (保留; 修改: 说明)" in preview, preview
        assert "documentation" not in preview and "Classify" not in preview
    admin.no_horizontal_scroll()
    admin.shot(artefacts, "migration-preview")
    assert admin.errors == []


# --- record completeness, the ticket list and its CSV, the inbox's step filter -------------------------------


@pytest.mark.parametrize(("size", "lang"), CASES, ids=IDS)
def test_completeness_and_the_lists_speak_the_pages_language(visitor, size, lang, artefacts):
    english = lang == "en"
    agent = visitor(size, lang)
    agent.login("lead1")
    page = agent.page
    page.goto(agent.base + "/tickets/new")
    hint = page.locator("#category-requires").inner_text()
    assert ("Device model, Serial number" in hint) if english else ("设备型号、序列号" in hint), hint

    title = f"交换机告警 {size}-{lang}"
    agent.register(title=title)  # a network ticket without its device's model and serial number
    page.wait_for_url(TASK_URL)
    page.select_option('select[name="category"]', "network")
    agent.choose("impact", "low")
    agent.choose("urgency", "low")
    agent.submit_task()  # on to the online fix, the same person's next step
    number = page.locator(".summary-head a.mono").inner_text().strip()
    missing = page.locator(".summary-head .badge.warn").get_attribute("data-missing")
    assert missing.endswith("Device model, Serial number" if english else "设备型号、序列号"), missing
    agent.shot(artefacts, "task-unqualified")

    page.goto(f"{agent.base}/tickets/{number}")  # a lead's reassign form wraps under the open step at 390 px
    assert page.locator(".open-task .reassign-form").count() == 1
    agent.no_horizontal_scroll()
    agent.shot(artefacts, "ticket-lead")

    page.goto(f"{agent.base}/tickets?q={number}")
    row = page.locator(f'tr[data-number="{number}"]')
    assert row.locator(".col-step").inner_text().strip() == ("Online fix" if english else "在线解决")
    holder = row.locator(".col-holder").inner_text()
    assert not re.search(r"\b(lead1|agent)\b", holder), holder
    agent.no_horizontal_scroll()
    agent.shot(artefacts, "ticket-list-steps")

    exported = page.request.get(f"{agent.base}/tickets/export.csv?q={number}")
    rows = list(csv.reader(io.StringIO(exported.text().lstrip("\ufeff"))))
    header, line = rows[0], dict(zip(rows[0], rows[1], strict=True))
    if english:
        assert header[:3] == ["Number", "Type", "Status"]
        assert line["Current step"] == "Online fix" and line["Category"] == "Network" and line["Type"] == "Incident"
    else:
        assert line["当前环节"] == "在线解决" and line["服务类别"] == "网络" and line["类型"] == "事件/故障"
    accepted = line["Accepted at" if english else "受理时间"]
    desk_now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(datetime.strptime(accepted, "%Y-%m-%d %H:%M") - desk_now) < timedelta(minutes=10)  # the desk's time

    page.goto(agent.base + "/inbox")
    stages = page.locator('select[name="stage"] option').all_inner_texts()
    assert ("Classify and prioritise" in stages) if english else ("分类定级" in stages), stages
    if english:
        assert not any(CJK.search(s) for s in stages), stages
    assigners = page.locator('#bulk-form select[name="assignee"] option').all_inner_texts()
    assert "王主任" not in assigners  # the demo customer's portal account is no one to hand work to
    assert agent.errors == []


# --- reports: the charts' steps, the breakdowns' categories, the scorecard's rules ------------------------------


@pytest.mark.parametrize(("size", "lang"), CASES, ids=IDS)
def test_reports_name_steps_categories_and_rules_in_the_pages_language(visitor, size, lang, artefacts):
    english = lang == "en"
    agent = visitor(size, lang)
    agent.login("agent1")
    agent.register()  # classified below: a step done this month, whatever ran before
    agent.page.wait_for_url(TASK_URL)
    agent.page.select_option('select[name="category"]', "desktop")
    agent.choose("impact", "low")
    agent.choose("urgency", "low")
    agent.submit_task()

    lead = visitor(size, lang)
    lead.login("lead1")
    page = lead.page
    page.goto(lead.base + "/reports")
    page.wait_for_selector(".chart[data-chart=workload] canvas")
    data = json.loads(page.locator("#report-data").text_content())
    stages = [name for name, _count in data["workload"]["stage"]]
    assert ("Classify and prioritise" in stages) if english else ("分类定级" in stages), stages
    if english:
        assert not any(CJK.search(s) for s in stages), stages
        categories = page.locator('[data-dimension="category"]').inner_text() if page.locator(
            '[data-dimension="category"]').count() else page.locator("main").inner_text()
        assert "Desktop and terminals" in categories and "桌面终端" not in categories
    lead.no_horizontal_scroll()
    lead.shot(artefacts, "reports")

    page.goto(lead.base + "/reports/scorecard")
    rule = page.locator('tr[data-item="emergency_response"] .muted').inner_text()
    assert rule == ("−2 per event, at most 20" if english else "突发事件响应时间(≤15分钟)，每发生一次，扣2分，扣完为止")
    rule = page.locator('tr[data-item="report_forms"] .muted').inner_text()
    assert rule == ("−1 per 3 events, at most 10" if english else "1个周期内报表填写不合格数(≤3次)，每3次扣1分，扣完为止")
    if english:
        assert not CJK.search(page.locator(".scorecard").first.inner_text())
    lead.no_horizontal_scroll()
    lead.shot(artefacts, "scorecard")
    assert agent.errors == [] and lead.errors == []


# --- the process list, the roster, the bell -----------------------------------------------------------------


@pytest.mark.parametrize(("size", "lang"), CASES, ids=IDS)
def test_process_names_shifts_and_notifications_in_the_pages_language(visitor, size, lang, artefacts):
    english = lang == "en"
    solver = visitor(size, lang)  # resolved online: its ticket_resolution is done, the ticket waits for its callback
    solver.login("agent1")
    solver.register()
    solver.page.wait_for_url(TASK_URL)
    solver.page.select_option('select[name="category"]', "desktop")
    solver.choose("impact", "low")
    solver.choose("urgency", "low")
    solver.submit_task()
    solver.choose("outcome", "resolved")
    solver.page.fill('[name="solution"]', "电话指导重置密码")
    solver.submit_task()

    admin = visitor(size, lang)
    admin.login("admin1")
    page = admin.page
    page.goto(admin.base + "/processes/")
    called = page.locator('[data-called="ticket_resolution"]')
    assert int(called.get_attribute("data-completed")) >= 1  # it said "completed 0" while the callers ran
    assert ("Runs inside other processes" if english else "作为被调用流程运行") in called.inner_text()
    heads = {key: page.locator(f"#process-{key} .card-title").inner_text()
             for key in ("service_desk", "ticket_resolution", "complaint")}
    if english:
        assert heads["service_desk"].startswith("Service desk ticket")
        assert heads["complaint"].startswith("Complaint handling")
        assert heads["ticket_resolution"].startswith("Ticket resolution")
    else:
        assert heads["service_desk"].startswith("服务台工单流程") and heads["complaint"].startswith("投诉处理")
    admin.no_horizontal_scroll()
    admin.shot(artefacts, "processes")

    page.goto(admin.base + "/roster")
    shifts = page.locator("select[name=shift] option").all_inner_texts()
    assert shifts == (["Day shift", "Night shift", "All day"] if english else ["白班", "夜班", "全天"]), shifts
    admin.shot(artefacts, "roster")

    # an engineer is handed a step: the bell says so in the page's language
    agent = visitor(size, lang)
    agent.login("agent1")
    agent.register()
    agent.page.wait_for_url(TASK_URL)
    agent.page.select_option('select[name="category"]', "desktop")
    agent.choose("impact", "low")
    agent.choose("urgency", "low")
    agent.submit_task()
    number = agent.page.locator(".summary-head a.mono").inner_text().strip()
    agent.choose("outcome", "dispatch")
    agent.submit_task()
    pm = visitor(size, lang)
    pm.login("pm2")
    pm.page.goto(pm.base + "/inbox")
    pm.page.locator('[data-bpmn="pm_assign"]', has_text=number).first.locator("a").first.click()
    pm.page.wait_for_url(TASK_URL)
    pm.page.select_option('select[name="engineer"]', "eng2")
    pm.submit_task()
    engineer = visitor(size, lang)
    engineer.login("eng2")
    engineer.page.goto(engineer.base + "/notifications")
    line = engineer.page.locator(".note-text", has_text=number).first.inner_text()
    assert line == (f"Task assigned to me: {number}" if english else f"【服务台】工单 {number} 已指派给您"), line
    engineer.no_horizontal_scroll()
    engineer.shot(artefacts, "notifications")
    assert admin.errors == [] and agent.errors == [] and pm.errors == [] and engineer.errors == []
