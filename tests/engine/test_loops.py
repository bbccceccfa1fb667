"""Issue 12: a ticket reopened again and again neither breaks nor grows without bound,
and its ticket page still draws the whole path (runtime.archive)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.desk import users
from engine.models import HumanTask, InstanceStatus, PathStep, ProcessInstance, TaskState, Ticket
from engine.runtime import archive, instances, paths
from webforms.extensions import db

INTAKE = {
    "type": "incident", "channel": "phone", "title": "打印机卡纸", "description": "财务室打印机卡纸",
    "reporter_name": "王工", "organisation": "市人民医院", "phone": "13800000000",
    "occurred_at": "2026-11-23T08:00:00+08:00",
}  # fmt: skip


def _step(session, instance_id: int, username: str, bpmn_id: str, **data) -> None:
    row = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id, HumanTask.state == TaskState.READY
        )
    ).one()
    instances.complete(session, row.id, data, user=users.get_user(session, username))
    session.commit()


def _ticket_with_loops(session, loops: int, sizes: dict[int, int] | None = None) -> Ticket:
    ticket = instances.create_ticket(session, INTAKE, user=users.get_user(session, "agent1"))
    session.commit()
    iid = ticket.instance_id
    _step(session, iid, "agent1", "classify", category="desktop", impact="low", urgency="low")
    _step(session, iid, "agent1", "online_fix", outcome="resolved", solution="重装驱动")
    for loop in range(1, loops + 1):
        _step(session, iid, "agent1", "callback", reached=True, solved=False, satisfaction="dissatisfied",
              comment=f"第{loop}次仍未解决")
        _step(session, iid, "agent1", "online_fix", outcome="resolved", solution="再试")
        if sizes is not None:
            sizes[loop] = len(session.get(ProcessInstance, iid).state)
    return ticket


def test_a_ticket_reopened_200_times_completes(app):
    with app.app_context():
        session = db.session
        sizes: dict[int, int] = {}
        ticket = _ticket_with_loops(session, 200, sizes)
        iid = ticket.instance_id
        _step(session, iid, "agent1", "callback", reached=True, solved=True, satisfaction="satisfied")
        _step(session, iid, "lead1", "close", summary="驱动问题", to_kb=False)
        instance = session.get(ProcessInstance, iid)
        assert instance.status == InstanceStatus.COMPLETED
        assert session.get(Ticket, ticket.id).reopened == 200
        # the state holds about one loop, however many there were (it grew 40x before)
        assert max(sizes[n] for n in range(100, 201)) <= 2 * max(sizes[n] for n in range(1, 3))
        assert session.scalar(select(func.count()).select_from(PathStep).where(PathStep.instance_id == iid)) > 0
        marks = paths.visited(session, instance)
        assert {"intake", "classify", "callback", "reopen", "close"} <= set(marks["service_desk"]["completed"])
        assert {"Flow_reopen_back", "Flow_not_solved", "Flow_start_to_intake"} <= set(marks["service_desk"]["flows"])
        assert "online_fix" in marks["ticket_resolution"]["completed"]


@pytest.mark.parametrize("loops", [3])
def test_the_path_is_the_same_with_history_cut_off(app, monkeypatch, loops):
    with app.app_context():
        session = db.session
        cut = _ticket_with_loops(session, loops)
        assert session.scalar(select(func.count()).select_from(PathStep)) > 0  # history was cut off
        monkeypatch.setattr(archive, "MIN_DEPTH", 10**6)  # the same life, kept whole in the state
        whole = _ticket_with_loops(session, loops)
        assert session.scalar(
            select(func.count()).select_from(PathStep).where(PathStep.instance_id == whole.instance_id)
        ) == 0
        cut_marks = paths.visited(session, session.get(ProcessInstance, cut.instance_id))
        whole_marks = paths.visited(session, session.get(ProcessInstance, whole.instance_id))
        assert cut_marks == whole_marks
