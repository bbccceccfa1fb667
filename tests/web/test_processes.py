"""The process pages: drafts, validation and tests from the modeler, deploy, retire, diff, migrate."""

from __future__ import annotations

import io
import json
import re

from sqlalchemy import select

from engine.authoring import versions
from engine.models import Draft, HumanTask, ProcessInstance, TaskState
from engine.runtime import definitions, instances
from webforms.extensions import db

SLA_P2 = ('<outputEntry id="Rule_P2_out1">\n          <text>30</text>', '<outputEntry id="Rule_P2_out1">\n          <text>20</text>')
DATA = re.compile(r'<script id="modeler-data" type="application/json">(.*?)</script>', re.S)


def post_json(desk, path: str, body: dict):
    return desk.client.post(path, json=body, headers={"X-CSRFToken": desk.token, "Accept": "application/json"})


def open_draft(desk) -> tuple[int, dict]:
    """Owner clicks "edit as draft" on service_desk v1; returns the draft id and the modeler's data."""
    page = desk.text("/processes/").split('id="process-service_desk"', 1)[1]
    version_id = re.search(r'name="version_id" value="(\d+)"', page).group(1)
    res = desk.post("/processes/drafts", {"version_id": version_id})
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    draft_id = int(res.headers["Location"].rsplit("/", 1)[1])
    data = json.loads(DATA.search(desk.text(f"/processes/drafts/{draft_id}")).group(1))
    return draft_id, data


def test_only_process_owners_and_admins_open_the_process_pages(desk):
    desk.login("agent1")
    assert desk.get("/processes/").status_code == 403
    desk.login("owner1")
    page = desk.text("/processes/")
    assert "service_desk" in page and "ticket_resolution" in page and "v1" in page
    assert "Retire" not in page and "停用" not in page and "migrate" not in page
    desk.login("admin1")
    assert desk.text("/processes/")


def test_an_owner_edits_validates_saves_and_tests_a_draft(desk, app):
    desk.login("owner1")
    draft_id, data = open_draft(desk)
    assert data["mode"] == "draft" and "service_desk.bpmn" in data["files"] and "sla.dmn" in data["files"]
    assert "service_desk.scenarios.json" in data["files"] and data["main"] == "service_desk.bpmn"
    files = dict(data["files"])
    files["sla.dmn"] = files["sla.dmn"].replace(*SLA_P2)
    res = post_json(desk, f"/processes/drafts/{draft_id}/files", {"files": {"sla.dmn": files["sla.dmn"]}})
    assert res.status_code == 200 and res.get_json()["author"] == "owner1"

    broken = dict(files, **{"service_desk.bpmn": files["service_desk.bpmn"].replace(
        'camunda:candidateGroups="lead"', 'camunda:candidateGroups="wizard"')})
    problems = post_json(desk, "/processes/validate", {"files": broken}).get_json()
    assert problems["errors"] is True
    assert {"file": "service_desk.bpmn", "element": "close", "severity": "error",
            "message": "候选组 wizard 不是已有角色 / candidate group wizard is not an existing role"} in problems["problems"]
    assert post_json(desk, "/processes/validate", {"files": files}).get_json() == {"problems": [], "errors": False}

    report = post_json(desk, f"/processes/drafts/{draft_id}/test", {}).get_json()
    assert report["passed"] and report["count"] >= 9
    with app.app_context():
        assert db.session.get(Draft, draft_id).last_test_passed is True
    assert "passed" in desk.text("/processes/") or "通过" in desk.text("/processes/")

    res = desk.get(f"/processes/drafts/{draft_id}/files/sla.dmn")
    assert res.status_code == 200 and "attachment" in res.headers["Content-Disposition"]
    assert "<text>20</text>" in res.get_data(as_text=True)


def test_a_deployed_version_opens_read_only_and_saves_as_a_new_draft(desk):
    desk.login("owner1")
    page = desk.text("/processes/service_desk/versions/1")
    data = json.loads(DATA.search(page).group(1))
    assert data["mode"] == "version" and data["draftId"] is None
    files = {"sla.dmn": data["files"]["sla.dmn"].replace(*SLA_P2)}
    res = post_json(desk, "/processes/drafts", {"version_id": data["versionId"], "files": files})
    assert res.status_code == 200
    draft = json.loads(DATA.search(desk.text(res.get_json()["url"])).group(1))
    assert "<text>20</text>" in draft["files"]["sla.dmn"]
    assert post_json(desk, "/processes/test", {"files": data["files"]}).get_json()["passed"]
    res = desk.get("/processes/service_desk/versions/1/files/service_desk.bpmn")
    assert res.status_code == 200 and res.get_data(as_text=True).startswith("<?xml")


def test_files_made_in_camunda_modeler_become_a_draft(desk, app):
    desk.login("owner1")
    with app.app_context():
        files = definitions.get_version(db.session, "service_desk").files
    upload = {"files": [(io.BytesIO(files[n].encode()), n) for n in files], "name": "桌面版修改", "csrf_token": desk.token}
    res = desk.client.post("/processes/drafts/upload", data=upload, content_type="multipart/form-data")
    assert res.status_code == 302 and "/processes/drafts/" in res.headers["Location"]
    res = desk.client.post("/processes/drafts/upload", data={"files": [(io.BytesIO(b"x"), "a.txt")], "csrf_token": desk.token},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "只接受" in res.get_data(as_text=True)


def test_an_admin_deploys_a_draft_and_new_tickets_use_v2(desk, api):
    old = api.new_ticket()["number"]
    desk.login("owner1")
    draft_id, data = open_draft(desk)
    post_json(desk, f"/processes/drafts/{draft_id}/files", {"files": {"sla.dmn": data["files"]["sla.dmn"].replace(*SLA_P2)}})
    assert desk.post(f"/processes/drafts/{draft_id}/deploy", {"note": "x"}).status_code == 403
    desk.login("admin1")
    res = desk.post(f"/processes/drafts/{draft_id}/deploy", {"note": "P2 响应 20 分钟"})
    assert res.status_code == 302, res.get_data(as_text=True)[:3000]
    page = desk.text("/processes/")
    assert "P2 响应 20 分钟" in page and "service_desk v2" in page
    new = api.new_ticket()["number"]
    assert (api.ticket(old)["version"], api.ticket(new)["version"]) == (1, 2)
    diff = desk.text("/processes/service_desk/diff?a=1&b=2")
    assert 'data-element="Rule_P2"' in diff and "response_minutes" in diff


def test_failing_tests_need_a_reason_to_deploy(desk):
    desk.login("owner1")
    draft_id, data = open_draft(desk)
    tests = json.loads(data["files"]["service_desk.scenarios.json"])
    tests[0]["expect"]["data"]["priority"] = "P1"
    post_json(desk, f"/processes/drafts/{draft_id}/files", {"files": {
        "service_desk.scenarios.json": json.dumps(tests, ensure_ascii=False),
        "sla.dmn": data["files"]["sla.dmn"].replace(*SLA_P2)}})
    desk.login("admin1")
    res = desk.post(f"/processes/drafts/{draft_id}/deploy", {"note": "P2"})
    assert res.status_code == 422
    page = res.get_data(as_text=True)
    assert "个流程测试未通过" in page
    report = json.loads(DATA.search(page).group(1))["report"]
    assert report["failed"] == 1
    res = desk.post(f"/processes/drafts/{draft_id}/deploy", {"note": "P2", "override_reason": "客户要求今天上线"})
    assert res.status_code == 302


def test_retire_and_activate(desk, app):
    with app.app_context():
        files = dict(definitions.get_version(db.session, "service_desk").files)
        files["sla.dmn"] = files["sla.dmn"].replace(*SLA_P2)
        versions.deploy(db.session, {n: c for n, c in files.items() if not n.endswith(".json")}, user="tests")
        db.session.commit()
    desk.login("admin1")
    assert desk.post("/processes/service_desk/versions/2/retire").status_code == 302
    with app.app_context():
        assert definitions.get_version(db.session, "service_desk").version == 1
    res = desk.post("/processes/service_desk/versions/1/retire", follow_redirects=False)
    assert res.status_code == 409
    assert desk.post("/processes/service_desk/versions/2/activate").status_code == 302
    desk.login("owner1")
    assert desk.post("/processes/service_desk/versions/2/retire").status_code == 403


def test_an_admin_previews_then_migrates_running_tickets(desk, api, app):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", category="network", impact="low", urgency="low")
    desk.login("owner1")
    draft_id, data = open_draft(desk)
    field = '<camunda:formField id="solution" label="解决方案/排查记录" type="string">'
    resolution = data["files"]["resolution.bpmn"].replace(field, '<camunda:formField id="remote_tool" label="远程工具" type="string" />' + field)
    post_json(desk, f"/processes/drafts/{draft_id}/files", {"files": {"resolution.bpmn": resolution}})
    desk.login("admin1")
    assert desk.post(f"/processes/drafts/{draft_id}/deploy", {"note": "在线解决加远程工具"}).status_code == 302
    assert desk.get("/processes/service_desk/migrate").status_code == 200
    with app.app_context():
        instance_id = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_key == "service_desk"))
        row_id = db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == TaskState.READY))
    preview = desk.text(f"/processes/service_desk/migrate?from=1&to=2&instance={instance_id}&preview=1")
    assert f'data-instance="{instance_id}" data-migratable="true"' in preview and number in preview
    res = desk.post("/processes/service_desk/migrate", {"from": "1", "to": "2", "instance": str(instance_id)})
    assert res.status_code == 302
    shown = desk.text(res.headers["Location"])
    assert "已将 1 个实例迁移到 v2" in shown, re.findall(r"flash-.*", shown)
    with app.app_context():
        instance = instances.get(db.session, instance_id)
        assert instance.version.version == 2
        assert db.session.get(HumanTask, row_id).state == TaskState.READY  # the same inbox row, still open
    res = desk.post("/processes/service_desk/migrate", {"from": "1", "to": "2", "instance": str(instance_id)}, follow_redirects=True)
    assert f"实例 {instance_id} 不能迁移：实例已在 v2 上" in res.get_data(as_text=True)
    desk.login("owner1")
    assert desk.get("/processes/service_desk/migrate").status_code == 403


def test_drafts_are_deleted(desk):
    desk.login("owner1")
    draft_id, _data = open_draft(desk)
    assert desk.post(f"/processes/drafts/{draft_id}/delete").status_code == 302
    assert desk.get(f"/processes/drafts/{draft_id}").status_code == 404
