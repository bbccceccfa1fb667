"""Races: many people on one task; many workers on many timers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from conftest import ON_POSTGRES
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import sessionmaker

from engine.authoring import versions
from engine.desk import users
from engine.models import (
    AuditEvent,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    TaskState,
)
from engine.runtime import instances, timers
from webforms import THREADS
from webforms.extensions import db


def test_twenty_threads_complete_one_task_exactly_one_wins(app, api):
    number = api.new_ticket()["number"]
    task = api.task("agent1", number, "classify")
    token = api.token("agent1")
    start = threading.Barrier(20)
    results: list[tuple[int, dict]] = []

    def attempt() -> None:
        client = app.test_client()
        start.wait()
        res = client.post(f"/api/tasks/{task['id']}/complete", headers={"Authorization": f"Bearer {token}"},
                          json={"data": {"category": "network", "impact": "low", "urgency": "low"}})
        results.append((res.status_code, res.get_json()))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _ in results)
    assert codes == [200] + [409] * 19, results
    conflict = next(body for code, body in results if code == 409)
    assert conflict["error"] == "conflict" and conflict["by"] == "agent1"
    assert "agent1" in conflict["message"]
    with app.app_context():
        done = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "complete", AuditEvent.bpmn_id == "classify"))
        assert done == 1
    assert api.ticket(number)["stage"] == ["online_fix"]


TIMER_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="reminder" name="提醒" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="init"/>
    <bpmn:scriptTask id="init" scriptFormat="python"><bpmn:script>fired = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="init" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait" name="等待一分钟">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="count"/>
    <bpmn:scriptTask id="count" scriptFormat="python"><bpmn:script>fired += 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="count" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def _start_many(app, n: int) -> list[int]:
    with app.app_context():
        versions.deploy(db.session, {"reminder.bpmn": TIMER_PROCESS}, user="test")
        admin = users.get_user(db.session, "admin1")
        ids = [instances.start(db.session, "reminder", user=admin).id for _ in range(n)]
        db.session.commit()
        return ids


def _fire_with_workers(app, workers: int) -> list[int]:
    with app.app_context():
        factory = sessionmaker(bind=db.engine)
    fired: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            fired.append(timers.run_due(factory))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return fired


def _check_each_fired_once(app, ids: list[int]) -> None:
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.id.in_(ids), ProcessInstance.status == InstanceStatus.COMPLETED)) == len(ids)
        per_instance = dict(db.session.execute(
            select(AuditEvent.instance_id, func.count()).where(AuditEvent.action == "timer",
                                                               AuditEvent.instance_id.in_(ids))
            .group_by(AuditEvent.instance_id)).all())
        assert set(per_instance.values()) == {1} and len(per_instance) == len(ids)
        from engine.runtime.instances import current_data, read

        for instance_id in ids[:50]:
            assert current_data(read(db.session.get(ProcessInstance, instance_id)))["fired"] == 1


def test_tickets_created_at_once_get_one_number_each_in_sequence(app, api):
    """The day's counter is one upsert (insert 1, or add 1): concurrent first creations of a day neither
    collide nor skip.

    As many at once as one worker's pool serves while each holds its session's connection
    and takes another for the number (PostgreSQL): pool size + overflow − 1, more than
    the worker's request threads (``THREADS``) plus its timer thread.
    """
    creations = THREADS + 2
    token = api.token("agent1")
    start = threading.Barrier(creations)
    numbers: list[str] = []

    def create() -> None:
        client = app.test_client()
        start.wait()
        res = client.post("/api/tickets", headers={"Authorization": f"Bearer {token}"},
                          json={"type": "consultation", "channel": "phone", "title": "并发登记", "description": "同时来电",
                                "reporter_name": "王工", "organisation": "市人民医院", "phone": "13800000000"})
        assert res.status_code == 201, res.get_json()
        numbers.append(res.get_json()["number"])

    threads = [threading.Thread(target=create) for _ in range(creations)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, creations + 1)), numbers


@pytest.mark.skipif(not ON_POSTGRES, reason="FOR UPDATE SKIP LOCKED across workers needs PostgreSQL")
def test_four_workers_fire_a_thousand_timers_each_exactly_once(app):
    with time_machine.travel(T0, tick=False) as clock:
        ids = _start_many(app, 1000)
        clock.move_to(T0 + timedelta(minutes=2))
        fired = _fire_with_workers(app, 4)
    assert sum(fired) == 1000
    assert sum(1 for f in fired if f > 0) >= 2  # the work really was shared
    _check_each_fired_once(app, ids)


def test_a_batch_of_full_timer_steps_reads_each_table_once(app):
    """The batch's tickets and open task rows are read for all of it (``instances.prefetch``), so
    its statements do not grow with its size; on PostgreSQL its writes go out one per table too
    (SQLite's driver inserts row by row)."""

    def counted() -> Counter:
        count: Counter = Counter()

        def one(conn, cursor, statement, *args):
            count[statement.split(None, 1)[0].upper()] += 1

        with app.app_context():
            factory = sessionmaker(bind=db.engine)
            event.listen(db.engine, "before_cursor_execute", one)
            try:
                fired.append(timers.run_due(factory))
            finally:
                event.remove(db.engine, "before_cursor_execute", one)
        return count

    fired: list[int] = []
    with time_machine.travel(T0, tick=False) as clock:
        ids = _start_many(app, 1)
        clock.move_to(T0 + timedelta(minutes=2))
        counted()  # the first firing in this process also reads the version's spec
        ids += _start_many(app, 1)
        clock.move_to(T0 + timedelta(minutes=4))
        one = counted()
        ids += _start_many(app, 6)
        clock.move_to(T0 + timedelta(minutes=6))
        six = counted()
    assert fired == [1, 1, 6]
    assert six["SELECT"] == one["SELECT"]
    if ON_POSTGRES:
        assert six == one
    _check_each_fired_once(app, ids)


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks between workers need PostgreSQL")
def test_a_claimed_instance_locked_for_a_moment_by_another_worker_still_fires_now(app):
    """Another worker's SKIP LOCKED claim scan can hold one of our leased rows until its
    commit; the firing waits for it instead of leaving it to the lease (a minute late)."""
    with time_machine.travel(T0, tick=False) as clock:
        ids = _start_many(app, 3)
        clock.move_to(T0 + timedelta(minutes=2))
        with app.app_context():
            factory = sessionmaker(bind=db.engine)
        claimed, claims = timers._claim_and_count(factory, 50)
        assert claimed == 3
        other = factory()  # the other worker, in the middle of its claim
        other.execute(select(ProcessInstance.id).where(ProcessInstance.id == ids[0]).with_for_update())
        firing = threading.Thread(target=timers.fire_claimed, args=(factory, claims))
        firing.start()
        waiting = False
        with factory() as watcher:
            for _ in range(10_000):  # until the firing waits on that lock (pg_stat_activity, no sleep)
                waiting = watcher.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")) > 0
                watcher.rollback()
                if waiting or not firing.is_alive():
                    break
        other.rollback()  # its claim ends
        other.close()
        firing.join()
    assert waiting
    _check_each_fired_once(app, ids)


def test_workers_on_sqlite_fire_each_timer_once(app):
    with time_machine.travel(T0, tick=False) as clock:
        ids = _start_many(app, 60)
        clock.move_to(T0 + timedelta(seconds=59))
        assert _fire_with_workers(app, 2) == [0, 0]
        clock.move_to(T0 + timedelta(minutes=2))
        fired = _fire_with_workers(app, 2)
    assert sum(fired) == 60
    _check_each_fired_once(app, ids)


def test_instance_tasks_go_through_the_same_task_endpoints(app, api):
    process = TIMER_PROCESS.replace('<bpmn:scriptTask id="count"', '<bpmn:userTask id="ack" name="确认" '
                                    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" camunda:candidateGroups="agent"/>'
                                    '<bpmn:scriptTask id="count"').replace(
        '<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="count"/>',
        '<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="ack"/>'
        '<bpmn:sequenceFlow id="f5" sourceRef="ack" targetRef="count"/>')
    with app.app_context():
        versions.deploy(db.session, {"reminder.bpmn": process}, user="test")
        db.session.commit()
    with time_machine.travel(T0, tick=False) as clock:
        res = api.post("admin1", "/api/processes/reminder/instances", json={"data": {"note": "hi"}})
        assert res.status_code == 201
        instance_id = res.get_json()["id"]
        view = api.get("admin1", f"/api/instances/{instance_id}").get_json()
        assert view["status"] == "running" and view["tasks"] == []
        assert datetime.fromisoformat(view["next_timer_at"]) == T0 + timedelta(minutes=1)
        clock.move_to(T0 + timedelta(minutes=1, seconds=1))
        with app.app_context():
            assert timers.run_due(sessionmaker(bind=db.engine)) == 1
    view = api.get("admin1", f"/api/instances/{instance_id}").get_json()
    assert [t["bpmn_id"] for t in view["tasks"]] == ["ack"]
    assert view["data"]["note"] == "hi"
    items = api.get("agent1", f"/api/tasks?instance={instance_id}").get_json()["items"]
    res = api.post("agent1", f"/api/tasks/{items[0]['id']}/complete", json={"data": {}})
    assert res.status_code == 200
    view = api.get("admin1", f"/api/instances/{instance_id}").get_json()
    assert view["status"] == "completed" and view["data"]["fired"] == 1
    with app.app_context():
        row = db.session.get(HumanTask, items[0]["id"])
        assert row.state == TaskState.COMPLETED and row.completed_by == "agent1"


def test_a_runaway_script_parks_its_instance_and_the_worker_goes_on(app):
    runaway = TIMER_PROCESS.replace("<bpmn:script>fired += 1</bpmn:script>",
                                    "<bpmn:script>while True:\n    fired += 1</bpmn:script>")
    with app.app_context():
        versions.deploy(db.session, {"reminder.bpmn": runaway}, user="test")
        admin = users.get_user(db.session, "admin1")
        bad = instances.start(db.session, "reminder", user=admin).id
        db.session.commit()
        factory = sessionmaker(bind=db.engine)
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=2), tick=False):
        assert timers.run_due(factory) == 1
        assert timers.run_due(factory) == 0  # parked, not retried forever
    with app.app_context():
        instance = db.session.get(ProcessInstance, bad)
        assert instance.status == InstanceStatus.ERROR
        assert "loop steps" in instance.last_error
        assert instance.next_timer_at is None
