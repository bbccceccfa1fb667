"""Moving running instances between versions: previews, migrations, and the refusals."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from click.testing import CliRunner
from conftest import bundle
from sqlalchemy import select

from engine.authoring import migration, versions
from engine.desk import users
from engine.errors import Conflict, Forbidden
from engine.models import AuditEvent, HumanTask, InstanceStatus, TaskState
from engine.runtime import definitions, instances, tasks
from webforms.cli import main

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
EXTRA_FIELD = ('<camunda:formField id="solution" label="解决方案/排查记录" type="string">',
               '<camunda:formField id="remote_tool" label="远程工具" type="string" />'
               '<camunda:formField id="solution" label="解决方案/排查记录" type="string">')
NEW_TIMER = '''<bpmn:boundaryEvent id="online_fix_nudge" name="提醒处理" cancelActivity="false" attachedToRef="online_fix">
  <bpmn:outgoing>Flow_nudge</bpmn:outgoing>
  <bpmn:timerEventDefinition id="T_nudge"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT5M</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:endEvent id="nudge_end" name="已提醒"><bpmn:incoming>Flow_nudge</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="Flow_nudge" sourceRef="online_fix_nudge" targetRef="nudge_end" />
</bpmn:process>'''


def user(session, name):
    return users.get_user(session, name)


def deploy(session, edits: dict[str, list[tuple[str, str]]]):
    files = {n: c.decode() for n, c in bundle().items()}
    for name, changes in edits.items():
        for old, new in changes:
            assert old in files[name] or old.startswith("re:"), old
            files[name] = re.sub(old[3:], new, files[name], flags=re.S) if old.startswith("re:") else files[name].replace(old, new)
    created = versions.deploy(session, files, user="tests", note="v2")
    return next(v for v in created if v.key == "service_desk")


def ticket_at_online_fix(session, **classify):
    ticket = instances.create_ticket(session, {"type": "incident", "channel": "phone", "title": "打印机", "description": "卡纸"},
                                     user=user(session, "agent1"))
    row = next(t for t in tasks.inbox(session, user(session, "agent1"), scope="group", instance_id=ticket.instance_id))
    values = {"category": "network", "impact": "high", "urgency": "medium", **classify}
    instances.complete(session, row.id, values, user=user(session, "agent1"))
    return ticket


def ready_rows(session, instance_id) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == TaskState.READY)))


def test_a_v1_instance_migrated_to_v2_keeps_its_ready_task_and_finishes_on_v2(db_session):
    ticket = ticket_at_online_fix(db_session)
    before = ready_rows(db_session, ticket.instance_id)
    assert [r.bpmn_id for r in before] == ["online_fix"]
    v2 = deploy(db_session, {"resolution.bpmn": [EXTRA_FIELD]})

    [plan] = migration.preview(db_session, "service_desk", 1, 2)
    assert plan.migratable and plan.ticket == ticket.number and plan.reasons == []
    assert plan.tasks == [{"bpmn_id": "online_fix", "name": "在线解决", "action": "kept", "changes": ["form"]}]
    assert {t["bpmn_id"]: t["action"] for t in plan.timers} == {
        "response_sla_warning": "kept", "response_sla_breach": "kept",
        "resolution_sla_warning": "kept", "resolution_sla_breach": "kept"}  # fmt: skip
    assert db_session.get(type(ticket.instance), ticket.instance_id).version_id != v2.id  # a preview changes nothing

    done = migration.migrate(db_session, ticket.instance_id, v2, user=user(db_session, "admin1"))
    assert done.migratable
    instance = instances.get(db_session, ticket.instance_id)
    assert instance.version_id == v2.id
    after = ready_rows(db_session, ticket.instance_id)
    assert [(r.id, r.task_guid) for r in after] == [(r.id, r.task_guid) for r in before]
    assert "remote_tool" in [f.id for f in tasks.form_of(after[0])]
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "migrate")).one()
    assert event.actor == "admin1" and event.name == "service_desk v1 → v2" and event.ticket_id == ticket.id

    agent = user(db_session, "agent1")
    instances.complete(db_session, after[0].id, {"outcome": "resolved", "remote_tool": "向日葵", "solution": "重启"}, user=agent)
    callback = ready_rows(db_session, ticket.instance_id)[0]
    instances.complete(db_session, callback.id, {"reached": True, "solved": True, "satisfaction": "satisfied"}, user=agent)
    close = ready_rows(db_session, ticket.instance_id)[0]
    instances.complete(db_session, close.id, {"summary": "ok"}, user=user(db_session, "lead1"))
    assert instances.get(db_session, ticket.instance_id).status == InstanceStatus.COMPLETED
    assert instances.current_data(instances.read(instance))["remote_tool"] == "向日葵"


def test_timers_are_kept_or_recomputed_as_the_admin_chooses(db_session):
    with time_machine.travel(T0, tick=False) as clock:
        ticket = ticket_at_online_fix(db_session)
        clock.shift(timedelta(minutes=3))
        later = ('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">response_due</bpmn:timeDate>',
                 '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">sla_due(response_minutes, sla_calendar)</bpmn:timeDate>')
        v2 = deploy(db_session, {"resolution.bpmn": [later]})
        kept = {t["bpmn_id"]: t for t in migration.preview(db_session, "service_desk", 1, 2)[0].timers}
        assert kept["response_sla_breach"]["action"] == "kept"
        assert kept["response_sla_breach"]["after"] == (T0 + timedelta(minutes=30)).isoformat()
        [plan] = migration.preview(db_session, "service_desk", 1, 2, recompute_timers=True)
        redone = {t["bpmn_id"]: t for t in plan.timers}
        assert redone["response_sla_breach"]["action"] == "recomputed"
        assert redone["response_sla_breach"]["after"] == (T0 + timedelta(minutes=33)).isoformat()
        migration.migrate(db_session, ticket.instance_id, v2, user=user(db_session, "admin1"), recompute_timers=True)
        assert instances.get(db_session, ticket.instance_id).next_timer_at == T0 + timedelta(minutes=22.5)  # the warning


def test_a_boundary_timer_added_in_v2_starts_waiting_and_fires(db_session):
    with time_machine.travel(T0, tick=False) as clock:
        ticket = ticket_at_online_fix(db_session)
        v2 = deploy(db_session, {"resolution.bpmn": [("</bpmn:process>", NEW_TIMER)]})
        [plan] = migration.preview(db_session, "service_desk", 1, 2)
        assert {"bpmn_id": "online_fix_nudge", "name": "提醒处理", "action": "created", "before": None,
                "after": (T0 + timedelta(minutes=5)).isoformat()} in plan.timers
        migration.migrate(db_session, ticket.instance_id, v2, user=user(db_session, "admin1"))
        instance = instances.get(db_session, ticket.instance_id)
        assert instance.next_timer_at == T0 + timedelta(minutes=5)
        clock.shift(timedelta(minutes=6))
        assert instances.fire_timers(db_session, ticket.instance_id)
        workflow = instances.read(instances.get(db_session, ticket.instance_id))
        fired = [t for t in workflow.get_tasks() if t.task_spec.name == "nudge_end"]
        assert fired and fired[0].has_state(64)  # COMPLETED
        assert [r.bpmn_id for r in ready_rows(db_session, ticket.instance_id)] == ["online_fix"]


REMOVE_ONLINE_FIX = [
    (r're:<bpmn:userTask id="online_fix".*?</bpmn:userTask>', ""),
    (r're:<bpmn:boundaryEvent id="response_sla_(warning|breach)".*?</bpmn:boundaryEvent>', ""),
    (r're:<bpmn:endEvent id="response_sla_(warning|breach)_end".*?</bpmn:endEvent>', ""),
    (r're:<bpmn:sequenceFlow id="Flow_response_sla_(warning|breach)"[^>]*/>', ""),
    ('<bpmn:sequenceFlow id="Flow_online_fix_to_record_response" sourceRef="online_fix" targetRef="record_response" />', ""),
    ('targetRef="online_fix"', 'targetRef="record_response"'),
    ("<bpmn:incoming>Flow_online_fix_to_record_response</bpmn:incoming>", "<bpmn:incoming>Flow_first_time</bpmn:incoming>"),
    (r're:<bpmndi:BPMN(Shape|Edge) id="[^"]*" bpmnElement="(online_fix|response_sla_[a-z_]+|Flow_online_fix_to_record_response|Flow_response_sla_[a-z]+)".*?</bpmndi:BPMN(Shape|Edge)>', ""),
]


def test_an_instance_whose_ready_task_was_removed_is_refused_with_the_reason(db_session):
    ticket = ticket_at_online_fix(db_session)
    v2 = deploy(db_session, {"resolution.bpmn": REMOVE_ONLINE_FIX})
    [plan] = migration.preview(db_session, "service_desk", 1, 2)
    assert not plan.migratable
    assert plan.reasons == ["当前步骤「在线解决」(online_fix) 在 v2 中已删除 / the current step online_fix was removed in v2"]
    with pytest.raises(Conflict) as info:
        migration.migrate(db_session, ticket.instance_id, v2, user=user(db_session, "admin1"))
    assert "online_fix was removed in v2" in info.value.message
    assert instances.get(db_session, ticket.instance_id).version.version == 1


def test_a_running_call_activity_that_calls_another_process_in_v2_is_refused(db_session):
    ticket = ticket_at_online_fix(db_session)
    v2 = deploy(db_session, {"service_desk.bpmn": [('calledElement="ticket_resolution"', 'calledElement="complaint"')]})
    [plan] = migration.preview(db_session, "service_desk", 1, 2)
    assert not plan.migratable
    assert any("running call activity resolution calls another process in v2" in r for r in plan.reasons)
    with pytest.raises(Conflict):
        migration.migrate(db_session, ticket.instance_id, v2, user=user(db_session, "admin1"))


def test_finished_running_and_foreign_instances_are_refused(db_session):
    ticket = ticket_at_online_fix(db_session)
    v2 = deploy(db_session, {"resolution.bpmn": [EXTRA_FIELD]})
    admin = user(db_session, "admin1")
    migration.migrate(db_session, ticket.instance_id, v2, user=admin)
    with pytest.raises(Conflict) as info:
        migration.migrate(db_session, ticket.instance_id, v2, user=admin)
    assert "already runs on v2" in info.value.message
    [plan] = migration.preview(db_session, "service_desk", 1, 2, instance_ids=[ticket.instance_id])
    assert not plan.migratable and "already runs on v2" in plan.reasons[0]
    complaint = definitions.get_version(db_session, "complaint")
    with pytest.raises(Conflict) as info:
        migration.migrate(db_session, ticket.instance_id, complaint, user=admin)
    assert "runs service_desk, not complaint" in info.value.message
    instance = instances.get(db_session, ticket.instance_id)
    instance.status = InstanceStatus.COMPLETED
    assert "the instance is completed" in migration.plan_for(db_session, instance, v2).reasons[0]


def test_only_admins_migrate(db_session):
    ticket = ticket_at_online_fix(db_session)
    v2 = deploy(db_session, {"resolution.bpmn": [EXTRA_FIELD]})
    with pytest.raises(Forbidden):
        migration.migrate(db_session, ticket.instance_id, v2, user=user(db_session, "owner1"))


def test_the_cli_previews_migrates_and_refuses(app, db_session):
    kept, other = ticket_at_online_fix(db_session), ticket_at_online_fix(db_session)
    (kept_id, number), other_id = (kept.instance_id, kept.number), other.instance_id
    deploy(db_session, {"resolution.bpmn": [EXTRA_FIELD]})
    db_session.commit()
    db_session.close()  # the CLI writes to the same SQLite file
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}

    def desk(*args):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    args = ["migrate-instances", "--key", "service_desk", "--from", "1", "--to", "2", "--user", "admin1"]
    result = desk(*args, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"可迁移 would migrate  #{kept_id} {number}: tasks online_fix kept" in result.output
    result = desk(*args, "--instance", str(kept_id))
    assert result.exit_code == 0, result.output
    assert f"已迁移 migrated  #{kept_id}" in result.output and f"#{other_id}" not in result.output
    result = desk(*args, "--instance", str(kept_id))
    assert result.exit_code == 1 and "拒绝 refused" in result.output
    result = desk("migrate-instances", "--key", "service_desk", "--from", "1", "--to", "2")
    assert result.exit_code == 0 and f"已迁移 migrated  #{other_id}" in result.output
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "migrate").order_by(AuditEvent.id))
    assert [e.actor for e in events] == ["admin1", "cli"]
