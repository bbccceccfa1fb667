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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from . import db as engine_db
from .authoring import versions
from .desk import users
from .models import HumanTask, ProcessInstance, TaskState
from .runtime import definitions, instances, sandbox, tasks
from .runtime.serialization import full_serialization

ROOT = Path(__file__).resolve().parent.parent

INTAKE = {
    "type": "incident", "channel": "phone", "title": "服务器宕机", "description": "数据库服务器无法访问",
    "reporter_name": "王工", "organisation": "市人民医院", "phone": "13800000000",
    "occurred_at": "2026-11-23T08:00:00+08:00",
}  # fmt: skip
# (user, bpmn id, data): the PM → engineer → confirmations → callback → close path
STEPS = [
    ("agent1", "classify", {"category": "server", "impact": "medium", "urgency": "medium"}),
    ("agent1", "online_fix", {"outcome": "dispatch", "solution": ""}),
    ("pm1", "pm_assign", {"engineer": "eng1"}),
    ("eng1", "engineer", {"outcome": "resolved", "solution": "更换电源"}),
    ("pm1", "pm_confirm", {"pm_confirmed": "confirmed"}),
    ("agent1", "desk_confirm", {"desk_confirmed": "confirmed"}),
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


class _Phases:
    """Times the engine's own phases inside the write path, like a profiler would.

    ``load`` (the workflow from its state), ``steps`` (SpiffWorkflow running the
    task and what follows) and ``serialize`` (the state to store) are the engine's
    cost; the rest of the write path is the database: lock, rows, projection,
    audit, commit.
    """

    NAMES = {"load": (instances, "load"), "steps": (instances, "run_steps"), "serialize": (instances, "dump_state")}

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {name: [] for name in self.NAMES}
        self.per_completion: list[float] = []
        self.all: dict[str, list[float]] = {}
        self._originals: dict = {}

    def __enter__(self):
        for name, (module, attr) in self.NAMES.items():
            original = getattr(module, attr)
            self._originals[name] = original

            def timed(*args, _original=original, _name=name, **kwargs):
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.totals[_name].append(time.perf_counter() - started)

            setattr(module, attr, timed)
        return self

    def __exit__(self, *exc) -> None:
        for name, (module, attr) in self.NAMES.items():
            setattr(module, attr, self._originals[name])

    def reset(self) -> None:
        for values in self.totals.values():
            values.clear()

    def record(self) -> None:
        """Keep what the completion just timed cost, per phase and in all."""
        for name, values in self.totals.items():
            self.all.setdefault(name, []).append(sum(values))
        self.per_completion.append(sum(sum(v) for v in self.totals.values()))


def _engine_run(session_factory, tickets: int, phases: _Phases | None = None):
    times, state_sizes, full_sizes, cold_loads = [], [], [], []
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
                if phases:
                    phases.reset()
                started = time.perf_counter()
                with session.begin():
                    instances.complete(session, row.id, data, user=user)
                times.append(time.perf_counter() - started)
                if phases:
                    phases.record()
                with session.begin():
                    instance = session.get(ProcessInstance, instance_id)
                    state_sizes.append(len(instance.state))
                    started = time.perf_counter()
                    workflow = instances.read(instance)
                    cold_loads.append(time.perf_counter() - started)
                    full_sizes.append(len(full_serialization(workflow).encode()))
    return times, state_sizes, full_sizes, cold_loads


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


@contextmanager
def _desk_database() -> Iterator[Callable[[], Session]]:
    """A throw-away SQLite desk with the demo users and the desk's diagrams deployed, its caches
    warmed by one ticket life; yields its session factory."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/bench.sqlite")
        engine_db.configure(engine)
        engine_db.Base.metadata.create_all(engine)
        factory = lambda: Session(engine)  # noqa: E731
        with factory() as session, session.begin():
            users.set_hash_cost(2**4)
            users.add_demo_users(session)
            versions.deploy(session, _bundle(), user="bench")
        _engine_run(factory, 1)  # warm caches (spec, compiled scripts)
        try:
            yield factory
        finally:
            engine.dispose()


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"mean {statistics.mean(values) * 1000:.2f} ms, median {statistics.median(values) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def run(*, completions: int = 200) -> list[str]:
    """Run the benchmark; returns the lines to print."""
    tickets = max(1, completions // len(STEPS))
    with _desk_database() as factory:
        with factory() as session:
            version = definitions.get_version(session, instances.DESK_PROCESS)
            spec, subs = definitions.specs_of(version)
        with _Phases() as phases:
            times, state_sizes, full_sizes, cold_loads = _engine_run(factory, tickets, phases)
        raw = _raw_run(spec, subs, tickets)
    state = statistics.mean(state_sizes)
    full = statistics.mean(full_sizes)
    return [
        f"desk bench: {len(times)} task completions on {tickets} tickets (SQLite, {instances.DESK_PROCESS} v{version.version})",
        f"  engine cost per completion (load+step+save state):                     {_ms(phases.per_completion)}",
        "    of which " + ", ".join(f"{name} {statistics.median(v) * 1000:.2f} ms" for name, v in phases.all.items())
        + " (medians)",
        f"  whole write path (+ lock, validation, task rows, ticket, audit, commit): {_ms(times)}",
        f"  raw in-memory SpiffWorkflow (run+steps only):                          {_ms(raw)}",
        f"  a cold load (state → workflow, when not the last one this process saved): {_ms(cold_loads)}",
        f"  stored state: mean {state / 1024:.1f} KiB vs SpiffWorkflow full serialization {full / 1024:.1f} KiB "
        f"= {state / full * 100:.1f} %",
    ]


# --- issue 14: knowledge-base search ---------------------------------------------------------

KB_PARTS = {
    "device": ["核心交换机", "接入交换机", "防火墙", "存储阵列", "数据库服务器", "打印机", "无线 AP", "UPS 电源", "HIS 服务器", "虚拟化主机"],
    "symptom": ["端口频繁 down", "无法登录", "响应缓慢", "卡纸", "告警灯亮红", "掉线", "蓝屏重启", "磁盘空间不足", "证书过期", "风扇噪音大"],
    "cause": ["光模块老化", "配置被误改", "内存泄漏", "固件缺陷", "电源故障", "网线松动", "会话数过多", "索引损坏"],
    "fix": ["更换光模块", "回滚配置", "重启服务", "升级固件", "更换电源", "重新压接网线", "清理会话", "重建索引"],
}


def run_kb(*, articles: int = 10_000, queries: int = 200, url: str | None = None) -> list[str]:
    """Time Chinese knowledge-base searches over ``articles`` published articles.

    A throw-away SQLite database unless ``url`` names another (it must be empty).
    """
    import random

    from .desk import knowledge
    from .models import KbStatus, KnowledgeArticle

    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(url or f"sqlite:///{Path(tmp) / 'kb.sqlite'}")
        engine_db.Base.metadata.create_all(engine)
        started = time.perf_counter()
        with Session(engine) as session:
            for i in range(articles):
                p = {k: rng.choice(v) for k, v in KB_PARTS.items()}
                article = KnowledgeArticle(
                    title=f"{p['device']}{p['symptom']} #{i}", symptom=f"{p['device']}{p['symptom']}，影响业务",
                    cause=p["cause"], solution=p["fix"], tags="", status=KbStatus.PUBLISHED, submitted_by="bench",
                    updated_by="bench",
                )
                knowledge._reindex(article)
                session.add(article)
                if i % 1000 == 999:
                    session.flush()
            session.commit()
        indexed = time.perf_counter() - started
        asks = [rng.choice(KB_PARTS["device"]) + rng.choice(KB_PARTS["symptom"]) for _ in range(queries)]
        times = []
        with Session(engine) as session:
            for q in asks:
                t = time.perf_counter()
                rows, _total = knowledge.search(session, q, limit=5)
                times.append(time.perf_counter() - t)
                assert rows, q
        engine.dispose()
    times.sort()
    return [
        f"knowledge base: {articles} articles segmented and stored in {indexed:.1f} s "
        f"({indexed / articles * 1000:.2f} ms each)",
        f"search, best 5 of {articles}: median {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {times[int(len(times) * 0.95) - 1] * 1000:.1f} ms over {queries} queries ({engine.dialect.name})",
    ]


# --- issue 11: diagram code under hard limits (desk bench jail) ---


def percentile(values: list[float], p: float) -> float:
    """The value below which ``p`` of them lie (the nearest rank; nan for none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def per_call(call: Callable[[], object], repeat: int) -> list[float]:
    """Seconds each of ``repeat`` calls took."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _us(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1e6:,.0f} µs, p95 {percentile(values, 0.95) * 1e6:,.0f} µs"


def run_jail(*, repeat: int = 2000, completions: int = 80) -> list[str]:
    """Per-evaluation latency in this process (cheap code) and in a pooled child, and the cost per completion."""
    from .runtime import jail

    env = sandbox.SandboxEnvironment()
    data = {**INTAKE, "priority": "P2", "items": list(range(20))}
    env.evaluate("sum(items) > 2", dict(data))  # start the pool
    fast = per_call(lambda: env.evaluate("priority == 'P1' and impact != 'high'", data), repeat)
    child_eval = per_call(lambda: env.evaluate("sum(items) > 2", data), repeat)
    child_exec = per_call(lambda: env.execute("total = sum(items)", dict(data)), repeat)

    def fresh_child() -> None:
        child = jail._Child(jail.limits())
        try:
            child.call({"op": "eval", "source": "1", "context": {}, "external": {}, "globals": {},
                        "now": None, "calendar": None})
        finally:
            child.kill()

    spawn = per_call(fresh_child, 5)
    tickets = max(1, completions // len(STEPS))
    with _desk_database() as factory:
        calls, seconds = jail.stats["calls"], jail.stats["seconds"]
        times = _engine_run(factory, tickets)[0]
        calls, seconds = jail.stats["calls"] - calls, jail.stats["seconds"] - seconds
    limit = jail.limits()
    return [
        f"desk bench jail: diagram code under hard limits ({limit.seconds:g} s wall, {limit.cpu_seconds} s CPU, "
        f"{limit.memory_mb} MB, pool of {limit.pool_size})",
        f"  cheap expression, in this process:        {_us(fast)}  ({repeat} calls)",
        f"  expression in a pooled child:             {_us(child_eval)}",
        f"  script in a pooled child:                 {_us(child_exec)}",
        f"  a fresh child (start + first call):       {_ms(spawn)}  (after a limit kills one)",
        f"  per task completion ({len(times)} on {tickets} tickets): {_ms(times)} in all; "
        f"{calls / len(times):.1f} child calls taking {seconds / len(times) * 1000:.2f} ms",
    ]
