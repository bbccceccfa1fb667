"""Drafts, version lists with counts, diffs, deploying a draft (tests, override, audit), retiring.

(Named ``test_process_versions`` because ``tests/api/test_versions.py`` already exists
and test modules share one namespace.)
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, bundle
from sqlalchemy import select

from engine.authoring import drafts, versions
from engine.desk import users
from engine.errors import Conflict, Forbidden, Invalid, InvalidDefinition, NotFound
from engine.models import AuditEvent, Draft, VersionStatus
from engine.runtime import definitions, instances

SLA_P2_RESPONSE = ('<outputEntry id="Rule_P2_out1">\n          <text>30</text>', '<outputEntry id="Rule_P2_out1">\n          <text>20</text>')


def user(session, name):
    return users.get_user(session, name)


def audit_actions(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def new_draft(session, who="owner1"):
    return drafts.create(session, user=user(session, who), version=definitions.get_version(session, "service_desk"))


# --------------------------------------------------------------------------- drafts


def test_a_draft_from_a_version_holds_its_files_and_the_shipped_tests(db_session):
    draft = new_draft(db_session)
    assert draft.process_key == "service_desk" and draft.author == "owner1" and draft.name == "service_desk v1"
    assert {"service_desk.bpmn", "resolution.bpmn", "complaint.bpmn", "sla.dmn", "service_desk.scenarios.json",
            "ticket_resolution.scenarios.json", "complaint.scenarios.json"} <= set(draft.files)
    assert drafts.list_drafts(db_session, "service_desk") == [draft]
    assert drafts.get(db_session, draft.id) is draft
    assert "draft_create" in audit_actions(db_session)


def test_saving_replaces_and_removes_files_and_forgets_the_last_test(db_session):
    draft = new_draft(db_session)
    drafts.record_test(draft, {"passed": True})
    text = draft.files["sla.dmn"].replace(*SLA_P2_RESPONSE)
    drafts.save(db_session, draft.id, {"sla.dmn": text, "complaint.scenarios.json": None}, user=user(db_session, "admin1"),
                note="P2 响应 20 分钟")
    assert draft.files["sla.dmn"] == text and "complaint.scenarios.json" not in draft.files
    assert draft.author == "admin1" and draft.note == "P2 响应 20 分钟" and draft.last_test_passed is None


def test_a_draft_from_uploaded_files(db_session):
    files = {"resolution.bpmn": (ROOT / "bpmn" / "resolution.bpmn").read_bytes()}
    draft = drafts.create(db_session, user=user(db_session, "owner1"), files=files, name="上传")
    assert draft.process_key == "ticket_resolution" and draft.base_version_id is None


@pytest.mark.parametrize("name", ["../x.bpmn", "notes.txt", "", ".hidden.bpmn"])
def test_only_bpmn_dmn_and_scenario_files_with_plain_names(db_session, name):
    with pytest.raises(Invalid):
        drafts.create(db_session, user=user(db_session, "owner1"), files={name: "x"})


def test_only_process_owners_and_admins_edit_drafts(db_session):
    with pytest.raises(Forbidden):
        new_draft(db_session, "agent1")
    draft = new_draft(db_session)
    with pytest.raises(Forbidden):
        drafts.save(db_session, draft.id, {}, user=user(db_session, "eng1"))
    with pytest.raises(Forbidden):
        drafts.delete(db_session, draft.id, user=user(db_session, "lead1"))
    drafts.delete(db_session, draft.id, user=user(db_session, "owner1"))
    with pytest.raises(NotFound):
        drafts.get(db_session, draft.id)


# --------------------------------------------------------------------------- the list


def test_overview_counts_running_and_completed_instances_per_version(db_session):
    instances.create_ticket(db_session, {"type": "incident", "channel": "phone", "title": "t", "description": "d"},
                            user=user(db_session, "agent1"))
    desk = next(p for p in versions.overview(db_session) if p["key"] == "service_desk")
    assert desk["current"] == 1
    assert desk["versions"][0]["version"] == 1 and desk["versions"][0]["running"] == 1
    assert desk["versions"][0]["completed"] == 0 and desk["versions"][0]["deployed_by"] == "tests"


# --------------------------------------------------------------------------- diffs


def test_diff_names_added_removed_and_changed_elements():
    old = {n: c.decode() for n, c in bundle().items()}
    new = dict(old)
    new["service_desk.bpmn"] = (
        old["service_desk.bpmn"]
        .replace('name="关闭工单"', 'name="审核并关闭"')
        .replace('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">callback_due</bpmn:timeDate>',
                 '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">callback_warn_at</bpmn:timeDate>')
        .replace('<camunda:formField id="device_serial" label="设备序列号" type="string" />',
                 '<camunda:formField id="device_serial" label="设备序列号" type="string" />'
                 '<camunda:formField id="asset_tag" label="资产编号" type="string" />')
        .replace('<bpmn:endEvent id="end" name="已关闭">', '<bpmn:task id="archive" name="归档" /><bpmn:endEvent id="end" name="已关闭">')
    )
    new["sla.dmn"] = old["sla.dmn"].replace(*SLA_P2_RESPONSE)
    new["complaint.bpmn"] = old["complaint.bpmn"].replace('<camunda:formField id="owner" label="改进负责人" type="string" />', "")
    result = versions.diff_files(old, new)
    by_id = {(c["file"], c["element"]): c for c in result["changes"]}
    assert by_id[("service_desk.bpmn", "close")]["details"] == ["名称 name"]
    assert by_id[("service_desk.bpmn", "callback_sla_breach")]["details"] == ["计时器 timer"]
    assert by_id[("service_desk.bpmn", "intake")]["details"] == ["表单字段 form field asset_tag: 新增 added"]
    assert by_id[("service_desk.bpmn", "archive")]["change"] == "added"
    assert by_id[("complaint.bpmn", "improvement_plan")]["details"] == ["表单字段 form field owner: 删除 removed"]
    assert by_id[("sla.dmn", "Rule_P2")] == {"file": "sla.dmn", "element": "Rule_P2", "kind": "rule", "name": "#4",
                                             "change": "changed", "details": ["结果列 output response_minutes"]}
    assert result["files"]["service_desk.bpmn"] == {"added": ["archive"], "removed": [],
                                                    "changed": ["intake", "close", "callback_sla_breach"]}
    reverse = versions.diff_files(new, old)
    assert reverse["files"]["service_desk.bpmn"]["removed"] == ["archive"]


def test_diff_of_files_added_and_removed_and_of_identical_bundles():
    old = {n: c.decode() for n, c in bundle().items()}
    assert versions.diff_files(old, old)["changes"] == []
    fewer = {n: c for n, c in old.items() if n != "routing.dmn"}
    result = versions.diff_files(old, fewer)
    assert result["files_removed"] == ["routing.dmn"]
    assert {c["element"] for c in result["changes"] if c["change"] == "removed"} >= {"routing", "Rule_network"}


def test_diff_of_two_deployed_versions(db_session):
    draft = new_draft(db_session)
    drafts.save(db_session, draft.id, {"sla.dmn": draft.files["sla.dmn"].replace(*SLA_P2_RESPONSE)},
                user=user(db_session, "owner1"))
    versions.deploy_draft(db_session, draft.id, user=user(db_session, "admin1"), note="P2 响应 20 分钟")
    result = versions.diff(db_session, "service_desk", 1, 2)
    assert [(c["element"], c["change"]) for c in result["changes"]] == [("Rule_P2", "changed")]


# --------------------------------------------------------------------------- deploying a draft


def test_deploying_a_draft_makes_the_next_version_and_is_audited(db_session):
    draft = new_draft(db_session)
    drafts.save(db_session, draft.id, {"sla.dmn": draft.files["sla.dmn"].replace(*SLA_P2_RESPONSE)},
                user=user(db_session, "owner1"))
    created = versions.deploy_draft(db_session, draft.id, user=user(db_session, "admin1"), note="P2 响应 20 分钟")
    assert [(v.key, v.version, v.note, v.deployed_by) for v in created] == [("service_desk", 2, "P2 响应 20 分钟", "admin1")]
    assert "service_desk.scenarios.json" in created[0].files  # the tests travel with the version
    assert definitions.get_version(db_session, "service_desk").version == 2
    assert db_session.get(Draft, draft.id) is None
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "deploy")).one()
    assert event.actor == "admin1" and event.name == "service_desk v2" and event.data["tests_passed"] is True


def break_a_scenario(draft) -> dict:
    tests = json.loads(draft.files["service_desk.scenarios.json"])
    tests[0]["expect"]["data"]["priority"] = "P1"
    return {"service_desk.scenarios.json": json.dumps(tests, ensure_ascii=False)}


def test_failing_tests_stop_a_deployment_unless_the_admin_gives_a_reason(db_session):
    draft = new_draft(db_session)
    drafts.save(db_session, draft.id, {**break_a_scenario(draft), "sla.dmn": draft.files["sla.dmn"].replace(*SLA_P2_RESPONSE)},
                user=user(db_session, "owner1"))
    admin = user(db_session, "admin1")
    with pytest.raises(versions.ScenariosFailed) as info:
        versions.deploy_draft(db_session, draft.id, user=admin, note="x")
    assert info.value.report["failed"] == 1 and "请填写原因" in info.value.message
    assert info.value.to_dict()["error"] == "scenarios_failed"
    assert draft.last_test_passed is False
    created = versions.deploy_draft(db_session, draft.id, user=admin, note="x", override_reason="紧急上线，测试随后修正")
    assert created[0].version == 2
    override = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "deploy_override")).one()
    assert override.data["reason"] == "紧急上线，测试随后修正" and override.data["failed"] == [json.loads(
        draft.files["service_desk.scenarios.json"])[0]["name"]]


def test_a_draft_with_validation_errors_is_never_deployed(db_session):
    draft = new_draft(db_session)
    broken = draft.files["service_desk.bpmn"].replace('camunda:candidateGroups="lead"', 'camunda:candidateGroups="wizard"')
    drafts.save(db_session, draft.id, {"service_desk.bpmn": broken}, user=user(db_session, "owner1"))
    with pytest.raises(InvalidDefinition) as info:
        versions.deploy_draft(db_session, draft.id, user=user(db_session, "admin1"), note="x", override_reason="any")
    assert [p["element"] for p in info.value.problems] == ["callback_review", "close"]


def test_deploying_needs_an_admin_a_note_and_a_change(db_session):
    draft = new_draft(db_session)
    with pytest.raises(Forbidden):
        versions.deploy_draft(db_session, draft.id, user=user(db_session, "owner1"), note="x")
    with pytest.raises(Invalid):
        versions.deploy_draft(db_session, draft.id, user=user(db_session, "admin1"), note="  ")
    with pytest.raises(Conflict):
        versions.deploy_draft(db_session, draft.id, user=user(db_session, "admin1"), note="nothing changed")


# --------------------------------------------------------------------------- retiring


def deploy_v2(session):
    draft = new_draft(session)
    drafts.save(session, draft.id, {"sla.dmn": draft.files["sla.dmn"].replace(*SLA_P2_RESPONSE)}, user=user(session, "owner1"))
    return versions.deploy_draft(session, draft.id, user=user(session, "admin1"), note="v2")[0]


def test_retiring_the_latest_version_sends_new_instances_to_the_previous_one(db_session):
    deploy_v2(db_session)
    admin = user(db_session, "admin1")
    versions.retire(db_session, "service_desk", 2, user=admin)
    assert definitions.get_version(db_session, "service_desk").version == 1
    ticket = instances.create_ticket(db_session, {"type": "incident", "channel": "phone", "title": "t", "description": "d"},
                                     user=user(db_session, "agent1"))
    assert ticket.instance.version.version == 1
    with pytest.raises(Conflict):
        versions.retire(db_session, "service_desk", 2, user=admin)
    with pytest.raises(Conflict):  # the last active version stays
        versions.retire(db_session, "service_desk", 1, user=admin)
    versions.activate(db_session, "service_desk", 2, user=admin)
    assert definitions.get_version(db_session, "service_desk").status == VersionStatus.ACTIVE
    with pytest.raises(Conflict):
        versions.activate(db_session, "service_desk", 2, user=admin)
    assert [a for a in audit_actions(db_session) if a in ("retire", "activate")] == ["retire", "activate"]


def test_only_admins_retire(db_session):
    deploy_v2(db_session)
    with pytest.raises(Forbidden):
        versions.retire(db_session, "service_desk", 1, user=user(db_session, "owner1"))
