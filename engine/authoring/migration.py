"""Moving running instances from one version of a process to another.

SpiffWorkflow does the work (``SpiffWorkflow.bpmn.util.diff``): ``diff_workflow``
aligns the instance's task tree with the new spec (and each running called
process with its new spec), ``migrate_workflow`` points the tasks at the new
specs and resets the READY (and, when timers are recomputed, WAITING) tasks so
they are predicted again from the new diagram. A READY user task keeps its id,
so its inbox row, its assignee and its claim survive.

What this module adds is the judgement: a preview per instance (tasks kept,
re-created, cancelled or created; timers kept or recomputed, with their due
times) made on a throw-away copy, and a refusal with the reason for anything
that cannot be moved safely:

* the instance is not running, or belongs to another process;
* a READY task, or a running call activity, was removed in the target version;
* a running call activity now calls another process, or its process is gone;
* a finished step was removed (the stored history would no longer load);
* the migrated state does not survive a save and reload.

``migrate`` does the same on the locked instance through the engine's write
path conventions: lock, load, migrate, run engine steps, save, audit — in the
caller's transaction, one instance per transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..desk import audit
from ..errors import Conflict, Forbidden, Invalid
from ..models import (
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    Ticket,
    User,
)
from ..runtime import definitions, instances, sandbox, tasks
from ..runtime.serialization import dump_state, load_workflow, serializer

__all__ = ["Plan", "migrate", "plan_for", "preview", "running_instances", "ticket_numbers"]


@dataclass
class Plan:
    """What migrating one instance does (or why it cannot be migrated)."""

    instance_id: int
    ticket: str | None
    from_version: int
    to_version: int
    migratable: bool = True
    reasons: list[str] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)  # {bpmn_id, name, action: kept/recreated/cancelled/created, changes}
    timers: list[dict] = field(default_factory=list)  # {bpmn_id, name, action: kept/recomputed/cancelled/created, before, after}
    sla_events: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sla_events"] = [list(e) for e in self.sla_events]
        return d


def _require_admin(user: User) -> None:
    if not user.has_role("admin"):
        raise Forbidden("只有系统管理员可以迁移实例 / only admins migrate instances")


def running_instances(session: Session, version: ProcessVersion) -> list[ProcessInstance]:
    """Instances that may move: running ones, and failed ones (moving to a fixed version is how they get fixed)."""
    stmt = select(ProcessInstance).where(
        ProcessInstance.version_id == version.id,
        ProcessInstance.status.in_((InstanceStatus.RUNNING, InstanceStatus.ERROR)),
    )
    return list(session.scalars(stmt.order_by(ProcessInstance.id)))


# --------------------------------------------------------------------------- one workflow, in memory


def _label(task) -> str:
    spec = task.task_spec
    return getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name


def _user_tasks(workflow) -> dict:
    return {t.id: t for t in tasks.ready_user_tasks(workflow)}


def _timers(workflow) -> dict:
    found = {}
    for task in workflow.get_tasks(state=SpiffState.WAITING):
        if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            found[task.id] = task
    return found


def _due(task) -> str | None:
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):
        value = value.get("next")
    return value if isinstance(value, str) else None


def _diffs(workflow, spec, subprocess_specs) -> tuple[list, dict]:
    """``diff_workflow``, keeping the spec diffs: [(WorkflowDiff, SpecDiff, workflow)] and missing called processes."""
    registry = serializer.registry
    spec_diff = SpecDiff(registry, workflow.spec, spec)
    pairs = [(WorkflowDiff(workflow, spec_diff), spec_diff, workflow)]
    missing = {}
    for sp_id, sp in workflow.subprocesses.items():
        if sp.spec.name in subprocess_specs:
            sp_spec_diff = SpecDiff(registry, sp.spec, subprocess_specs[sp.spec.name])
            pairs.append((WorkflowDiff(sp, sp_spec_diff), sp_spec_diff, sp))
        else:
            missing[sp_id] = sp
    return pairs, missing


def _refusals(pairs: list, missing: dict, version: int) -> list[str]:
    reasons = [
        f"运行中的调用流程 {sp.spec.name} 在 v{version} 中不存在 / the running called process {sp.spec.name} is not in v{version}"
        for sp in missing.values()
    ]
    for diff, spec_diff, _wf in pairs:
        for task in diff.removed:
            name, spec_name = _label(task), task.task_spec.name
            if task.has_state(SpiffState.READY | SpiffState.STARTED):
                reasons.append(f"当前步骤「{name}」({spec_name}) 在 v{version} 中已删除 / "
                               f"the current step {spec_name} was removed in v{version}")
            elif task.has_state(SpiffState.COMPLETED) and getattr(task.task_spec, "bpmn_id", None):
                reasons.append(f"已完成的步骤「{name}」({spec_name}) 在 v{version} 中已删除，实例历史无法保留 / "
                               f"the finished step {spec_name} was removed in v{version}")
        for task in diff.changed:
            if not task.has_state(SpiffState.READY | SpiffState.STARTED):
                continue
            new_spec = diff.alignment.get(task)
            if "typename" in spec_diff.changed.get(task.task_spec, []):
                reasons.append(f"当前步骤「{_label(task)}」的类型在 v{version} 中改变 / "
                               f"the current step {task.task_spec.name} changed type in v{version}")
            elif isinstance(task.task_spec, SubWorkflowTask) and getattr(new_spec, "spec", None) != task.task_spec.spec:
                reasons.append(f"运行中的调用活动「{_label(task)}」在 v{version} 中调用了另一个流程 / "
                               f"the running call activity {task.task_spec.name} calls another process in v{version}")
    return list(dict.fromkeys(reasons))


def _sync_boundary_events(workflow) -> None:
    """Give each open activity the boundary events of the new version, keeping the activity itself.

    ``migrate_workflow`` re-points tasks at the new specs but leaves the events
    attached to a READY task or a running call activity as they were: events
    removed in the new version are dropped here, new ones start waiting.
    """
    for wf in (workflow, *workflow.subprocesses.values()):
        for split in [t for t in wf.tasks.values() if isinstance(t.task_spec, BoundaryEventSplit)]:
            if not any(c.has_state(SpiffState.READY | SpiffState.STARTED) for c in split.children):
                continue
            wanted = [s.name for s in split.task_spec.outputs]
            for child in list(split.children):
                if child.task_spec.name not in wanted and not child.has_state(SpiffState.READY | SpiffState.STARTED):
                    wf._remove_task(child.id)
            have = {c.task_spec.name for c in split.children}
            for spec in split.task_spec.outputs:
                if spec.name not in have:
                    child = split._add_child(spec, SpiffState.FUTURE)  # as SpiffWorkflow adds timer children
                    child.data = dict(split.data)
                    spec._predict(child, mask=SpiffState.NOT_FINISHED_MASK)
                    spec._update(child)


def _apply(workflow, target: ProcessVersion, *, recompute_timers: bool, plan: Plan) -> None:
    """Migrate ``workflow`` (in place) to ``target``, filling ``plan``; nothing is stored."""
    spec, subprocess_specs = definitions.specs_of(target)
    before_tasks = {k: (t.task_spec.bpmn_id, _label(t)) for k, t in _user_tasks(workflow).items()}
    before_timers = {k: (t.task_spec.bpmn_id, _label(t), _due(t)) for k, t in _timers(workflow).items()}
    pairs, missing = _diffs(workflow, spec, subprocess_specs)
    plan.reasons = _refusals(pairs, missing, target.version)
    if plan.reasons:
        plan.migratable = False
        return
    changed = {old: c for _d, spec_diff, _w in pairs for old, c in spec_diff.changed.items()}
    changes_by_id = {k: sorted(changed.get(t.task_spec, [])) for k, t in _user_tasks(workflow).items()}
    mask = SpiffState.READY | SpiffState.WAITING if recompute_timers else SpiffState.READY
    for diff, _spec_diff, wf in pairs:
        migrate_workflow(diff, wf, spec if wf is workflow else subprocess_specs[wf.spec.name], reset_mask=mask)
    workflow.subprocess_specs = subprocess_specs
    _sync_boundary_events(workflow)
    try:
        plan.sla_events = instances.run_steps(workflow)
        _check_specs(workflow, target.version)
        load_workflow(dump_state(workflow), spec, subprocess_specs, sandbox.script_engine())
    except Exception as exc:  # anything at all: the migrated state must load again, or nothing is stored
        plan.migratable = False
        plan.reasons = [f"迁移后的实例无法保存：{exc} / the migrated instance cannot be saved: {exc}"]
        return
    after_tasks = _user_tasks(workflow)
    after_timers = _timers(workflow)
    recreated = set()
    for guid, (bpmn_id, name) in before_tasks.items():
        if guid in after_tasks:
            action = "kept"
        else:
            twin = next((g for g, t in after_tasks.items() if t.task_spec.bpmn_id == bpmn_id and g not in before_tasks), None)
            action = "recreated" if twin else "cancelled"
            if twin:
                recreated.add(twin)
        plan.tasks.append({"bpmn_id": bpmn_id, "name": name, "action": action, "changes": changes_by_id.get(guid, [])})
    for guid, task in after_tasks.items():
        if guid not in before_tasks and guid not in recreated:
            plan.tasks.append({"bpmn_id": task.task_spec.bpmn_id, "name": _label(task), "action": "created", "changes": []})
    matched = set()
    for guid, (bpmn_id, name, due) in before_timers.items():
        twin = guid if guid in after_timers else next(
            (g for g, t in after_timers.items() if t.task_spec.bpmn_id == bpmn_id and g not in before_timers), None)
        if twin is None:
            plan.timers.append({"bpmn_id": bpmn_id, "name": name, "action": "cancelled", "before": due, "after": None})
            continue
        matched.add(twin)
        after = _due(after_timers[twin])
        action = "kept" if twin == guid and after == due and not recompute_timers else "recomputed"
        plan.timers.append({"bpmn_id": bpmn_id, "name": name, "action": action, "before": due, "after": after})
    for guid, task in after_timers.items():
        if guid not in matched:
            plan.timers.append({"bpmn_id": task.task_spec.bpmn_id, "name": _label(task), "action": "created",
                                "before": None, "after": _due(task)})


def _check_specs(workflow, version: int) -> None:
    for wf in (workflow, *workflow.subprocesses.values()):
        for task in wf.tasks.values():
            if wf.spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                raise ValueError(f"步骤 {task.task_spec.name} 在 v{version} 中不存在 / step {task.task_spec.name} is not in v{version}")


# --------------------------------------------------------------------------- instances


def ticket_numbers(session: Session, instance_ids: list[int]) -> dict[int, str]:
    """instance id → ticket number, for the instances that are desk tickets."""
    if not instance_ids:
        return {}
    rows = session.execute(select(Ticket.instance_id, Ticket.number).where(Ticket.instance_id.in_(instance_ids)))
    return dict(rows.all())


def _ticket_number(session: Session, instance: ProcessInstance) -> str | None:
    return session.scalar(select(Ticket.number).where(Ticket.instance_id == instance.id))


def _check_pair(instance: ProcessInstance, target: ProcessVersion) -> list[str]:
    if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.ERROR):
        return [f"实例已{'结束' if instance.status == InstanceStatus.COMPLETED else instance.status} / the instance is {instance.status}"]
    if instance.process_key != target.key:
        return [f"实例属于流程 {instance.process_key}，不是 {target.key} / the instance runs {instance.process_key}, not {target.key}"]
    if instance.version_id == target.id:
        return [f"实例已在 v{target.version} 上 / the instance already runs on v{target.version}"]
    return []


def plan_for(session: Session, instance: ProcessInstance, target: ProcessVersion, *, recompute_timers: bool = False) -> Plan:
    """The preview for one instance, made on a copy of its workflow."""
    plan = Plan(instance.id, _ticket_number(session, instance), instance.version.version, target.version)
    plan.reasons = _check_pair(instance, target)
    if plan.reasons:
        plan.migratable = False
        return plan
    try:
        workflow = instances.read(instance)
    except Exception as exc:  # a broken stored state is a reason, not a crash of the whole preview
        plan.migratable, plan.reasons = False, [f"实例无法读取 / the instance cannot be loaded: {exc}"]
        return plan
    _apply(workflow, target, recompute_timers=recompute_timers, plan=plan)
    return plan


def preview(
    session: Session,
    key: str,
    from_version: int,
    to_version: int,
    *,
    instance_ids: list[int] | None = None,
    recompute_timers: bool = False,
) -> list[Plan]:
    """A plan for each running instance of ``key`` v``from_version`` (or the given ones)."""
    source = definitions.get_version(session, key, from_version)
    target = definitions.get_version(session, key, to_version)
    if source.id == target.id:
        raise Invalid("源版本与目标版本相同 / the source and target versions are the same")
    chosen = running_instances(session, source)
    plans = []
    if instance_ids:
        wanted = set(instance_ids)
        chosen = [i for i in chosen if i.id in wanted]
        for instance_id in sorted(wanted - {i.id for i in chosen}):
            instance = instances.get(session, instance_id)
            plan = Plan(instance.id, _ticket_number(session, instance), instance.version.version, to_version,
                        migratable=False)
            plan.reasons = _check_pair(instance, target) or [
                f"实例在 v{instance.version.version} 上，不在 v{from_version} 上 / "
                f"the instance runs on v{instance.version.version}, not v{from_version}"]
            plans.append(plan)
    return [plan_for(session, i, target, recompute_timers=recompute_timers) for i in chosen] + plans


def _refresh_rows(session: Session, instance: ProcessInstance, workflow) -> None:
    """Kept READY rows take the names, roles and form keys of the new version."""
    rows = session.scalars(tasks.open_rows_of([instance.id]))
    for row in rows:
        task = tasks.find_task(workflow, row.task_guid)
        if task is not None:
            tasks.describe(session, row, task.task_spec)


def migrate(
    session: Session,
    instance_id: int,
    target: ProcessVersion,
    *,
    user: User,
    recompute_timers: bool = False,
) -> Plan:
    """Move one running instance to ``target``, in the caller's transaction; Conflict when it cannot be."""
    _require_admin(user)
    instance = instances.lock(session, instance_id)
    plan = Plan(instance.id, _ticket_number(session, instance), instance.version.version, target.version)
    plan.reasons = _check_pair(instance, target)
    if not plan.reasons:
        workflow = instances.load(instance)
        _apply(workflow, target, recompute_timers=recompute_timers, plan=plan)
    if plan.reasons:
        halves = [reason.partition(" / ") for reason in plan.reasons]
        raise Conflict(f"实例 {instance.id} 不能迁移：{'；'.join(h[0] for h in halves)} / "
                       f"instance {instance.id} cannot be migrated: {'; '.join(h[2] or h[0] for h in halves)}")
    source = instance.version
    instance.version_id = target.id
    instance.version = target
    _refresh_rows(session, instance, workflow)
    instances.save(session, instance, workflow, actor=user.username, sla_events=plan.sla_events)
    audit.record(
        session, "migrate", actor=user.username, instance_id=instance.id,
        ticket_id=session.scalar(select(Ticket.id).where(Ticket.instance_id == instance.id)),
        name=f"{target.key} v{source.version} → v{target.version}",
        data={"from_version_id": source.id, "to_version_id": target.id, "recompute_timers": recompute_timers,
              "tasks": plan.tasks, "timers": plan.timers},
    )  # fmt: skip
    return plan
