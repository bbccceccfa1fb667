"""Turning specs and workflows into stored text and back.

A version's spec (the process and everything it calls) is stored once, in
``process_version.spec``. An instance stores only its state: the serialization
minus ``spec`` and ``subprocess_specs``, gzip'd. Loading puts the two together.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState


class _SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Leaves specs out of instance state, and takes already-restored specs back in.

    A version's spec is converted once at deploy and restored once per process;
    converting or restoring it on every step was most of a step's cost. Specs
    are read-only templates that SpiffWorkflow itself shares between workflows.
    """

    dumping_state = threading.local()  # per thread: set while dumping instance state

    def to_dict(self, workflow):
        if not getattr(self.dumping_state, "on", False):
            return super().to_dict(workflow)
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec = dct.get("spec")
        if isinstance(spec, dict):
            return super().from_dict(dct)
        dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _FinishedTaskConverter(TaskConverter):
    """Remembers the dict of a COMPLETED task, which no later step changes.

    The engine keeps the workflow it saved last in memory (``instances.load``), so
    on the next save most of the tree is already converted; a task whose state
    change time or children differ from what was remembered is converted again.
    """

    def to_dict(self, task):
        if task.state != TaskState.COMPLETED:
            return super().to_dict(task)
        key = (task.last_state_change, tuple(task._children))
        memo = getattr(task, "_desk_dict", None)
        if memo is None or memo[0] != key:
            memo = (key, super().to_dict(task))
            task._desk_dict = memo
        return memo[1]


_config = dict(DEFAULT_CONFIG)
_config[BpmnWorkflow] = _SharedSpecWorkflowConverter
_config[Task] = _FinishedTaskConverter
_registry = BpmnWorkflowSerializer.configure(_config)
# datetime is registered by SpiffWorkflow itself; form data and scripts may also hold these.
_registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
_registry.register(time, lambda v: {"value": v.isoformat()}, lambda v: time.fromisoformat(v["value"]))
_registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
_registry.register(timedelta, lambda v: {"seconds": v.total_seconds()}, lambda v: timedelta(seconds=v["seconds"]))

serializer = BpmnWorkflowSerializer(_registry)


def dump_spec(spec, subprocess_specs: dict) -> str:
    """The JSON stored in ``process_version.spec``."""
    return json.dumps(
        {
            "spec": serializer.to_dict(spec),
            "subprocess_specs": {name: serializer.to_dict(s) for name, s in subprocess_specs.items()},
        },
        ensure_ascii=False,
    )


_spec_cache: dict[tuple[int, str], tuple] = {}
_spec_lock = threading.Lock()


def load_spec(version_id: int, content_hash: str, spec_json: Callable[[], str]):
    """The restored ``(spec, subprocess_specs)`` of a version, built once per process.

    Versions never change once deployed, so the cache needs no invalidation.
    """
    key = (version_id, content_hash)
    cached = _spec_cache.get(key)
    if cached is None:
        raw = json.loads(spec_json())
        cached = (
            serializer.from_dict(raw["spec"]),
            {name: serializer.from_dict(d) for name, d in raw["subprocess_specs"].items()},
        )
        with _spec_lock:
            _spec_cache[key] = cached
    return cached


def dump_state(workflow: BpmnWorkflow) -> bytes:
    """The workflow's state without its spec, gzip'd JSON."""
    serializer.registry._encoder_mode = True
    _SharedSpecWorkflowConverter.dumping_state.on = True
    try:
        dct = serializer.to_dict(workflow)
    finally:
        serializer.registry._encoder_mode = False
        _SharedSpecWorkflowConverter.dumping_state.on = False
    dct[serializer.VERSION_KEY] = serializer.VERSION
    text = json.dumps(dct, cls=serializer._encoder_cls, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=1)  # level 1: ~2x faster than 5, ~10 % larger


def full_serialization(workflow: BpmnWorkflow) -> str:
    """SpiffWorkflow's own full serialization (spec included), for comparison in benchmarks."""
    return serializer.serialize_json(workflow)


def load_workflow(state: bytes, spec, subprocess_specs: dict, script_engine) -> BpmnWorkflow:
    """Restore a workflow from stored state plus its version's (shared) spec objects."""
    dct = json.loads(gzip.decompress(state), cls=serializer.json_decoder_cls)
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    serializer.migrate(dct)
    workflow = serializer.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow


def jsonable(value):
    """Process data as plain JSON values (dates and the like become strings), for answers and reports."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
