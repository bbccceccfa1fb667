"""Process tests: scenarios that travel next to a diagram and run it in memory.

A scenario file sits next to the diagram it tests, ``bpmn/<process_key>.scenarios.json``,
and holds a list of scenarios::

    [{"name": "在线解决 / online fix",
      "start": {"number": "INC-1"},                         # initial data (optional)
      "at": "2026-11-23T09:00:00+08:00",                    # the clock at the start (optional)
      "users": {"eng1": ["engineer"]},                      # check `user` steps and user pickers (optional)
      "steps": [{"task": "intake", "data": {...}},
                {"task": "engineer", "user": "eng1", "data": {...}},
                {"advance": "PT20M"}],                      # move the mocked clock
      "expect": {"path": ["intake", ...],                   # user tasks in the order they became ready
                 "data": {"priority": "P1"},                # a subset of the final data
                 "completed": true,
                 "sla_events": [["response", "warning"], ["response", "breach"]]}}]

Nothing touches the database: the workflow is built from the bundle's parsed spec
with the sandbox script engine, user tasks are completed with data validated by
``engine.forms``, and timers fire as the clock moves.

Why a subprocess: SpiffWorkflow reads ``datetime.now(timezone.utc)`` itself, so the
only way to move its clock is to patch the global clock (time-machine). That is
unsafe inside a threaded web server, so :func:`run` starts
``python -m engine.authoring.scenarios run``, which patches freely in its own process and
answers with the JSON report. :func:`run_here` is that child's body (and what
tests call directly).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState as SpiffState

from ..desk.users import ROLES
from ..errors import EngineError, Invalid, InvalidDefinition
from ..runtime import definitions, forms, instances, messages, sandbox, tasks
from ..runtime.serialization import jsonable

__all__ = ["SUFFIX", "parse_file", "run", "run_here", "scenario_files"]

SUFFIX = ".scenarios.json"
DEFAULT_START = "2026-11-23T09:00:00+08:00"  # a Monday, 09:00 in Shanghai: inside business hours
TIMEOUT = 180
_STEP_KEYS = {"task", "user", "data", "advance"}
_EXPECT_KEYS = {"path", "data", "completed", "sla_events"}


# --------------------------------------------------------------------------- the file


def _fail(message: str) -> None:
    raise ValueError(message)


def parse_file(content: bytes | str) -> list[dict]:
    """The scenarios of one file, or ValueError saying (in Chinese, then English) what is wrong."""
    try:
        scenarios = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"场景文件不是有效的 JSON / scenario file is not valid JSON: {exc}") from None
    if not isinstance(scenarios, list):
        _fail("场景文件应为列表 / a scenario file holds a list of scenarios")
    for index, scenario in enumerate(scenarios, 1):
        name = scenario.get("name") if isinstance(scenario, dict) else None
        where = f"#{index} {name or ''}".strip()
        if not isinstance(scenario, dict) or not isinstance(name, str) or not name:
            _fail(f"场景 {where} 缺少名称 / scenario {where} has no name")
        if not isinstance(scenario.get("start", {}), dict):
            _fail(f"场景 {where}：start 应为对象 / scenario {where}: start must be an object")
        steps = scenario.get("steps", [])
        if not isinstance(steps, list):
            _fail(f"场景 {where}：steps 应为列表 / scenario {where}: steps must be a list")
        for number, step in enumerate(steps, 1):
            if not isinstance(step, dict) or not step.keys() <= _STEP_KEYS or ("task" in step) == ("advance" in step):
                _fail(f"场景 {where} 第 {number} 步应为 task 或 advance / scenario {where} step {number} "
                      f"must be {{task, user?, data?}} or {{advance}}")
            if "advance" in step:
                _duration_ok(step["advance"], where, number)
            if not isinstance(step.get("data", {}), dict):
                _fail(f"场景 {where} 第 {number} 步：data 应为对象 / scenario {where} step {number}: data must be an object")
        expect = scenario.get("expect", {})
        if not isinstance(expect, dict) or not expect.keys() <= _EXPECT_KEYS:
            _fail(f"场景 {where}：expect 只能包含 {', '.join(sorted(_EXPECT_KEYS))} / "
                  f"scenario {where}: expect may hold only {', '.join(sorted(_EXPECT_KEYS))}")
    return scenarios


def _duration_ok(value, where: str, number: int) -> None:
    try:
        TimerEventDefinition.parse_iso_duration(value)
    except Exception:  # SpiffWorkflow raises a bare Exception for a bad duration
        _fail(f"场景 {where} 第 {number} 步：advance 不是 ISO 8601 时长：{value!r} / "
              f"scenario {where} step {number}: advance is not an ISO 8601 duration: {value!r}")


def scenario_files(files: Mapping[str, bytes | str]) -> dict[str, str]:
    """Process key → the name of its scenario file, for the scenario files of a bundle."""
    return {Path(name).name[: -len(SUFFIX)]: name for name in sorted(files) if name.endswith(SUFFIX)}


# --------------------------------------------------------------------------- running (in a child process)


def run(files: Mapping[str, bytes | str], *, timeout: float = TIMEOUT) -> dict:
    """Run every scenario file of a bundle in a child process; the JSON report as a dict."""
    payload = {"files": {name: _text(content) for name, content in files.items()}}
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "engine.authoring.scenarios", "run"],
            input=json.dumps(payload, ensure_ascii=False), capture_output=True, text=True, encoding="utf-8",
            timeout=timeout, env=env, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return _broken(f"场景测试超时（{timeout:g} 秒）/ the scenarios took longer than {timeout:g} s")
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr or "").strip().splitlines()[-5:]
        return _broken("场景测试进程出错 / the scenario runner failed: " + " | ".join(tail))
    return json.loads(done.stdout)


def _text(content: bytes | str) -> str:
    return content.decode("utf-8") if isinstance(content, bytes) else content


def _broken(message: str) -> dict:
    return {"passed": False, "count": 0, "failed": 0, "results": [], "problems": [message]}


def run_here(files: Mapping[str, bytes | str]) -> dict:
    """Run every scenario file of a bundle in this process (patches the global clock: not in a server)."""
    report: dict = {"passed": True, "count": 0, "failed": 0, "results": [], "problems": []}
    by_key = scenario_files(files)
    if not by_key:
        return report
    xml = {n: c for n, c in files.items() if n.endswith((".bpmn", ".dmn"))}
    try:
        bundle = definitions.parse_bundle(xml)
    except InvalidDefinition as exc:
        problems = exc.problems or [{"message": exc.message}]
        report["problems"] = [messages.prefixed(f"{p.get('file') or ''} {p.get('element') or ''}".strip() or "文件包",
                                                f"{p.get('file') or ''} {p.get('element') or ''}".strip() or "bundle",
                                                str(p.get("message"))) for p in problems]
        report["passed"] = False
        return report
    processes = {p.key: p for p in bundle.processes}
    for key, filename in by_key.items():
        try:
            scenarios = parse_file(files[filename])
        except ValueError as exc:
            report["problems"].append(f"{filename}: {exc}")
            report["passed"] = False
            continue
        for scenario in scenarios:
            if key not in processes:
                result = _result(key, filename, scenario, [], [], False, {}, [],
                                 f"流程 {key} 不在文件包中 / process {key} is not in the bundle")
            else:
                result = _run_scenario(processes[key], filename, scenario)
            report["results"].append(result)
            report["count"] += 1
            if not result["passed"]:
                report["failed"] += 1
                report["passed"] = False
    return report


def _result(key, filename, scenario, path, fired, completed, data, ready, difference) -> dict:
    return {
        "process": key, "file": filename, "name": scenario.get("name", ""), "passed": difference is None,
        "path": path, "sla_events": [list(e) for e in fired], "completed": completed, "ready": ready,
        "data": jsonable(data), "difference": difference,
    }  # fmt: skip


class _Run:
    """One scenario's workflow, its path so far and the SLA events fired."""

    def __init__(self, process, start: dict) -> None:
        self.workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=sandbox.script_engine())
        for task in self.workflow.get_tasks(state=SpiffState.READY):
            task.data.update(sandbox.strip_reserved(start))
        self.path: list[str] = []
        self.fired: list[tuple[str, str]] = []
        self._seen: set = set()
        self.settle()

    def settle(self) -> None:
        self.fired.extend(instances.run_steps(self.workflow))
        for task in sorted(tasks.ready_user_tasks(self.workflow), key=lambda t: t.last_state_change):
            if task.id not in self._seen:
                self._seen.add(task.id)
                self.path.append(task.task_spec.bpmn_id)

    def ready(self) -> list:
        return tasks.ready_user_tasks(self.workflow)

    def data(self) -> dict:
        return instances.current_data(self.workflow)


def _run_scenario(process, filename: str, scenario: dict) -> dict:
    import time_machine  # only here: the child process (or a test) owns the clock

    at = datetime.fromisoformat(scenario.get("at") or DEFAULT_START)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    difference = None
    with time_machine.travel(at, tick=False) as traveller:
        try:
            state = _Run(process, scenario.get("start") or {})
        except (EngineError, SpiffWorkflowException) as exc:
            return _result(process.key, filename, scenario, [], [], False, {}, [],
                           messages.prefixed("启动失败", "the process did not start", _message(exc)))
        for number, step in enumerate(scenario.get("steps", []), 1):
            try:
                if "advance" in step:
                    parsed = TimerEventDefinition.parse_iso_duration(step["advance"])
                    traveller.shift(TimerEventDefinition.get_timedelta_from_start(parsed))
                    state.settle()
                else:
                    _complete(state, step, scenario.get("users"))
            except _StepFailed as exc:
                difference = messages.prefixed(f"第 {number} 步", f"step {number}", str(exc))
            except (EngineError, SpiffWorkflowException) as exc:
                difference = messages.prefixed(f"第 {number} 步出错", f"step {number} failed", _message(exc))
            if difference:
                break
        data = state.data()
        completed = state.workflow.completed
        ready = [t.task_spec.bpmn_id for t in state.ready()]
    if difference is None:
        difference = _compare(scenario.get("expect") or {}, state.path, completed, data, state.fired)
    return _result(process.key, filename, scenario, state.path, state.fired, completed, data, ready, difference)


class _StepFailed(Exception):
    pass


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, EngineError) else messages.bilingual(str(exc))


def _complete(state: _Run, step: dict, users: dict | None) -> None:
    bpmn_id = step["task"]
    task = next((t for t in state.ready() if t.task_spec.bpmn_id == bpmn_id), None)
    if task is None:
        ready = ", ".join(t.task_spec.bpmn_id for t in state.ready()) or "无 / none"
        raise _StepFailed(f"任务 {bpmn_id} 不在待办中（待办：{ready}）/ task {bpmn_id} is not ready (ready: {ready})")
    user = step.get("user")
    if user:
        _check_user(state.workflow, task, user, users)
    defs = forms.field_defs(getattr(task.task_spec, "form", None))
    pickers = [fd for fd in defs if fd.widget == "user"]
    plain = [fd if fd.widget != "user" else _without_widget(fd) for fd in defs]
    try:
        values = forms.validate(None, plain, sandbox.strip_reserved(step.get("data") or {}))
    except Invalid as exc:
        fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items())
        raise _StepFailed(f"{bpmn_id} 表单无效 / form invalid: {fields or exc.message}") from None
    if users is not None:
        for fd in pickers:
            value = values.get(fd.id)
            if value and (value not in users or (fd.role and fd.role not in users[value])):
                raise _StepFailed(f"{fd.id}: {value} 不是 {fd.role} 角色的用户 / {value} is not a user with role {fd.role}")
    task.data.update(values)
    task.run()
    state.settle()


def _without_widget(fd):
    return replace(fd, widget=None)


_LANE_ROLES = {name: code for code, zh, en in ROLES for name in (code, zh, en)}


def _check_user(workflow, task, user: str, users: dict | None) -> None:
    """The task's assignee must be this user; with a ``users`` map, so must one of its roles."""
    ext = getattr(task.task_spec, "extensions", None) or {}
    expression = ext.get("assignee")
    if expression:
        inner = expression.strip()
        if inner[:2] in ("${", "#{") and inner.endswith("}"):
            assignee = workflow.script_engine.evaluate(task, inner[2:-1])
        else:
            assignee = inner
        if assignee and str(assignee) != user:
            raise _StepFailed(f"任务 {task.task_spec.bpmn_id} 分配给 {assignee}，不是 {user} / "
                              f"task {task.task_spec.bpmn_id} is assigned to {assignee}, not {user}")
        if assignee:
            return
    if users is None:
        return
    roles = []
    for group in ext.get("candidateGroups") or []:
        inner = group.strip()
        if inner[:2] in ("${", "#{") and inner.endswith("}"):
            inner = str(workflow.script_engine.evaluate(task, inner[2:-1]) or "")
        roles.extend(g.strip() for g in inner.split(",") if g.strip())
    lane = getattr(task.task_spec, "lane", None)
    if not roles and lane:
        roles = [_LANE_ROLES.get(lane, lane)]
    if roles and not set(users.get(user, [])) & set(roles):
        raise _StepFailed(f"{user} 没有任务 {task.task_spec.bpmn_id} 的角色（{', '.join(roles)}）/ "
                          f"{user} has none of the roles of task {task.task_spec.bpmn_id} ({', '.join(roles)})")


def _compare(expect: dict, path: list[str], completed: bool, data: dict, fired: list) -> str | None:
    """The first difference between what was expected and what happened, or None."""
    if "path" in expect:
        wanted = list(expect["path"])
        for index in range(max(len(wanted), len(path))):
            want = wanted[index] if index < len(wanted) else None
            got = path[index] if index < len(path) else None
            if want == got:
                continue
            step = index + 1
            if got is None:
                return f"路径在第 {index} 步后结束，预期下一步为 {want} / the path ended after {index} steps; expected {want} next"
            if want is None:
                return f"路径多出第 {step} 步 {got} / the path has an extra step {step}: {got}"
            return f"路径第 {step} 步应为 {want}，实际为 {got} / path step {step}: expected {want}, got {got}"
    if "completed" in expect and bool(expect["completed"]) != completed:
        return ("流程应已结束，但仍在进行 / expected the process to be completed; it is still running"
                if expect["completed"] else "流程不应结束，但已结束 / expected the process to be running; it completed")
    for key, want in (expect.get("data") or {}).items():
        if key not in data:
            return f"数据缺少 {key} / the data has no {key}"
        got = jsonable(data[key])
        if got != want:
            return f"数据 {key} 应为 {want!r}，实际为 {got!r} / data {key}: expected {want!r}, got {got!r}"
    if "sla_events" in expect:
        wanted_events = [list(e) for e in expect["sla_events"]]
        got_events = [list(e) for e in fired]
        if wanted_events != got_events:
            return f"SLA 事件应为 {wanted_events}，实际为 {got_events} / SLA events: expected {wanted_events}, got {got_events}"
    return None




def main(argv: list[str]) -> int:
    """``python -m engine.authoring.scenarios run``: a JSON ``{"files": {...}}`` on stdin, the report on stdout."""
    if argv[:1] != ["run"]:
        print("usage: python -m engine.authoring.scenarios run < bundle.json", file=sys.stderr)
        return 2
    payload = json.load(sys.stdin)
    report = run_here(payload["files"])
    json.dump(report, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
