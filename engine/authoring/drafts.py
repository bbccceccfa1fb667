"""Drafts: a process owner's work in progress, saved between sessions, not yet deployed.

A draft is a bundle of files (``.bpmn``, ``.dmn`` and the ``<key>.scenarios.json``
process tests that travel with them), started from a deployed version or from
files uploaded from Camunda Modeler. Process owners and admins edit drafts; only
an admin deploys one (``versions.deploy_draft``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..desk import audit
from ..errors import Forbidden, Invalid, InvalidDefinition, NotFound
from ..models import Draft, ProcessVersion, User
from ..runtime import safe_xml
from ..runtime.labels import LABELS_FILE
from ..runtime.definitions import BPMN_NS
from .scenarios import SUFFIX as SCENARIO_SUFFIX

__all__ = ["EDITORS", "create", "delete", "get", "list_drafts", "process_ids", "record_test", "save", "with_scenarios"]

EDITORS = ("process_owner", "admin")
SHIPPED = Path(__file__).resolve().parents[2] / "bpmn"  # the scenarios shipped with the bundled processes
MAX_FILES = 40


def _require_editor(user: User) -> None:
    if not user.has_role(*EDITORS):
        raise Forbidden("只有流程管理员可以编辑草稿 / only process owners edit drafts")


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise Invalid(f"文件名无效：{name!r} / invalid file name {name!r}")
    if not name.endswith((".bpmn", ".dmn", SCENARIO_SUFFIX)) and name != LABELS_FILE:
        raise Invalid(f"{name}: 只接受 .bpmn、.dmn、{SCENARIO_SUFFIX} 和 {LABELS_FILE} 文件 / "
                      f"only .bpmn, .dmn, {SCENARIO_SUFFIX} and {LABELS_FILE} files")
    return name


def _texts(files: dict[str, bytes | str]) -> dict[str, str]:
    texts = {}
    for name, content in files.items():
        _check_name(name)
        if not isinstance(content, (bytes, str)):
            raise Invalid(f"{name}: 内容应为文本 / content must be text", fields={name: ["text"]})
        # UTF-8 only, no DOCTYPE/ENTITY in diagrams: hostile XML is refused when uploaded (issue 11)
        texts[name] = safe_xml.upload_text(content, name, xml=name.endswith((".bpmn", ".dmn")))
    return texts


def process_ids(files: dict[str, str]) -> list[str]:
    """The ids of the executable BPMN processes in a bundle, in file order (unparsable files skipped)."""
    ids = []
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        try:
            root = safe_xml.parse_xml(files[name], name)
        except InvalidDefinition:
            continue
        for process in root.iter("{%s}process" % BPMN_NS):
            if process.get("isExecutable", "true") == "true" and process.get("id"):
                ids.append(process.get("id"))
    return ids


def with_scenarios(version: ProcessVersion) -> dict[str, str]:
    """A version's files plus its process tests: stored with it, else the ones shipped for its processes."""
    files = dict(version.files)
    for key in process_ids(files):
        name = key + SCENARIO_SUFFIX
        shipped = SHIPPED / name
        if name not in files and shipped.is_file():
            files[name] = shipped.read_text(encoding="utf-8")
    return files


def create(
    session: Session,
    *,
    user: User,
    version: ProcessVersion | None = None,
    files: dict[str, bytes | str] | None = None,
    name: str = "",
    note: str = "",
) -> Draft:
    """A new draft from a deployed version, or from uploaded files."""
    _require_editor(user)
    if (version is None) == (files is None):
        raise Invalid("请选择一个版本或上传文件 / start from a version or from uploaded files")
    texts = with_scenarios(version) if version is not None else _texts(files or {})
    if not texts:
        raise Invalid("没有文件 / no files")
    keys = process_ids(texts)
    key = version.key if version is not None else (keys[0] if keys else None)
    at = now()
    draft = Draft(
        name=name or (f"{version.key} v{version.version}" if version else key or "draft"),
        process_key=key, base_version_id=version.id if version else None, files=texts, note=note,
        author=user.username, created_at=at, updated_at=at,
    )  # fmt: skip
    session.add(draft)
    session.flush()
    audit.record(session, "draft_create", actor=user.username, name=draft.name,
                 data={"draft_id": draft.id, "files": sorted(texts), "from_version": version.id if version else None})
    return draft


def get(session: Session, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"草稿 {draft_id} 不存在 / no draft {draft_id}")
    return draft


def list_drafts(session: Session, key: str | None = None) -> list[Draft]:
    stmt = select(Draft).order_by(Draft.updated_at.desc(), Draft.id.desc())
    if key:
        stmt = stmt.where(Draft.process_key == key)
    return list(session.scalars(stmt))


def save(
    session: Session,
    draft_id: int,
    files: dict[str, bytes | str | None],
    *,
    user: User,
    note: str | None = None,
    name: str | None = None,
) -> Draft:
    """Replace the given files (``None`` removes one); the draft's test result no longer holds."""
    _require_editor(user)
    draft = get(session, draft_id)
    merged = dict(draft.files)
    for filename, content in files.items():
        if content is None:
            merged.pop(_check_name(filename), None)
        else:
            merged.update(_texts({filename: content}))
    if len(merged) > MAX_FILES:
        raise Invalid(f"文件过多（最多 {MAX_FILES} 个）/ too many files (at most {MAX_FILES})")
    draft.files = merged
    if note is not None:
        draft.note = note
    if name:
        draft.name = name
    keys = process_ids(merged)
    if draft.process_key not in keys and keys:
        draft.process_key = keys[0]
    draft.author = user.username
    draft.updated_at = now()
    draft.last_test_passed = None
    draft.last_test_report = None
    session.flush()
    return draft


def record_test(draft: Draft, report: dict) -> None:
    draft.last_test_passed = bool(report.get("passed"))
    draft.last_test_report = report


def delete(session: Session, draft_id: int, *, user: User) -> None:
    _require_editor(user)
    draft = get(session, draft_id)
    audit.record(session, "draft_delete", actor=user.username, name=draft.name, data={"draft_id": draft.id})
    session.delete(draft)
    session.flush()
