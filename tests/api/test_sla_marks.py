"""Issue 12: an SLA warning or breach fired in SQL (``runtime.sla_marks``), without the workflow round-trip.

The same emergency ticket as test_sla_timers (P1 at 09:00 Shanghai: response 15 min, resolution
and the emergency close 60 min, 24x7). A P1 cannot be raised, so each of its wakes is done in SQL;
the results must equal the full step's, exactly once, and the path must still show the marks.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from conftest import ON_POSTGRES
from sqlalchemy import event, select
from sqlalchemy.orm import sessionmaker

from engine.models import AuditEvent, Notification, ProcessInstance, SlaEscalation, Ticket
from engine.runtime import instances, paths, sla_marks, timers
from webforms.extensions import db

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai, a Monday


def run_worker(app) -> int:
    with app.app_context():
        return timers.run_due(sessionmaker(bind=db.engine))


def emergency(api, title: str = "全院网络中断") -> str:
    number = api.new_ticket(title=title, occurred_at=T0.isoformat())["number"]
    api.complete("agent1", number, "classify", category="network", impact="high", urgency="high")
    return number


def instance_of(number: str) -> ProcessInstance:
    ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
    return db.session.get(ProcessInstance, ticket.instance_id)


def wakes(app, number: str) -> list[dict]:
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        return [e.data for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == "timer")
            .order_by(AuditEvent.id))]


def outcome(app, number: str) -> dict:
    """Everything a wake leaves on a ticket, without its number and ids."""
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        events = Counter(db.session.execute(
            select(AuditEvent.action, AuditEvent.name)
            .where(AuditEvent.ticket_id == ticket.id, AuditEvent.action.in_(["sla_warning", "sla_breach"]))).all())
        bells = Counter(db.session.execute(
            select(Notification.username, Notification.kind).where(Notification.ticket_id == ticket.id)).all())
        levels = sorted((e.clock, e.level, tuple(e.recipients), e.at) for e in db.session.scalars(
            select(SlaEscalation).where(SlaEscalation.ticket_id == ticket.id)))
        clocks = {c.name: (c.due_at, c.warn_at, c.warned_at, c.breached, c.breached_at, c.stopped_at)
                  for c in ticket.clocks}
        marks = paths.visited(db.session, ticket.instance)
        return {"events": events, "bells": bells, "escalations": levels, "clocks": clocks, "marks": marks,
                "priority": ticket.priority, "stage": ticket.stage, "sla_due_at": ticket.sla_due_at}


def test_a_warning_and_a_breach_are_marked_in_sql_and_the_workflow_is_untouched(app, api):
    with time_machine.travel(T0, tick=False) as clock:
        number = emergency(api)
        with app.app_context():
            before = instance_of(number)
            state, revision = before.state, before.revision
        clock.move_to(T0 + timedelta(minutes=12))  # 75 % of the 15-minute response
        assert run_worker(app) == 1
        assert run_worker(app) == 0  # the next wake moved on
        clock.move_to(T0 + timedelta(minutes=16))
        assert run_worker(app) == 1
        with app.app_context():
            after = instance_of(number)
            assert after.state == state and after.revision == revision  # never deserialized nor saved
            assert after.next_timer_at > T0 + timedelta(minutes=16)
        ticket = api.ticket(number)
    assert ticket["sla"]["response"]["warned_at"] and ticket["sla"]["response"]["breached"] is True
    assert [w["fired"] for w in wakes(app, number)] == [["response:warning"], ["response:breach"]]
    assert all(w["in_sql"] for w in wakes(app, number))
    seen = outcome(app, number)
    assert seen["events"] == {("sla_warning", "response"): 1, ("sla_breach", "response"): 1}
    assert [(c, lv) for c, lv, *_ in seen["escalations"]] == [("response", "breach"), ("response", "warning")]
    assert seen["bells"][("lead1", "sla_warning")] == 1 and seen["bells"][("lead1", "sla_breach")] == 1


def test_in_sql_or_the_full_step_the_ticket_ends_the_same(app, api, monkeypatch):
    """Two identical tickets through the same hours; one woken in SQL, the other by the full step."""
    full_step: set[int] = set()
    wake, wake_batch = sla_marks.wake, sla_marks.wake_batch
    monkeypatch.setattr(sla_marks, "wake", lambda session, instance, **kw: (
        False if instance.id in full_step else wake(session, instance, **kw)))
    monkeypatch.setattr(sla_marks, "wake_batch", lambda session, due, **kw: (
        wake_batch(session, [i for i in due if i.id not in full_step], **kw)))
    with time_machine.travel(T0, tick=False) as clock:
        in_sql, by_engine = emergency(api), emergency(api)
        with app.app_context():
            full_step.add(instance_of(by_engine).id)
        for minutes in (12, 16):
            clock.move_to(T0 + timedelta(minutes=minutes))
            run_worker(app)
        for number in (in_sql, by_engine):
            api.complete("agent1", number, "online_fix", outcome="dispatch")  # 16 min: to the back line
        for minutes in (46, 50, 61, 62):  # resolution and emergency close warn (45) and breach (60)
            clock.move_to(T0 + timedelta(minutes=minutes))
            run_worker(app)
        # the ticket page reads the path now: the marks left waiting in SQL show as done
        a, b = outcome(app, in_sql), outcome(app, by_engine)
        for process in a["marks"]:
            for kind in ("completed", "current", "flows"):
                assert (process, kind, set(a["marks"][process][kind]) - set(b["marks"][process][kind])) == (process, kind, set())
                assert (process, kind, set(b["marks"][process][kind]) - set(a["marks"][process][kind])) == (process, kind, set())
        assert a == b
        for number in (in_sql, by_engine):
            api.complete("pm1", number, "pm_assign", engineer="eng1")
            api.complete("eng1", number, "engineer", outcome="resolved", solution="更换核心交换机板卡")
        for minutes in (61 + 91, 300):  # the callback's warning and breach
            clock.move_to(T0 + timedelta(minutes=minutes))
            run_worker(app)
        assert run_worker(app) == 0
    assert any(w.get("in_sql") for w in wakes(app, in_sql))
    assert not any(w.get("in_sql") for w in wakes(app, by_engine))
    a, b = outcome(app, in_sql), outcome(app, by_engine)
    assert a == b
    assert a["events"] == {
        ("sla_warning", "response"): 1, ("sla_breach", "response"): 1,
        ("sla_warning", "resolution"): 1, ("sla_breach", "resolution"): 1,
        ("sla_warning", "emergency_close"): 1, ("sla_breach", "emergency_close"): 1,
        ("sla_warning", "callback"): 1, ("sla_breach", "callback"): 1,
    }  # fmt: skip
    done = set(a["marks"]["service_desk"]["completed"])
    assert {"resolution_sla_warning", "resolution_sla_warning_end", "resolution_sla_breach",
            "resolution_sla_breach_end"} <= done


def test_a_worker_that_dies_before_its_commit_leaves_nothing_and_the_next_fires_once(app, api):
    with time_machine.travel(T0, tick=False) as clock:
        number = emergency(api)
        clock.move_to(T0 + timedelta(minutes=12))
        with app.app_context():
            factory = sessionmaker(bind=db.engine)
            with factory() as session:  # the dying worker: claims, wakes, never commits
                session.begin()
                claimed = timers.claim_batch(session)
                assert [instances.fire_locked(session, i) for i in claimed] == [True]
                session.rollback()
        assert api.ticket(number)["sla"]["response"]["warned_at"] is None
        assert outcome(app, number)["bells"] == Counter()
        assert run_worker(app) == 1
        assert run_worker(app) == 0
        # the full step loading the workflow later fires the mark in the engine: nothing new
        clock.move_to(T0 + timedelta(minutes=13))
        api.complete("agent1", number, "online_fix", outcome="dispatch")
    seen = outcome(app, number)
    assert seen["events"] == {("sla_warning", "response"): 1}
    assert seen["bells"][("lead1", "sla_warning")] == 1
    assert len(seen["escalations"]) == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="two workers at once need PostgreSQL's SKIP LOCKED")
def test_two_workers_at_once_fire_an_sla_mark_once(app, api):
    with time_machine.travel(T0, tick=False) as clock:
        number = emergency(api)
        clock.move_to(T0 + timedelta(minutes=12))
        with app.app_context():
            factory = sessionmaker(bind=db.engine)
            with factory() as first, first.begin():
                claimed = timers.claim_batch(first)
                assert len(claimed) == 1
                assert timers.run_due(factory) == 0  # the other worker skips the locked instance
                assert instances.fire_locked(first, claimed[0]) is True
            assert timers.run_due(factory) == 0  # committed: nothing due any more
    assert [w["fired"] for w in wakes(app, number)] == [["response:warning"]]
    assert outcome(app, number)["bells"][("lead1", "sla_warning")] == 1


def test_a_breach_that_raises_the_priority_takes_the_full_step(app, api):
    sh = timezone(timedelta(hours=8))
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=sh), tick=False) as clock:  # P3, business hours
        number = api.new_ticket()["number"]
        api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
        api.complete("agent1", number, "online_fix", outcome="dispatch")
        api.complete("pm1", number, "pm_assign", engineer="eng1")
        with app.app_context():
            ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
            raises = {c.name: c.raises_on_breach for c in ticket.clocks}
        assert raises["resolution"] is True and raises["response"] is False
        clock.move_to(datetime(2026, 11, 23, 15, 0, 1, tzinfo=sh))  # the warning: in SQL
        assert run_worker(app) == 1
        clock.move_to(datetime(2026, 11, 23, 17, 0, 1, tzinfo=sh))  # the breach raises P3 → P2: the full step
        assert run_worker(app) == 1
        assert api.ticket(number)["priority"] == "P2"
    # the full step fires, in the engine, the warning's mark the wake in SQL left waiting, and the breach's
    assert [(w["fired"], bool(w.get("in_sql"))) for w in wakes(app, number)] == [
        (["resolution:warning"], True), (["resolution:warning", "resolution:breach"], False)]


def test_marks_are_the_non_interrupting_timers_that_only_end():
    from pathlib import Path

    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    from engine.runtime.parser import make_parser

    parser, root = make_parser(), Path(__file__).resolve().parents[2]
    for path in sorted((root / "bpmn").glob("*.bpmn")):
        parser.add_bpmn_file(str(path))
    for path in sorted((root / "rules").glob("*.dmn")):
        parser.add_dmn_file(str(path))
    specs = [parser.get_spec("service_desk"), *parser.get_subprocess_specs("service_desk").values()]
    marks = {(spec.name, s.bpmn_id): sla_marks.is_mark(s) for spec in specs for s in spec.task_specs.values()
             if isinstance(getattr(s, "event_definition", None), TimerEventDefinition)}
    assert {k for k, mark in marks.items() if not mark} == {("service_desk", "retry_wait")}  # it moves the flow
    assert {bpmn_id for (_, bpmn_id), mark in marks.items() if mark} == {
        f"{clock}_sla_{level}" for clock in ("response", "resolution", "complaint", "callback")
        for level in ("warning", "breach")}


def test_a_batch_of_wakes_in_sql_reads_and_writes_each_table_once(app, api):
    """A burst: the batch's statements do not grow with its size (one read per table; on PostgreSQL one
    write per table too; SQLite's driver inserts row by row)."""

    def registered(occurred: datetime) -> str:
        number = api.new_ticket(title="全院网络中断", occurred_at=occurred.isoformat())["number"]
        api.complete("agent1", number, "classify", category="network", impact="high", urgency="high")
        return number

    def counted_worker() -> Counter:
        count: Counter = Counter()

        def one(conn, cursor, statement, *args):
            count[statement.split(None, 1)[0].upper()] += 1

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", one)
            try:
                assert run_worker(app) >= 1
            finally:
                event.remove(db.engine, "before_cursor_execute", one)
        return count

    with time_machine.travel(T0, tick=False) as clock:
        alone = registered(T0)
        clock.move_to(T0 + timedelta(minutes=1))
        burst = [registered(T0 + timedelta(minutes=1)) for _ in range(4)]
        clock.move_to(T0 + timedelta(minutes=12))  # 75 % of the first one's 15-minute response
        one_wake = counted_worker()
        clock.move_to(T0 + timedelta(minutes=13))  # the four others' at once
        four_wakes = counted_worker()
    assert four_wakes["SELECT"] == one_wake["SELECT"]
    if ON_POSTGRES:
        assert four_wakes == one_wake
    for number in (alone, *burst):
        assert [w["fired"] for w in wakes(app, number)] == [["response:warning"]]
        assert outcome(app, number)["bells"] == Counter({("agent1", "sla_warning"): 1, ("lead1", "sla_warning"): 1})
