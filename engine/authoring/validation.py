"""Checking a bundle before it is deployed: every problem, pointing at its element.

``definitions.parse_bundle`` stops a bundle SpiffWorkflow cannot load. This module
also finds what would only go wrong later, at a desk agent's desk: a user task
nobody can see, a form field the serializer chokes on, a timer whose expression
gives no date, a decision table that is not in the bundle, a gateway that can
leave a ticket stuck. A process owner sees the whole list at once, each problem
naming its file and element so the modeler can highlight it::

    {"file": "resolution.bpmn", "element": "engineer", "severity": "error",
     "message": "用户任务缺少角色 / user task has no lane or candidate group"}

Errors stop a deployment; warnings are the usual bpmnlint rules (implicit splits
and joins, missing labels, start and end events, disconnected elements).
Messages are Chinese first, then English.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidDefinition, ScriptError
from ..models import Role
from ..runtime import forms, labels, messages, safe_xml, sandbox
from ..runtime.definitions import BPMN_NS, CAMUNDA_NS, DMN_NAMESPACES, parse_bundle
from ..runtime.forms import TYPES
from ..runtime.safe_xml import local_name
from .samples import sample_variables
from .scenarios import SUFFIX as SCENARIO_SUFFIX

__all__ = ["ERROR", "WARNING", "has_errors", "sample_variables", "validate", "validate_bundle"]

ERROR = "error"
WARNING = "warning"

_B = "{" + BPMN_NS + "}"
_C = "{" + CAMUNDA_NS + "}"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

TASKS = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
         "businessRuleTask", "callActivity", "subProcess"}  # fmt: skip
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
FLOW_NODES = TASKS | EVENTS | GATEWAYS
CONSTRAINTS = {"required", "readonly", "min", "max", "minlength", "maxlength", "pattern"}
RESERVED_FIELDS = {"typename", *sandbox.DESK_FUNCTIONS}


def _problem(file: str | None, element: str | None, message: str, severity: str = ERROR) -> dict:
    return {"file": file, "element": element, "message": message, "severity": severity}


def has_errors(problems: list[dict]) -> bool:
    return any(p["severity"] == ERROR for p in problems)


def _text(node) -> str:
    return (node.text or "").strip() if node is not None else ""


# --------------------------------------------------------------------------- the entry points


def validate_bundle(session: Session, files: Mapping[str, bytes | str]) -> list[dict]:
    """``validate`` with the roles of this desk (codes and names) as the known roles."""
    roles = set()
    for role in session.scalars(select(Role)):
        roles.update(n for n in (role.code, role.name, role.name_en) if n)
    return validate(files, roles=roles)


def validate(files: Mapping[str, bytes | str], *, roles: Collection[str] | None = None) -> list[dict]:
    """Every problem of a bundle (``{filename: text}``); ``roles=None`` skips the role-exists checks."""
    problems: list[dict] = []
    roots: dict[str, etree._Element] = {}
    for name, content in sorted(files.items()):
        if name.endswith(SCENARIO_SUFFIX):
            problems.extend(_scenario_file_problems(name, content))
            continue
        if name == labels.LABELS_FILE:
            try:
                labels.parse(content)
            except ValueError as exc:
                problems.append(_problem(name, None, str(exc)))
            continue
        if not name.endswith((".bpmn", ".dmn")):
            problems.append(_problem(name, None, "未知文件类型，已忽略 / unknown file type, ignored", WARNING))
            continue
        try:
            roots[name] = safe_xml.parse_xml(content, name)
        except InvalidDefinition as exc:
            problems.extend(_from_definition_error(exc, "XML 格式错误 / malformed XML"))
    bpmn = {n: r for n, r in roots.items() if etree.QName(r).namespace == BPMN_NS}
    dmn = {n: r for n, r in roots.items() if etree.QName(r).namespace in DMN_NAMESPACES}
    for name in sorted(set(roots) - set(bpmn) - set(dmn)):
        problems.append(_problem(name, None, "不是 BPMN 或 DMN 文件 / not a BPMN 2.0 or DMN document"))

    for name, root in dmn.items():
        problems.extend(_hit_policy_problems(name, root))
        problems.extend(_dmn_cell_problems(name, root))
    decisions = {d.get("id") for root in dmn.values() for d in root.iter() if local_name(d) == "decision"}
    processes = {p.get("id") for root in bpmn.values() for p in root.iter(_B + "process")}
    samples = sample_variables(bpmn.values(), dmn.values())
    context = _Context(roles=set(roles) if roles is not None else None, decisions=decisions,
                       processes=processes, samples=samples)
    for name, root in bpmn.items():
        lanes = _lanes(root)
        for process in root.iter(_B + "process"):
            problems.extend(_check_scope(name, process, lanes, context, top=True))

    problems.extend(_scenario_steps(files, bpmn))
    if len(roots) == len([n for n in files if n.endswith((".bpmn", ".dmn"))]) and bpmn:
        problems.extend(_parser_problems(files, problems))
    elif roots and not bpmn:
        problems.append(_problem(None, None, "文件包中没有 BPMN 流程 / the bundle has no BPMN process"))
    return problems


# Hit policies the engine evaluates as the DMN standard means them: FIRST (rules in order, the first
# that matches) and COLLECT (all matches). SpiffWorkflow evaluates UNIQUE as FIRST, so a UNIQUE
# table whose rules overlap would silently mean something else in another modeler: write FIRST.
HIT_POLICIES = {"UNIQUE", "FIRST", "COLLECT"}


def _hit_policy_problems(name: str, root) -> list[dict]:
    found = []
    for table in root.iter():
        if local_name(table) != "decisionTable":
            continue
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        if policy not in HIT_POLICIES:
            found.append(_problem(name, table.get("id"), f"不支持的命中策略 {policy}（可用 FIRST、UNIQUE、COLLECT）/ "
                                                         f"hit policy {policy} is not supported (use FIRST, UNIQUE or COLLECT)"))
    return found


_QUESTION = re.compile(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""")  # as SpiffWorkflow's DMN engine finds it


def _cell_source(kind: str, text: str) -> str:
    """A cell as the engine evaluates it: an input entry that is no expression by itself (``> 5``,
    ``in ["a"]``) follows its input's value, as SpiffWorkflow's DMN engine adds it."""
    if kind != "inputEntry":
        return text
    text = _QUESTION.sub("dmninputexpr", text)  # ``4 < ? < 6``: ? is the input's value
    if "dmninputexpr" in text:
        return text
    try:
        ast.parse(sandbox.camunda_to_python(text).strip(), mode="eval")
        return text
    except SyntaxError:
        return f"dmninputexpr {text}"


def _dmn_cell_problems(name: str, root) -> list[dict]:
    """Every input expression and cell of every decision table, compile-checked like a script."""
    found = []
    for table in root.iter():
        if local_name(table) != "decisionTable":
            continue
        label = table.getparent().get("name") or table.getparent().get("id") or table.get("id")
        for cell in table.iter():
            kind = local_name(cell)
            if kind not in ("inputExpression", "inputEntry", "outputEntry"):
                continue
            node = next((c for c in cell if local_name(c) == "text"), None)
            text = (node.text or "").strip() if node is not None else ""
            if not text or text == "-":
                continue
            cell_id = cell.get("id") or (cell.getparent().get("id") if kind != "inputExpression" else None)
            for message in sandbox.compile_check(_cell_source(kind, text), "eval"):
                found.append(_problem(name, cell_id, f"决策表“{label}”单元格 {cell_id}：{text!r} 不被允许 / "
                                                     f"decision table “{label}”, cell {cell_id}: {text!r} is refused: {message}"))
    return found


@dataclass(frozen=True)
class _Context:
    """What every check of one bundle may need to know about the rest of it."""

    roles: set[str] | None  # None: the roles are unknown, do not check that they exist
    decisions: set[str]
    processes: set[str]
    samples: dict[str, object]


def _from_definition_error(exc: InvalidDefinition, prefix: str) -> list[dict]:
    found = exc.problems or [{"file": None, "element": None, "message": exc.message}]
    chinese, _, english = prefix.partition(" / ")
    return [_problem(p.get("file"), p.get("element"), messages.prefixed(chinese, english or chinese, str(p.get("message"))))
            for p in found]


def _parser_problems(files: Mapping[str, bytes | str], found: list[dict]) -> list[dict]:
    """What SpiffWorkflow's parser refuses, minus what the checks above already said about that element."""
    xml = {n: c for n, c in files.items() if n.endswith((".bpmn", ".dmn"))}
    try:
        parse_bundle(xml)
    except InvalidDefinition as exc:
        reported = {(p["file"], p["element"]) for p in found if p["severity"] == ERROR}
        return [p for p in _from_definition_error(exc, "解析错误 / parse error")
                if p["element"] is None or (p["file"], p["element"]) not in reported]
    except Exception as exc:  # SpiffWorkflow's parser can fail with anything on odd input (a KeyError, …)
        if has_errors(found):
            return []  # already explained above, more precisely
        return [_problem(None, None, messages.prefixed("解析错误", "parse error", f"{type(exc).__name__}: {exc}"))]
    return []


def _scenario_steps(files: Mapping[str, bytes | str], bpmn: dict) -> list[dict]:
    """Process tests that name a task the diagrams no longer have (a deleted close step, say).

    bpmn-js reconnects the flows around a deleted task, so the diagram itself stays
    sound; the tests written for it say what went missing.
    """
    from .scenarios import parse_file  # scenarios imports this module

    tasks = {n.get("id") for root in bpmn.values() for n in root.iter() if local_name(n) in ("userTask", "manualTask")}
    problems = []
    for name, content in sorted(files.items()):
        if not name.endswith(SCENARIO_SUFFIX) or not bpmn:
            continue
        try:
            scenarios = parse_file(content)
        except ValueError:
            continue  # reported by _scenario_file_problems
        missing = sorted({step["task"] for s in scenarios for step in s.get("steps", [])
                          if isinstance(step.get("task"), str) and step["task"] not in tasks})
        for task in missing:
            problems.append(_problem(name, task, f"流程测试用到的任务 {task} 已不在流程图中 / "
                                                 f"the process tests use task {task}, which is no longer in the diagrams", WARNING))
    return problems


def _scenario_file_problems(name: str, content: bytes | str) -> list[dict]:
    from .scenarios import parse_file  # scenarios imports this module

    try:
        parse_file(content)
    except ValueError as exc:
        return [_problem(name, None, str(exc))]
    return []


# --------------------------------------------------------------------------- one process (or sub-process)


def _lanes(root) -> dict[str, str]:
    """Flow node id → the name of the innermost lane holding it."""
    lanes: dict[str, str] = {}
    for lane in root.iter(_B + "lane"):  # document order: inner lanes come after outer ones
        for ref in lane.findall(_B + "flowNodeRef"):
            lanes[_text(ref)] = lane.get("name") or lane.get("id") or ""
    return lanes


def _check_scope(file: str, scope, lanes: dict[str, str], ctx: _Context, *, top: bool) -> list[dict]:
    nodes = {n.get("id"): n for n in scope if local_name(n) in FLOW_NODES}
    flows = [f for f in scope if local_name(f) == "sequenceFlow"]
    incoming: dict[str, list] = {i: [] for i in nodes}
    outgoing: dict[str, list] = {i: [] for i in nodes}
    for flow in flows:
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        incoming.setdefault(flow.get("targetRef"), []).append(flow)
    problems: list[dict] = []
    problems.extend(_structure(file, scope, nodes, incoming, outgoing, top=top))
    problems.extend(_dangling(file, nodes, flows))
    problems.extend(_reachability(file, scope, nodes, incoming, outgoing))
    for node_id, node in nodes.items():
        kind = local_name(node)
        if kind in ("userTask", "manualTask"):
            problems.extend(_roles(file, node, lanes.get(node_id), ctx))
        if kind == "userTask":
            problems.extend(_form(file, node, ctx))
        if kind == "scriptTask":
            for message in sandbox.compile_check(_text(node.find(_B + "script")), "exec"):
                problems.append(_problem(file, node_id, f"脚本无法编译 / script refused: {message}"))
        if kind == "businessRuleTask":
            problems.extend(_decision(file, node, ctx))
        if kind == "callActivity":
            called = node.get("calledElement")
            if not called:
                problems.append(_problem(file, node_id, "调用活动缺少被调用流程 / call activity has no calledElement"))
            elif called not in ctx.processes:
                problems.append(_problem(file, node_id, f"被调用的流程 {called} 不在文件包中 / called process {called} is not in the bundle"))
        if kind in GATEWAYS:
            problems.extend(_gateway(file, node, outgoing[node_id]))
        for timer in node.findall(_B + "timerEventDefinition"):
            problems.extend(_timer(file, node_id, timer, ctx))
        if kind == "subProcess":
            problems.extend(_check_scope(file, node, lanes, ctx, top=False))
    for flow in flows:
        condition = flow.find(_B + "conditionExpression")
        if condition is not None and _text(condition):
            for message in sandbox.compile_check(_text(condition), "eval"):
                problems.append(_problem(file, flow.get("id"), f"条件无法编译 / condition refused: {message}"))
    return problems


def _structure(file: str, scope, nodes: dict, incoming: dict, outgoing: dict, *, top: bool) -> list[dict]:
    """bpmnlint's usual rules, as warnings."""
    problems = []
    scope_id = scope.get("id")
    kinds = [local_name(n) for n in nodes.values()]
    triggered = scope.get("triggeredByEvent") == "true"
    if "startEvent" not in kinds and (top or not triggered):
        problems.append(_problem(file, scope_id, "流程缺少开始事件 / process has no start event", WARNING))
    if "endEvent" not in kinds:
        problems.append(_problem(file, scope_id, "流程缺少结束事件 / process has no end event", WARNING))
    for node_id, node in nodes.items():
        kind = local_name(node)
        ins, outs = incoming[node_id], outgoing[node_id]
        if not ins and not outs and not (kind == "subProcess" and node.get("triggeredByEvent") == "true"):
            if not (kind == "startEvent" and not top):
                problems.append(_problem(file, node_id, "孤立元素，没有连线 / element is not connected", WARNING))
        if kind in TASKS and len(outs) > 1:
            problems.append(_problem(file, node_id, "隐式分支：请用网关分支 / implicit split: use a gateway", WARNING))
        if (kind in TASKS or kind == "endEvent") and len(ins) > 1:
            problems.append(_problem(file, node_id, "隐式合并：请用网关合并 / implicit join: use a gateway", WARNING))
        needs_label = kind in TASKS or kind in EVENTS or (kind in GATEWAYS and len(outs) > 1)
        if needs_label and not (node.get("name") or "").strip():
            problems.append(_problem(file, node_id, "缺少名称 / element has no label", WARNING))
    return problems


def _dangling(file: str, nodes: dict, flows: list) -> list[dict]:
    """Flows whose source or target is gone (an element deleted, the flow left behind)."""
    problems = []
    for flow in flows:
        for end, zh, en in (("sourceRef", "起点", "source"), ("targetRef", "终点", "target")):
            ref = flow.get(end)
            if ref not in nodes:
                problems.append(_problem(file, flow.get("id"), f"连线的{zh} {ref or '（空）'} 不存在 / the flow's {en} {ref or '(none)'} does not exist"))
    return problems


def _reachability(file: str, scope, nodes: dict, incoming: dict, outgoing: dict) -> list[dict]:
    """Every step must lead to an end, and be reachable from a start.

    A deleted close task leaves its gateway with no way out: the ticket would stop there
    for good. Boundary events count as ways out of the task they are attached to, and
    a sub-process's own start events (and event sub-processes) are starts.
    """
    if not nodes:
        return []
    attached: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        if local_name(node) == "boundaryEvent" and node.get("attachedToRef") in nodes:
            attached.setdefault(node.get("attachedToRef"), []).append(node_id)

    def successors(node_id: str) -> list[str]:
        nxt = [f.get("targetRef") for f in outgoing.get(node_id, []) if f.get("targetRef") in nodes]
        return nxt + attached.get(node_id, [])

    # end events, and steps with no way out (an implicit end, as BPMN allows; not a gateway)
    ends = {i for i, n in nodes.items()
            if local_name(n) == "endEvent" or (local_name(n) not in GATEWAYS and not successors(i))}
    # nodes that lead to an end: walk backwards from the ends
    predecessors: dict[str, list[str]] = {i: [] for i in nodes}
    for node_id in nodes:
        for target in successors(node_id):
            predecessors[target].append(node_id)
    leads_to_end, todo = set(ends), list(ends)
    while todo:
        for before in predecessors[todo.pop()]:
            if before not in leads_to_end:
                leads_to_end.add(before)
                todo.append(before)
    starts = {i for i, n in nodes.items()
              if local_name(n) == "startEvent" or (local_name(n) == "subProcess" and n.get("triggeredByEvent") == "true")}
    reached, todo = set(starts), list(starts)
    while todo:
        for after in successors(todo.pop()):
            if after not in reached:
                reached.add(after)
                todo.append(after)
    problems = []
    for node_id, node in nodes.items():
        kind = local_name(node)
        if kind in GATEWAYS and not outgoing.get(node_id):
            problems.append(_problem(file, node_id, "网关没有出口连线，流程会停在这里 / the gateway has no outgoing flow: the process would stop here"))
        elif ends and node_id not in leads_to_end and (incoming.get(node_id) or outgoing.get(node_id)):
            problems.append(_problem(file, node_id, "从这里无法到达结束事件，流程会停住 / no end event can be reached from here: the process would get stuck"))
        if starts and node_id not in reached and (incoming.get(node_id) or outgoing.get(node_id)) and kind != "boundaryEvent":
            problems.append(_problem(file, node_id, "从开始事件无法到达这里 / this element cannot be reached from a start event", WARNING))
    return problems


def _roles(file: str, node, lane: str | None, ctx: _Context) -> list[dict]:
    node_id = node.get("id")
    groups = [g.strip() for g in (node.get(_C + "candidateGroups") or "").split(",") if g.strip()]
    if not groups and not lane:
        if node.get(_C + "assignee") or node.get(_C + "candidateUsers"):
            return []
        # diagrams from other modelers often leave this open: the desk's leads and admins take it
        name = (node.get("name") or "").strip() or node_id
        return [_problem(file, node_id, f"用户任务“{name}”（{node_id}）没有泳道、候选组或办理人，将交给组长和管理员处理 / "
                                        f"user task “{name}” ({node_id}) has no lane, candidate group or assignee: "
                                        f"it will be offered to leads and admins", WARNING)]
    if ctx.roles is None:
        return []
    if groups:
        return [_problem(file, node_id, f"候选组 {g} 不是已有角色 / candidate group {g} is not an existing role")
                for g in groups if g not in ctx.roles and not g.startswith(("${", "#{"))]
    if lane not in ctx.roles:
        return [_problem(file, node_id, f"泳道 {lane} 不是已有角色 / lane {lane} does not name an existing role")]
    return []


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _form(file: str, node, ctx: _Context) -> list[dict]:
    node_id = node.get("id")
    problems = []
    seen: set[str] = set()
    for field in node.iter(_C + "formField"):
        fid = field.get("id") or ""

        def add(message: str, severity: str = ERROR, fid=fid) -> None:
            problems.append(_problem(file, node_id, f"{message} [{fid}]", severity))

        if fid in seen:
            add(f"表单字段 id 重复：{fid} / duplicate form field id {fid}")
        seen.add(fid)
        if not fid.isidentifier() or keyword.iskeyword(fid):
            add(f"表单字段 id 不是合法标识符：{fid!r} / form field id {fid!r} is not a valid identifier")
        elif fid in RESERVED_FIELDS or fid.startswith("_"):
            add(f"表单字段 id 是保留名称：{fid} / form field id {fid} is reserved")
        kind = field.get("type") or "string"
        options = [v.get("id") for v in field.findall(_C + "value")]
        if kind not in TYPES:
            add(f"表单字段类型未知：{kind} / unknown form field type {kind} ({', '.join(TYPES)})")
        if kind == "enum" and not options:
            add(f"枚举字段没有选项：{fid} / enum field {fid} has no options")
        problems.extend(_constraints(file, node_id, fid, field))
        default = field.get("defaultValue")
        if default not in (None, ""):
            if kind == "long" and not re.fullmatch(r"[+-]?\d+", default.strip()):
                add(f"默认值 {default!r} 不是整数 / default {default!r} is not a whole number")
            if kind == "enum" and options and default not in options:
                add(f"默认值 {default!r} 不在选项中 / default {default!r} is not one of the options")
        props = {p.get("id"): p.get("value") for p in field.iter(_C + "property")}
        if props.get("widget") == "user" and props.get("role") and ctx.roles is not None:
            if props["role"] not in ctx.roles:
                add(f"用户选择框的角色 {props['role']} 不存在 / user picker role {props['role']} does not exist")
        if props.get("pattern"):
            problems.extend(_pattern(file, node_id, fid, props["pattern"]))
    return problems


def _constraints(file: str, node_id: str, fid: str, field) -> list[dict]:
    problems = []
    bounds: dict[str, float] = {}
    for constraint in field.iter(_C + "constraint"):
        name = constraint.get("name") or ""
        config = constraint.get("config")
        where = f" [{fid}]"
        if name not in CONSTRAINTS:
            problems.append(_problem(file, node_id, f"未知约束 {name}，将被忽略 / unknown constraint {name} is ignored{where}", WARNING))
        elif name in ("min", "max", "minlength", "maxlength"):
            value = _number(config)
            whole = name.endswith("length")
            if whole and (value is None or value != int(value) or value < 0):
                problems.append(_problem(file, node_id, f"约束 {name} 需要非负整数 / constraint {name} needs a non-negative whole number, got {config!r}{where}"))
            elif value is None:
                problems.append(_problem(file, node_id, f"约束 {name} 需要数值 / constraint {name} needs a number, got {config!r}{where}"))
            else:
                bounds[name] = value
        elif name == "pattern":
            problems.extend(_pattern(file, node_id, fid, config or ""))
    for low, high in (("min", "max"), ("minlength", "maxlength")):
        if low in bounds and high in bounds and bounds[low] > bounds[high]:
            problems.append(_problem(file, node_id, f"约束 {low} 大于 {high} / constraint {low} is greater than {high} [{fid}]"))
    return problems


def _pattern(file: str, node_id: str, fid: str, pattern: str) -> list[dict]:
    try:
        forms.compile_pattern(pattern)
    except ValueError as exc:  # RE2: linear time, no backreferences or lookarounds
        return [_problem(file, node_id, f"正则表达式无效或不受支持（不支持反向引用和环视）：{pattern!r} / invalid or unsupported "
                                        f"regex pattern {pattern!r} (no backreferences or lookarounds): {exc} [{fid}]")]
    return []


def _decision(file: str, node, ctx: _Context) -> list[dict]:
    ref = node.get(_C + "decisionRef")
    if not ref:
        return [_problem(file, node.get("id"), "业务规则任务缺少决策引用 / business rule task has no decisionRef")]
    if ref not in ctx.decisions:
        return [_problem(file, node.get("id"), f"决策 {ref} 不在文件包中 / decision {ref} is not in the bundle")]
    return []


def _gateway(file: str, node, outs: list) -> list[dict]:
    kind = local_name(node)
    if kind not in ("exclusiveGateway", "inclusiveGateway") or len(outs) < 2:
        return []
    default = node.get("default")
    problems = []
    if default and default not in {f.get("id") for f in outs}:
        problems.append(_problem(file, node.get("id"), f"默认流 {default} 不是该网关的出口 / default flow {default} does not leave this gateway"))
    for flow in outs:
        if flow.get("id") != default and not _text(flow.find(_B + "conditionExpression")):
            problems.append(_problem(file, flow.get("id"), "网关出口缺少条件且不是默认流 / gateway flow has no condition and is not the default"))
    if not default and not problems:
        problems.append(_problem(file, node.get("id"), "网关没有默认流，条件都不满足时流程会停住 / gateway has no default flow: no match stops the process", WARNING))
    return problems


def _timer(file: str, node_id: str, timer, ctx: _Context) -> list[dict]:
    found = [(child, local_name(child)) for child in timer if local_name(child) in ("timeDate", "timeDuration", "timeCycle")]
    if not found or not _text(found[0][0]):
        return [_problem(file, node_id, "计时器没有表达式 / timer has no expression")]
    child, kind = found[0]
    expression = _text(child)
    try:
        value = sandbox.SandboxEnvironment().evaluate(expression, dict(ctx.samples))
    except ScriptError as exc:
        return [_problem(file, node_id, f"计时器表达式计算失败 / timer expression failed: {exc.message}")]
    try:
        if not isinstance(value, str):
            raise TypeError(type(value).__name__)
        if kind == "timeDate":
            if not isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime):
                raise ValueError("a duration where a date is needed")
        elif kind == "timeDuration":
            TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(value))
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as exc:  # SpiffWorkflow raises bare Exception for bad durations
        return [_problem(file, node_id, f"计时器表达式的结果不是有效的 ISO 8601 {kind}：{value!r} / "
                                        f"timer expression does not give an ISO 8601 {kind}: {value!r} ({exc})")]
    return []

