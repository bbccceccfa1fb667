"""Where an instance has been: the elements and sequence flows its workflow passed through.

The ticket page draws this on the diagram of the instance's *own* version. It is
read from the workflow's task tree, which SpiffWorkflow keeps whole (tasks of
called processes included), and grouped by the BPMN process each element sits
in, because element ids are only unique within one file:

    {"service_desk":      {"file": "service_desk.bpmn",
                           "completed": [...], "current": [...], "flows": [...]},
     "ticket_resolution": {...}}

An element done before and open again (a loop) is in both lists. Steps a looping
instance no longer holds in its state (``archive``) come from ``path_step``. A sequence
flow is taken when its source and its target were both visited, one right after
the other in the tree (a task's nearest ancestor with a BPMN id is the element
it came from), so a gateway's branches that were not taken stay grey.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import HumanTask, PathStep, ProcessInstance, ProcessVersion, TaskState
from . import instances, safe_xml
from .definitions import BPMN_NS

CURRENT_STATES = SpiffState.READY | SpiffState.STARTED


def visited(session: Session, instance: ProcessInstance) -> dict[str, dict[str, list[str]]]:
    """Completed elements, current ones and the flows taken, per BPMN process id."""
    layout = _layout(instance.version)
    marks: dict[str, dict[str, set]] = defaultdict(lambda: {"completed": set(), "current": set(), "flows": set()})
    steps: dict[str, set[tuple[str, str]]] = defaultdict(set)
    workflow = instances.read(instance)
    for wf in (workflow, *workflow.subprocesses.values()):
        for task in wf.tasks.values():
            bpmn_id = task.task_spec.bpmn_id
            if bpmn_id is None:
                continue
            if task.state == SpiffState.COMPLETED:
                kind = "completed"
            elif task.state & CURRENT_STATES:
                kind = "current"
            else:
                continue
            process = layout.owner.get(wf.spec.name, wf.spec.name)
            marks[process][kind].add(bpmn_id)
            source = _came_from(task)
            if source is not None:
                steps[process].add((source, bpmn_id))
    for step in session.scalars(select(PathStep).where(PathStep.instance_id == instance.id)):
        # the steps cut off the live state of a looping instance (runtime.archive)
        process = layout.owner.get(step.process, step.process)
        marks[process]["completed"].add(step.element)
        if step.came_from:
            steps[process].add((step.came_from, step.element))
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)):
        process = layout.owner.get(row.process_id, row.process_id)
        if row.state == TaskState.COMPLETED:
            marks[process]["completed"].add(row.bpmn_id)
        elif row.state == TaskState.READY:
            marks[process]["current"].add(row.bpmn_id)
    for process, pairs in steps.items():
        flows = layout.flows.get(process, {})
        for pair in pairs:
            marks[process]["flows"].update(flows.get(pair, ()))
    result = {}
    for process, m in marks.items():
        result[process] = {"file": layout.files.get(process)}
        for kind, ids in m.items():
            result[process][kind] = sorted(ids)
    return result


def _came_from(task) -> str | None:
    """The BPMN id of the element this task was reached from, skipping SpiffWorkflow's own tasks."""
    parent = task.parent
    while parent is not None and parent.task_spec.bpmn_id is None:
        parent = parent.parent
    return parent.task_spec.bpmn_id if parent is not None else None


class _Layout:
    """The process each embedded subprocess sits in, and the sequence flows between elements."""

    def __init__(self) -> None:
        self.owner: dict[str, str] = {}
        self.files: dict[str, str] = {}
        self.flows: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(lambda: defaultdict(list))


_layouts: dict[tuple[int, str], _Layout] = {}
_lock = threading.Lock()


def _layout(version: ProcessVersion) -> _Layout:
    """Read once per version from its BPMN files (versions never change once deployed)."""
    key = (version.id, version.content_hash)
    with _lock:
        if key not in _layouts:
            _layouts[key] = _read_layout(version.files or {})
        return _layouts[key]


def _read_layout(files: dict[str, str]) -> _Layout:
    layout = _Layout()
    for filename, text in files.items():
        if not filename.endswith(".bpmn"):
            continue
        root = safe_xml.parse_xml(text.encode("utf-8"), filename)
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            pid = process.get("id")
            layout.files[pid] = filename
            for tag in ("subProcess", "transaction", "adHocSubProcess"):
                for sub in process.iter(f"{{{BPMN_NS}}}{tag}"):
                    layout.owner[sub.get("id")] = pid
            for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
                pair = (flow.get("sourceRef"), flow.get("targetRef"))
                layout.flows[pid][pair].append(flow.get("id"))
    return layout
