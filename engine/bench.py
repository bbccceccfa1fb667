"""``desk bench``: what one task completion costs, and how big the stored state is.

Runs the bundled desk process on a throw-away SQLite database through the real
write path (lock, load, validate, step, save state + task rows + ticket
projection + audit, commit) and the same steps on raw in-memory SpiffWorkflow,
then prints per-completion times and state sizes side by side.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow

from . import db as engine_db
from . import definitions, instances, sandbox, tasks, users
from .models import HumanTask, ProcessInstance, TaskState
from .serialization import full_serialization

ROOT = Path(__file__).resolve().parent.parent

INTAKE = {
    "type": "incident", "channel": "phone", "title": "服务器宕机", "description": "数据库服务器无法访问",
    "reporter_name": "王工", "organisation": "市人民医院", "phone": "13800000000",
    "occurred_at": "2026-11-23T08:00:00+08:00",
}  # fmt: skip
# (user, bpmn id, data): the PM → engineer → callback → close path
STEPS = [
    ("agent1", "classify", {"category": "server", "impact": "medium", "urgency": "medium"}),
    ("agent1", "online_fix", {"outcome": "dispatch", "solution": ""}),
    ("pm1", "pm_assign", {"engineer": "eng1"}),
    ("eng1", "engineer", {"outcome": "resolved", "solution": "更换电源"}),
    ("agent1", "callback", {"reached": True, "solved": True, "satisfaction": "satisfied"}),
    ("lead1", "close", {"summary": "电源故障，已更换", "to_kb": False}),
]


def _bundle() -> dict[str, bytes]:
    files = {}
    for folder in ("bpmn", "rules"):
        for path in sorted((ROOT / folder).glob("*")):
            if path.suffix in (".bpmn", ".dmn"):
                files[path.name] = path.read_bytes()
    return files


def _engine_run(session_factory, tickets: int) -> tuple[list[float], list[int], list[int]]:
    times, state_sizes, full_sizes = [], [], []
    for _ in range(tickets):
        with session_factory() as session, session.begin():
            agent = users.get_user(session, "agent1")
            ticket = instances.create_ticket(session, INTAKE, user=agent)
            instance_id = ticket.instance_id
        for username, bpmn_id, data in STEPS:
            with session_factory() as session:
                row = session.scalars(
                    select(HumanTask).where(
                        HumanTask.instance_id == instance_id,
                        HumanTask.bpmn_id == bpmn_id,
                        HumanTask.state == TaskState.READY,
                    )
                ).one()
                user = users.get_user(session, username)
                session.commit()
                started = time.perf_counter()
                with session.begin():
                    instances.complete(session, row.id, data, user=user)
                times.append(time.perf_counter() - started)
                with session.begin():
                    instance = session.get(ProcessInstance, instance_id)
                    state_sizes.append(len(instance.state))
                    full_sizes.append(len(full_serialization(instances.read(instance)).encode()))
    return times, state_sizes, full_sizes


def _raw_run(spec, subprocess_specs, tickets: int) -> list[float]:
    """The same path on SpiffWorkflow alone: no database, no validation, no projection."""
    times = []
    for _ in range(tickets):
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=sandbox.script_engine())
        workflow.do_engine_steps()
        intake = tasks.ready_user_tasks(workflow)[0]
        intake.data.update(INTAKE)
        intake.run()
        workflow.do_engine_steps()
        for _user, bpmn_id, data in STEPS:
            task = next(t for t in tasks.ready_user_tasks(workflow) if t.task_spec.bpmn_id == bpmn_id)
            started = time.perf_counter()
            task.data.update(data)
            task.run()
            workflow.refresh_timers()
            workflow.do_engine_steps()
            times.append(time.perf_counter() - started)
    return times


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"mean {statistics.mean(values) * 1000:.2f} ms, median {statistics.median(values) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def run(*, completions: int = 200) -> list[str]:
    """Run the benchmark; returns the lines to print."""
    tickets = max(1, completions // len(STEPS))
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/bench.sqlite")
        engine_db.configure(engine)
        engine_db.Base.metadata.create_all(engine)
        factory = lambda: Session(engine)  # noqa: E731
        with factory() as session, session.begin():
            users.set_hash_cost(2**4)
            users.add_demo_users(session)
            version = definitions.deploy(session, _bundle(), user="bench")[0]
        with factory() as session:
            version = definitions.get_version(session, instances.DESK_PROCESS)
            spec, subs = definitions.specs_of(version)
        _engine_run(factory, 1)  # warm caches (spec, compiled scripts)
        times, state_sizes, full_sizes = _engine_run(factory, tickets)
        raw = _raw_run(spec, subs, tickets)
        engine.dispose()
    state = statistics.mean(state_sizes)
    full = statistics.mean(full_sizes)
    return [
        f"desk bench: {len(times)} task completions on {tickets} tickets (SQLite, {instances.DESK_PROCESS} v{version.version})",
        f"  engine write path (lock+load+validate+step+save+project+audit+commit): {_ms(times)}",
        f"  raw in-memory SpiffWorkflow (run+steps only):                          {_ms(raw)}",
        f"  stored state: mean {state / 1024:.1f} KiB vs SpiffWorkflow full serialization {full / 1024:.1f} KiB "
        f"= {state / full * 100:.1f} %",
    ]
