"""Deploying a new version while old instances run: each finishes on its own version."""

from __future__ import annotations

import io

from conftest import bundle


def deploy(api, files: dict[str, bytes], note: str = ""):
    data = {"files": [(io.BytesIO(content), name) for name, content in files.items()], "note": note}
    return api.client.post("/api/definitions", data=data, headers={"Authorization": f"Bearer {api.token('admin1')}"},
                           content_type="multipart/form-data")


def test_identical_bundle_creates_no_version(api):
    res = deploy(api, bundle())
    assert res.status_code == 200
    assert res.get_json()["created"] == []


def test_v2_deployed_while_v1_runs_both_finish_on_their_own_version(api):
    old = api.new_ticket()["number"]
    assert api.ticket(old)["version"] == 1
    files = bundle()
    files["service_desk.bpmn"] = files["service_desk.bpmn"].replace('name="关闭工单"'.encode(), 'name="审核并关闭工单"'.encode())
    res = deploy(api, files, note="关闭步骤改名")
    assert res.status_code == 201, res.get_json()
    created = res.get_json()["created"]
    assert [(v["key"], v["version"]) for v in created] == [("service_desk", 2)]

    new = api.new_ticket()["number"]
    assert api.ticket(new)["version"] == 2
    for number in (old, new):
        api.complete("agent1", number, "classify", category="network", impact="low", urgency="low")
        api.complete("agent1", number, "online_fix", outcome="resolved", solution="ok")
        api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="very_satisfied")
    assert api.task("lead1", old, "close")["name"] == "关闭工单"
    assert api.task("lead1", new, "close")["name"] == "审核并关闭工单"
    for number in (old, new):
        api.complete("lead1", number, "close", summary="ok")
    assert api.ticket(old)["status"] == api.ticket(new)["status"] == "closed"
    assert (api.ticket(old)["version"], api.ticket(new)["version"]) == (1, 2)


def test_only_admins_deploy(api):
    res = api.client.post("/api/definitions", data={"files": [(io.BytesIO(b"x"), "a.bpmn")]},
                          headers={"Authorization": f"Bearer {api.token('owner1')}"},
                          content_type="multipart/form-data")
    assert res.status_code == 403


def test_definitions_are_listed(api):
    items = api.get("agent1", "/api/definitions").get_json()["items"]
    assert {v["key"] for v in items} >= {"service_desk", "ticket_resolution", "complaint"}
    desk = next(v for v in items if v["key"] == "service_desk")
    assert set(desk["files"]) >= {"service_desk.bpmn", "resolution.bpmn", "complaint.bpmn", "sla.dmn"}
