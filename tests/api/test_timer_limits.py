"""The timer worker under hard limits (issue 11): a runaway step parks its instance, a killed
worker does not re-fire forever, and on PostgreSQL no firing holds a row lock without limit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from conftest import ON_POSTGRES
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from engine.authoring import versions
from engine.desk import users
from engine.models import AuditEvent, InstanceStatus, ProcessInstance
from engine.runtime import instances, jail, timers
from webforms.extensions import db

from test_concurrency import TIMER_PROCESS

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
RUNAWAY = TIMER_PROCESS.replace('id="reminder" name="提醒"', 'id="runaway" name="失控"').replace(
    "<bpmn:script>fired += 1</bpmn:script>", "<bpmn:script>big = pow(10, 10**8)</bpmn:script>")


@pytest.fixture
def tight():
    old = jail.configure(seconds=2.0, cpu_seconds=1)
    yield
    jail.configure(seconds=old.seconds, cpu_seconds=old.cpu_seconds)


def _start(app, *keys: str) -> list[int]:
    with app.app_context():
        versions.deploy(db.session, {"reminder.bpmn": TIMER_PROCESS, "runaway.bpmn": RUNAWAY}, user="test")
        admin = users.get_user(db.session, "admin1")
        ids = [instances.start(db.session, key, user=admin).id for key in keys]
        db.session.commit()
        return ids


def _factory(app):
    with app.app_context():
        return sessionmaker(bind=db.engine)


def test_a_runaway_timer_step_ends_in_error_and_the_rest_of_the_batch_fires(app, tight):
    with time_machine.travel(T0, tick=False) as clock:
        bad, good = _start(app, "runaway", "reminder")  # bad is due first: the same batch, ahead of good
        clock.move_to(T0 + timedelta(minutes=2))
        factory = _factory(app)
        assert timers.run_due(factory) == 2
        assert timers.run_due(factory) == 0  # parked, not retried
    with app.app_context():
        parked = db.session.get(ProcessInstance, bad)
        assert parked.status == InstanceStatus.ERROR and parked.next_timer_at is None
        assert "时间限制" in parked.last_error and "time limit" in parked.last_error
        assert parked.timer_attempts == 0
        fine = db.session.get(ProcessInstance, good)
        assert fine.status == InstanceStatus.COMPLETED and fine.timer_attempts == 0
        assert instances.current_data(instances.read(fine))["fired"] == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "timer", AuditEvent.instance_id == good)) == 1


class Killed(BaseException):
    """What kill -9 looks like from inside: the firing stops, nothing of it is committed."""


def test_a_step_that_kills_its_worker_every_time_is_parked_after_three_attempts(app, monkeypatch):
    def dies(session, instance, **kw):
        raise Killed

    with time_machine.travel(T0, tick=False) as clock:
        (iid,) = _start(app, "reminder")
        clock.move_to(T0 + timedelta(minutes=2))
        factory = _factory(app)
        monkeypatch.setattr(instances, "fire_locked", dies)
        for attempt in range(1, timers.MAX_ATTEMPTS + 1):
            with pytest.raises(Killed):
                timers.run_due(factory)
            with app.app_context():  # the attempt was committed before the firing began
                instance = db.session.get(ProcessInstance, iid)
                assert (instance.timer_attempts, instance.status) == (attempt, InstanceStatus.RUNNING)
            assert timers.run_due(factory) == 0  # leased: no other worker takes it up at once
            clock.shift(timers.LEASE + timedelta(seconds=1))  # the dead worker's lease runs out
        assert timers.run_due(factory) == 1  # the fourth claim parks it instead of firing
        assert timers.run_due(factory) == 0
    with app.app_context():
        instance = db.session.get(ProcessInstance, iid)
        assert instance.status == InstanceStatus.ERROR and "3 times" in instance.last_error


def test_attempts_are_reset_by_a_finished_firing(app):
    with time_machine.travel(T0, tick=False) as clock:
        (iid,) = _start(app, "reminder")
        clock.move_to(T0 + timedelta(minutes=2))
        assert timers.run_due(_factory(app)) == 1
    with app.app_context():
        instance = db.session.get(ProcessInstance, iid)
        assert instance.status == InstanceStatus.COMPLETED and instance.timer_attempts == 0


def test_a_worker_killed_mid_firing_does_not_refire_forever(app):
    """A worker killed mid-firing (kill -9, out of memory) leaves its attempt counted: the third parks."""
    with time_machine.travel(T0, tick=False) as clock:
        (iid,) = _start(app, "reminder")
        clock.move_to(T0 + timedelta(minutes=2))
        factory = _factory(app)
        with app.app_context():
            # two workers died in this instance's step: each counted its attempt, neither reset it
            db.session.execute(text("UPDATE process_instance SET timer_attempts = :n WHERE id = :id"),
                               {"n": timers.MAX_ATTEMPTS, "id": iid})
            db.session.commit()
        assert timers.run_due(factory) == 1
        assert timers.run_due(factory) == 0
    with app.app_context():
        instance = db.session.get(ProcessInstance, iid)
        assert instance.status == InstanceStatus.ERROR and instance.next_timer_at is None
        assert "3 次" in instance.last_error and "3 times" in instance.last_error
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "timer", AuditEvent.instance_id == iid)) == 0  # never fired again


def test_a_crash_counted_below_the_limit_still_fires(app):
    with time_machine.travel(T0, tick=False) as clock:
        (iid,) = _start(app, "reminder")
        clock.move_to(T0 + timedelta(minutes=2))
        with app.app_context():
            db.session.execute(text("UPDATE process_instance SET timer_attempts = 2 WHERE id = :id"), {"id": iid})
            db.session.commit()
        assert timers.run_due(_factory(app)) == 1
    with app.app_context():
        instance = db.session.get(ProcessInstance, iid)
        assert instance.status == InstanceStatus.COMPLETED and instance.timer_attempts == 0


@pytest.mark.skipif(not ON_POSTGRES, reason="statement_timeout is PostgreSQL's")
def test_each_firing_transaction_has_a_statement_and_lock_timeout(app, monkeypatch):
    seen = []

    def spy(session, instance, **kw):
        seen.append({name: session.scalar(text(f"SHOW {name}"))
                     for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")})
        return original(session, instance, **kw)

    original = instances.fire_locked
    with time_machine.travel(T0, tick=False) as clock:
        _start(app, "reminder")
        clock.move_to(T0 + timedelta(minutes=2))
        monkeypatch.setattr(instances, "fire_locked", spy)
        assert timers.run_due(_factory(app)) == 1
    assert seen == [{"statement_timeout": "30s", "lock_timeout": "10s", "idle_in_transaction_session_timeout": "1min"}]
    with app.app_context():  # SET LOCAL: the pool's connections are back to the defaults afterwards
        assert db.session.scalar(text("SHOW statement_timeout")) == "0"


def test_a_result_that_cannot_be_stored_is_a_422_naming_the_variable(app, api):
    nan = TIMER_PROCESS.replace("<bpmn:script>fired = 0</bpmn:script>", "<bpmn:script>fired = float('nan')</bpmn:script>")
    with app.app_context():
        versions.deploy(db.session, {"reminder.bpmn": nan}, user="test")
        db.session.commit()
    res = api.post("admin1", "/api/processes/reminder/instances", json={"data": {}})
    assert res.status_code == 422
    body = res.get_json()
    assert "“fired”" in body["message"] and "cannot be stored" in body["message"] and body["element"] == "init"
    assert "NaN" not in res.get_data(as_text=True)


def test_a_timer_step_whose_result_cannot_be_stored_parks_its_instance_with_the_reason(app):
    gen = TIMER_PROCESS.replace("<bpmn:script>fired += 1</bpmn:script>", "<bpmn:script>fired = (n for n in [1])</bpmn:script>")
    with time_machine.travel(T0, tick=False) as clock:
        with app.app_context():
            versions.deploy(db.session, {"reminder.bpmn": gen}, user="test")
            iid = instances.start(db.session, "reminder", user=users.get_user(db.session, "admin1")).id
            db.session.commit()
        clock.move_to(T0 + timedelta(minutes=2))
        assert timers.run_due(_factory(app)) == 1
    with app.app_context():
        instance = db.session.get(ProcessInstance, iid)
        assert instance.status == InstanceStatus.ERROR and "“fired”" in instance.last_error
        assert "generator" in instance.last_error
