"""Versions as admins see them: counts, differences, deploying a draft, retiring.

Every process key has numbered versions (``deploy`` below stores them). An
admin deploys a draft as the next version, after its validation and its process
tests: failing scenarios stop the deployment unless the admin overrides them with
a reason, which goes into the audit trail like every other action here. New
instances start on the latest *active* version; running ones stay on their own
until ``engine.authoring.migration`` moves them.

``diff_files`` compares two bundles element by element (BPMN elements by id:
type, name, attributes, extension elements, timers, form fields, scripts and
conditions; DMN decisions and rules by row id), for the list and for colouring
the two diagrams.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import now
from ..desk import audit
from ..errors import Conflict, Forbidden, Invalid, InvalidDefinition
from ..models import (
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    User,
    VersionStatus,
)
from ..runtime import definitions, labels, safe_xml
from ..runtime.definitions import BPMN_NS, DMN_NAMESPACES
from ..runtime.safe_xml import local_name
from ..runtime.serialization import dump_spec
from . import drafts, scenarios, validation

__all__ = ["ScenariosFailed", "activate", "deploy", "deploy_draft", "diff", "diff_files", "overview", "retire"]


def deploy(session: Session, files: dict[str, bytes | str], *, user: str, note: str = "") -> list[ProcessVersion]:
    """Store a new version of each process whose content changed; return the new versions.

    The bundle must parse and pass every error-level check of ``engine.authoring.validation``
    (roles exist, forms well-formed, timers valid, …); lint warnings do not block.
    """
    from ..authoring import validation  # validation builds on this module

    # UTF-8 text without DOCTYPE/ENTITY declarations, as a draft's files (issue 11)
    files = {n: safe_xml.upload_text(c, n, xml=n != labels.LABELS_FILE) for n, c in files.items()}
    table = files.get(labels.LABELS_FILE)
    bundle = definitions.parse_bundle({n: c for n, c in files.items() if n != labels.LABELS_FILE})
    errors = [p for p in validation.validate_bundle(session, files) if p.get("severity") != "warning"]
    if errors:
        raise InvalidDefinition("the bundle has errors", problems=errors)
    created = []
    for process in bundle.processes:
        if table:  # the label table travels with every version of the bundle, and is part of its content
            process.files = {**process.files, labels.LABELS_FILE: table}
            process.content_hash = hashlib.sha256(f"{process.content_hash}\0{table}".encode()).hexdigest()
        latest = definitions.latest_version(session, process.key)
        if latest is not None and latest.content_hash == process.content_hash:
            continue
        number = (session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.key == process.key)) or 0) + 1
        version = ProcessVersion(
            key=process.key,
            version=number,
            name=process.name,
            files=process.files,
            content_hash=process.content_hash,
            spec=dump_spec(process.spec, process.subprocess_specs),
            note=note,
            deployed_by=user,
            deployed_at=now(),
            status=VersionStatus.ACTIVE,
        )
        session.add(version)
        created.append(version)
    session.flush()
    return created



class ScenariosFailed(Invalid):
    """Raised when a draft's process tests fail and the admin gave no reason to deploy anyway."""

    code = "scenarios_failed"

    def __init__(self, message: str, *, report: dict) -> None:
        super().__init__(message)
        self.report = report

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["report"] = self.report
        return d


def _require_admin(user: User) -> None:
    if not user.has_role("admin"):
        raise Forbidden("只有系统管理员可以部署、停用和迁移 / only admins deploy, retire and migrate")


# --------------------------------------------------------------------------- the list


def counts(session: Session) -> dict[int, dict[str, int]]:
    """version id → {instance status: count}."""
    rows = session.execute(
        select(ProcessInstance.version_id, ProcessInstance.status, func.count()).group_by(
            ProcessInstance.version_id, ProcessInstance.status
        )
    )
    result: dict[int, dict[str, int]] = {}
    for version_id, status, count in rows:
        result.setdefault(version_id, {})[status] = count
    return result


def overview(session: Session) -> list[dict]:
    """Each process key with its versions, newest first, and their running/completed instance counts."""
    by_version = counts(session)
    processes: dict[str, dict] = {}
    for version in definitions.list_versions(session):
        entry = processes.setdefault(version.key, {"key": version.key, "name": version.name, "versions": []})
        entry["name"] = version.name or entry["name"]
        n = by_version.get(version.id, {})
        entry["versions"].insert(0, {
            "id": version.id, "version": version.version, "note": version.note, "deployed_by": version.deployed_by,
            "deployed_at": version.deployed_at, "status": version.status,
            "running": n.get(InstanceStatus.RUNNING, 0), "completed": n.get(InstanceStatus.COMPLETED, 0),
            "other": sum(c for s, c in n.items() if s not in (InstanceStatus.RUNNING, InstanceStatus.COMPLETED)),
        })  # fmt: skip
    for entry in processes.values():
        active = [v for v in entry["versions"] if v["status"] == VersionStatus.ACTIVE]
        entry["current"] = active[0]["version"] if active else None
    return sorted(processes.values(), key=lambda p: p["key"])


# --------------------------------------------------------------------------- differences


def _canonical(node, *, skip_ids: bool = True) -> str:
    """A stable text for an XML subtree: tag, sorted attributes (no ids), text, children."""
    if not isinstance(node.tag, str):
        return ""
    attrs = sorted((k.rsplit("}", 1)[-1], v) for k, v in node.attrib.items() if not (skip_ids and k == "id"))
    inner = "".join(_canonical(child, skip_ids=skip_ids) for child in node)
    text = (node.text or "").strip()
    return f"<{local_name(node)} {attrs}>{text}{inner}</>"


_FLOW_REFS = {"incoming", "outgoing"}
_CONTAINER_CHILDREN = {"laneSet"}


def _bpmn_aspects(element, diffed: set[str]) -> dict[str, str]:
    aspects = {"type": local_name(element), "name": element.get("name") or ""}
    for key, value in element.attrib.items():
        local = key.rsplit("}", 1)[-1]
        if local not in ("id", "name"):
            aspects["@" + local] = value
    for child in element:
        kind = local_name(child)
        if kind in _FLOW_REFS or kind in _CONTAINER_CHILDREN or child.get("id") in diffed:
            continue
        if kind == "extensionElements":
            for ext in child:
                if local_name(ext) == "formData":
                    for field in ext:
                        aspects[f"form:{field.get('id')}"] = _canonical(field, skip_ids=False)
                else:
                    aspects[f"ext:{local_name(ext)}"] = aspects.get(f"ext:{local_name(ext)}", "") + _canonical(ext)
        elif kind == "timerEventDefinition":
            aspects["timer"] = " ".join(f"{local_name(c)}: {(c.text or '').strip()}" for c in child)
        else:
            aspects[kind] = aspects.get(kind, "") + _canonical(child)
    return aspects


def _bpmn_elements(root) -> dict[str, tuple[str, dict]]:
    """id → (kind, aspects) for every process, sub-process, lane, flow node and flow (not the DI)."""
    found = []

    def walk(container) -> None:
        found.append(container)
        for child in container:
            if local_name(child) == "subProcess":
                walk(child)
            elif child.get("id") and local_name(child) not in ("extensionElements", "documentation", "laneSet"):
                found.append(child)

    for process in root.iter(f"{{{BPMN_NS}}}process"):
        walk(process)
    found.extend(root.iter(f"{{{BPMN_NS}}}lane"))
    found.extend(root.iter(f"{{{BPMN_NS}}}participant"))
    diffed = {e.get("id") for e in found}
    return {e.get("id"): (local_name(e), _bpmn_aspects(e, diffed)) for e in found}


def _dmn_elements(root) -> dict[str, tuple[str, dict]]:
    elements: dict[str, tuple[str, dict]] = {}
    for decision in (d for d in root.iter() if local_name(d) == "decision"):
        aspects = {"type": "decision", "name": decision.get("name") or ""}
        for table in (t for t in decision.iter() if local_name(t) == "decisionTable"):
            aspects["hitPolicy"] = table.get("hitPolicy") or "UNIQUE"
            columns = {"input": [], "output": []}
            for child in table:
                if local_name(child) in columns:
                    aspects[f"{local_name(child)}:{child.get('id')}"] = _canonical(child)
                    columns[local_name(child)].append(child.get("name") or child.get("label") or child.get("id"))
            for row, rule in enumerate((r for r in table if local_name(r) == "rule"), 1):
                rule_aspects = {"type": "rule", "name": f"#{row}"}
                for kind in ("input", "output"):
                    entries = [e for e in rule if local_name(e) == f"{kind}Entry"]
                    for index, entry in enumerate(entries):
                        column = columns[kind][index] if index < len(columns[kind]) else str(index + 1)
                        rule_aspects[f"{kind}={column}"] = "".join(entry.itertext()).strip()
                description = next((c for c in rule if local_name(c) == "description"), None)
                rule_aspects["description"] = "".join(description.itertext()).strip() if description is not None else ""
                elements[rule.get("id")] = ("rule", rule_aspects)
        for child in decision:
            if local_name(child) == "description":
                aspects["description"] = "".join(child.itertext()).strip()
        elements[decision.get("id")] = ("decision", aspects)
    return elements


def _elements(name: str, content) -> dict[str, tuple[str, dict]]:
    try:
        root = safe_xml.parse_xml(content, name)
    except InvalidDefinition:
        return {}
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if namespace == BPMN_NS:
        return _bpmn_elements(root)
    if namespace in DMN_NAMESPACES:
        return _dmn_elements(root)
    return {}


_ASPECT_LABELS = {"type": "类型 type", "name": "名称 name", "timer": "计时器 timer", "script": "脚本 script",
                  "conditionExpression": "条件 condition", "documentation": "说明 documentation",
                  "description": "说明 description", "hitPolicy": "命中策略 hit policy"}  # fmt: skip


def _describe(key: str, old: dict, new: dict) -> str:
    if key.startswith("form:"):
        field = key[5:]
        what = "新增 added" if key not in old else "删除 removed" if key not in new else "修改 changed"
        return f"表单字段 form field {field}: {what}"
    if key.startswith("ext:"):
        return f"扩展 extension {key[4:]}"
    if key.startswith("@"):
        return f"属性 attribute {key[1:]}"
    if key.startswith(("input", "output")):
        label = "条件列 input" if key.startswith("input") else "结果列 output"
        return f"{label} {key.split('=', 1)[1] if '=' in key else key.split(':', 1)[1]}"
    return _ASPECT_LABELS.get(key, key)


def diff_files(old: dict[str, str], new: dict[str, str]) -> dict:
    """Element-level differences between two bundles (``{filename: text}``)."""
    changes: list[dict] = []
    per_file: dict[str, dict[str, list[str]]] = {}
    xml = lambda files: {n: c for n, c in files.items() if n.endswith((".bpmn", ".dmn"))}  # noqa: E731
    old_xml, new_xml = xml(old), xml(new)
    for name in sorted(set(old_xml) | set(new_xml)):
        before = _elements(name, old_xml[name]) if name in old_xml else {}
        after = _elements(name, new_xml[name]) if name in new_xml else {}
        marks = per_file.setdefault(name, {"added": [], "removed": [], "changed": []})
        for element_id in list(before) + [i for i in after if i not in before]:
            if element_id in before and element_id in after:
                a, b = before[element_id][1], after[element_id][1]
                keys = [k for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]
                if not keys:
                    continue
                change, kind, aspects = "changed", after[element_id][0], b
                details = list(dict.fromkeys(_describe(k, a, b) for k in keys))
            elif element_id in after:
                change, kind, aspects, details = "added", after[element_id][0], after[element_id][1], []
            else:
                change, kind, aspects, details = "removed", before[element_id][0], before[element_id][1], []
            marks[change].append(element_id)
            changes.append({"file": name, "element": element_id, "kind": kind, "name": aspects.get("name", ""),
                            "change": change, "details": details})
    return {
        "changes": changes,
        "files": per_file,
        "files_added": sorted(set(new_xml) - set(old_xml)),
        "files_removed": sorted(set(old_xml) - set(new_xml)),
    }


def diff(session: Session, key: str, old: int, new: int) -> dict:
    """``diff_files`` of two deployed versions of one process."""
    a = definitions.get_version(session, key, old)
    b = definitions.get_version(session, key, new)
    return diff_files(a.files, b.files)


# --------------------------------------------------------------------------- deploy, retire


def deploy_draft(
    session: Session,
    draft_id: int,
    *,
    user: User,
    note: str,
    override_reason: str | None = None,
) -> list[ProcessVersion]:
    """Deploy a draft as the next version of each process it changes; the draft is then removed.

    Validation errors always stop it; failing scenarios stop it unless
    ``override_reason`` says why it must go out anyway (recorded in the audit trail).
    """
    _require_admin(user)
    if not (note or "").strip():
        raise Invalid("请填写部署说明 / a note is required", fields={"note": ["必填 / required"]})
    draft = drafts.get(session, draft_id)
    problems = validation.validate_bundle(session, draft.files)
    errors = [p for p in problems if p["severity"] == validation.ERROR]
    if errors:
        raise InvalidDefinition("草稿有错误，不能部署 / the draft has errors and cannot be deployed", problems=errors)
    report = scenarios.run(draft.files)
    drafts.record_test(draft, report)
    if not report["passed"]:
        reason = (override_reason or "").strip()
        if not reason:
            failed = report["failed"] or len(report["problems"])
            raise ScenariosFailed(
                f"{failed} 个流程测试未通过；如仍要部署，请填写原因 / "
                f"{failed} process test(s) failed; give a reason to deploy anyway",
                report=report,
            )
        audit.record(session, "deploy_override", actor=user.username, name=draft.name, data={
            "draft_id": draft.id, "reason": reason,
            "failed": [r["name"] for r in report["results"] if not r["passed"]], "problems": report["problems"],
        })  # fmt: skip
    xml = {n: c for n, c in draft.files.items() if n.endswith((".bpmn", ".dmn")) or n == labels.LABELS_FILE}
    created = deploy(session, xml, user=user.username, note=note.strip())
    if not created:
        raise Conflict("草稿与已部署的版本相同 / nothing changed: the draft matches the deployed versions")
    for version in created:
        keys = set(drafts.process_ids(version.files))
        tests = {n: c for n, c in draft.files.items() if n.endswith(scenarios.SUFFIX) and n[: -len(scenarios.SUFFIX)] in keys}
        version.files = {**version.files, **tests}
        audit.record(session, "deploy", actor=user.username, name=f"{version.key} v{version.version}", data={
            "version_id": version.id, "note": version.note, "draft_id": draft.id, "draft": draft.name,
            "tests_passed": report["passed"], "override_reason": (override_reason or "").strip() or None,
        })  # fmt: skip
    session.delete(draft)
    session.flush()
    return created


def retire(session: Session, key: str, number: int, *, user: User) -> ProcessVersion:
    """No new instances on this version; the latest active one takes over. The last active one stays."""
    _require_admin(user)
    version = definitions.get_version(session, key, number)
    if version.status == VersionStatus.RETIRED:
        raise Conflict(f"{key} v{number} 已停用 / is already retired")
    active = [v for v in definitions.list_versions(session, key) if v.status == VersionStatus.ACTIVE]
    if len(active) == 1:
        raise Conflict(f"{key} v{number} 是唯一的有效版本，不能停用 / is the only active version of {key}")
    definitions.retire(session, version)
    audit.record(session, "retire", actor=user.username, name=f"{key} v{number}", data={"version_id": version.id})
    session.flush()
    return version


def activate(session: Session, key: str, number: int, *, user: User) -> ProcessVersion:
    """Undo a retirement: the version may start instances again (if it is the latest active one)."""
    _require_admin(user)
    version = definitions.get_version(session, key, number)
    if version.status == VersionStatus.ACTIVE:
        raise Conflict(f"{key} v{number} 已是有效版本 / is already active")
    version.status = VersionStatus.ACTIVE
    audit.record(session, "activate", actor=user.username, name=f"{key} v{number}", data={"version_id": version.id})
    session.flush()
    return version
