"""Process owners and admins in the browser: change the desk in the modeler, test, deploy, migrate.

One story on the shared live server: tickets A and B start on v1; the owner adds an
intake field in the properties panel and shortens the P2 response time in sla.dmn,
saves, validates and runs the process tests; the admin deploys v2. A new ticket
shows the new field and gets the new SLA, ticket A finishes on v1, and the admin
moves ticket B to v2 after the preview.
"""

from __future__ import annotations

import re

import pytest

from .test_desk_in_browser import Person

pytestmark = pytest.mark.browser

CALL = {"reporter_name": "孙主任", "organisation": "区卫健委信息中心", "phone": "13900000000"}


def classify_p2(person: Person, number: str) -> None:
    person.open_task(number, "classify")
    person.select("category", "server")
    person.choose("impact", "high")
    person.choose("urgency", "medium")
    person.complete()


def response_minutes(page, base: str, number: str) -> str:
    page.goto(f"{base}/tickets/{number}")
    return page.locator('[data-clock="response"] .clock-meta').inner_text()


def version_of(page, base: str, number: str) -> str:
    page.goto(f"{base}/tickets/{number}")
    return re.search(r"版本\s*(\d+)|version\s*(\d+)", page.locator("body").inner_text()).group(0)


def test_owner_changes_the_desk_admin_deploys_and_migrates(server, new_page, output):
    agent = Person(new_page(), server)
    agent.login("agent1")
    before = agent.register(title="服务器宕机（旧版本）", description="OA 服务器无法访问", **CALL)
    moved = agent.register(title="存储告警（待迁移）", description="存储阵列告警灯亮", **CALL)
    classify_p2(agent, before)
    assert "30" in response_minutes(agent.page, server, before)

    # the process owner edits service_desk v1 as a draft
    owner = Person(new_page(), server)
    owner.login("owner1")
    page = owner.page
    page.goto(server + "/processes/")
    page.locator("#process-service_desk tr[data-version='1']").get_by_role("button", name="作为草稿编辑").click()
    page.wait_for_selector("body[data-modeler-ready=true]")
    assert page.locator("body").get_attribute("data-open-file") == "service_desk.bpmn"

    # a new intake field, added in the Camunda properties panel
    page.evaluate("() => { const m = window.deskModeler.bpmn;"
                  " m.get('selection').select(m.get('elementRegistry').get('intake')); }")
    group = page.locator("[data-group-id='group-CamundaPlatform__FormData']")
    group.locator(".bio-properties-panel-group-header").click()
    group.locator(".bio-properties-panel-group-header .bio-properties-panel-add-entry").click()
    new_field = group.locator(":scope > .bio-properties-panel-list > .bio-properties-panel-list-item").last
    field_id = new_field.locator("input[id$='-formFieldID']")
    field_id.fill("asset_tag")
    new_field.locator("input[id$='-formFieldLabel']").fill("资产编号")
    new_field.locator("input[id$='-formFieldLabel']").press("Tab")
    page.screenshot(path=str(output / "modeler-form-field.png"))

    # a shorter P2 response target, in the decision table
    page.locator("#file-tabs [data-file='sla.dmn']").click()
    page.wait_for_selector("body[data-open-file='sla.dmn']")
    cell = page.locator("[data-element-id='Rule_P2_out1'] .content-editable")
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("20")
    page.locator("[data-element-id='Rule_P2_out2'] .content-editable").click()
    page.screenshot(path=str(output / "modeler-dmn.png"))

    page.locator("#btn-save").click()
    page.wait_for_selector("#modeler-status.ok")
    assert "保存" in page.locator("#modeler-status").inner_text()
    page.locator("#btn-validate").click()
    page.wait_for_selector("#modeler-status:not(.busy)")
    assert "未发现问题" in page.locator("#modeler-status").inner_text()
    page.locator("#btn-test").click()
    page.wait_for_selector("#tests-card[data-passed]", timeout=60_000)
    assert page.locator("#tests-card").get_attribute("data-passed") == "true", page.locator("#tests-body").inner_text()
    assert page.locator("#tests-body tr.test-pass").count() >= 9
    files = page.evaluate("() => window.deskModeler.files")
    assert 'id="asset_tag" label="资产编号"' in files["service_desk.bpmn"]
    assert re.search(r'<outputEntry id="Rule_P2_out1">\s*<text>20</text>', files["sla.dmn"])
    page.screenshot(path=str(output / "modeler-tests.png"), full_page=True)
    assert page.errors == []
    draft_url = page.url

    # the admin deploys the draft as v2
    admin = Person(new_page(), server)
    admin.login("admin1")
    apage = admin.page
    apage.goto(server + draft_url[len(server):])
    apage.wait_for_selector("body[data-modeler-ready=true]")
    apage.fill("#deploy-form [name=note]", "受理增加资产编号；P2 响应 20 分钟")
    apage.locator("#btn-deploy").click()
    apage.wait_for_url("**/processes/")
    assert "service_desk v2" in apage.locator(".flash-success").inner_text()
    row = apage.locator("#process-service_desk tr[data-version='2']")
    assert "受理增加资产编号" in row.inner_text()
    v1 = apage.locator("#process-service_desk tr[data-version='1']")
    assert int(v1.locator("[data-count=running]").inner_text()) >= 2  # A and B (and other tests' tickets)

    # the differences, coloured on both diagrams
    apage.goto(server + "/processes/service_desk/diff?a=1&b=2")
    apage.wait_for_selector("body[data-diff-ready=true]")
    assert apage.locator("#changes tr[data-element='intake'][data-change='changed']").count() == 1
    assert apage.locator("#changes tr[data-element='Rule_P2']").count() == 1
    assert apage.locator(".diff-diagram[data-side=new] g.diff-changed[data-element-id='intake']").count() == 1
    apage.screenshot(path=str(output / "versions-diff.png"), full_page=True)

    # a new ticket shows the new field and runs on v2
    agent.page.goto(server + "/inbox")
    after = agent.register(title="服务器宕机（新版本）", description="ERP 服务器无法访问", asset_tag="ZC-2026-0042", **CALL)
    classify_p2(agent, after)
    assert "20" in response_minutes(agent.page, server, after)
    assert "2" in version_of(agent.page, server, after)

    # the ticket started before finishes on v1
    agent.open_task(before, "online_fix")
    agent.choose("outcome", "resolved")
    agent.fill("solution", "重启 OA 服务")
    agent.complete()
    agent.open_task(before, "callback")
    agent.choose("reached", "true")
    agent.choose("solved", "true")
    agent.choose("satisfaction", "satisfied")
    agent.complete()
    agent.login("lead1")
    agent.open_task(before, "close")
    agent.fill("summary", "OA 服务异常，重启后恢复")
    agent.complete()
    assert "1" in version_of(agent.page, server, before)
    assert agent.page.locator(".status-closed").count() == 1

    # the admin previews, then migrates the other v1 ticket
    apage.goto(server + "/processes/service_desk/migrate?from=1&to=2")
    for box in apage.locator("#preview-form input[name=instance]").all():
        box.uncheck()
    apage.locator("#preview-form tr", has_text=moved).locator("input[name=instance]").check()
    apage.locator("#btn-preview").click()
    assert apage.locator("#preview .plan").count() == 1
    plan = apage.locator("#preview .plan", has_text=moved)
    assert plan.get_attribute("data-migratable") == "true"
    assert "受理登记" not in plan.inner_text() and "分类定级" in plan.inner_text()  # its open task is kept
    apage.screenshot(path=str(output / "migrate-preview.png"), full_page=True)
    apage.locator("#btn-migrate").click()
    apage.wait_for_url(re.compile(r".*/processes/service_desk/migrate.*"))
    assert "v2" in apage.locator(".flash-success").inner_text()
    assert "2" in version_of(apage, server, moved)
    agent.login("agent1")
    classify_p2(agent, moved)  # the migrated ticket carries on, now with v2's rules
    assert "20" in response_minutes(agent.page, server, moved)
    for person in (agent, owner, admin):
        assert person.page.errors == []


def test_validation_lists_the_problems_and_shows_the_element(server, new_page, tmp_path):
    owner = Person(new_page(), server)
    owner.login("owner1")
    page = owner.page
    page.goto(server + "/processes/service_desk/versions/1")
    page.wait_for_selector("body[data-modeler-ready=true]")
    page.evaluate("""() => {
        const m = window.deskModeler.bpmn, close = m.get('elementRegistry').get('close');
        m.get('modeling').updateProperties(close, {'camunda:candidateGroups': 'wizards'});
    }""")
    page.locator("#btn-validate").click()
    page.wait_for_selector("#modeler-status.error")
    problem = page.locator("#problems li[data-element='close']")
    assert "候选组 wizards 不是已有角色" in problem.inner_text()
    assert page.locator("g.has-problem[data-element-id='close']").count() == 1
    problem.locator("button").click()
    selected = page.evaluate("() => window.deskModeler.bpmn.get('selection').get().map(e => e.id)")
    assert selected == ["close"]
    assert "关闭工单" in page.locator("#properties .bio-properties-panel-header").inner_text()  # the panel shows it

    # a rule table edited in Camunda Modeler on the desktop, uploaded into the bundle
    sla = page.evaluate("() => window.deskModeler.files['sla.dmn']")
    upload = tmp_path / "sla.dmn"
    upload.write_text(sla.replace("SLA目标", "SLA目标（桌面版）"), encoding="utf-8")
    page.set_input_files("#upload-file", str(upload))
    page.wait_for_selector("body[data-open-file='sla.dmn']")
    assert "sla.dmn" in page.locator("#modeler-status").inner_text()
    assert "SLA目标（桌面版）" in page.locator("#dmn-canvas").inner_text()
    assert page.errors == []
