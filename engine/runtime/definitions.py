"""Process definitions: parse a bundle, restore stored specs, pick a version.

Storing new versions (deploy) is the authoring wing's: ``engine.authoring.versions``.

A bundle is every BPMN and DMN file deployed together (``desk deploy bpmn/ rules/``).
Each executable process in it becomes version N+1 of its key, unless its content
(its own file, the files of processes it calls, the DMN files it uses) is unchanged.
Nothing is stored when anything in the bundle is wrong.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidDefinition, NotFound
from ..models import ProcessVersion, VersionStatus
from . import safe_xml, sandbox
from .parser import make_parser
from .serialization import load_spec

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
}


# SpiffWorkflow's parser assumes attributes it does not check for (a businessRuleTask
# without camunda:decisionRef raises KeyError); such slips are the upload's fault.
_PARSER_SLIPS = (KeyError, AttributeError, TypeError, ValueError, IndexError)


@dataclass
class ParsedProcess:
    """One executable process of a bundle, ready to store."""

    key: str
    name: str
    spec: object
    subprocess_specs: dict
    files: dict[str, str]
    content_hash: str


@dataclass
class Bundle:
    processes: list[ParsedProcess] = field(default_factory=list)


def _problem(file: str | None, element: str | None, message: str) -> dict:
    return {"file": file, "element": element, "message": message}


def _text_of(content: bytes | str, root) -> str:
    """The file as stored text: as uploaded when UTF-8, else re-serialised from the parsed tree
    (without the XML declaration, whose encoding would no longer be true)."""
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return etree.tostring(root, encoding="unicode")


def _kind(root, filename: str) -> str:
    ns = etree.QName(root).namespace
    if ns == BPMN_NS:
        return "bpmn"
    if ns in DMN_NAMESPACES:
        return "dmn"
    raise InvalidDefinition(
        f"{filename}: not a BPMN 2.0 or DMN document",
        problems=[_problem(filename, None, f"unknown root element {root.tag}")],
    )


def _validation_problem(exc: ValidationException, default_file: str | None) -> dict:
    message = str(exc.args[0]) if exc.args else str(exc)
    if getattr(exc, "line_number", ""):
        message += f" (line {exc.line_number})"
    return _problem(exc.file_name or default_file, getattr(exc, "id", None) or None, message)


def _script_problems(spec, filename: str) -> list[dict]:
    """Scripts and conditions that the sandbox would refuse, found before anything runs."""
    problems = []
    for task_spec in spec.task_specs.values():
        script = getattr(task_spec, "script", None)
        if script:
            for message in sandbox.compile_check(script, "exec"):
                problems.append(_problem(filename, task_spec.bpmn_id, message))
        for condition, _target in getattr(task_spec, "cond_task_specs", None) or []:
            if condition:
                for message in sandbox.compile_check(condition, "eval"):
                    problems.append(_problem(filename, task_spec.bpmn_id, f"condition: {message}"))
    return problems


def _dmn_files_used(parser, roots: dict, bpmn_files: set[str]) -> set[str]:
    """The DMN files whose decisions these BPMN files reference (camunda:decisionRef)."""
    refs = set()
    for filename in bpmn_files:
        root = roots[filename][0]
        refs.update(root.xpath("//@camunda:decisionRef", namespaces={"camunda": CAMUNDA_NS}))
    return {parser.dmn_parsers[ref].filename for ref in refs if ref in parser.dmn_parsers}


def parse_bundle(files: dict[str, bytes | str]) -> Bundle:
    """Parse and validate every file together; raise InvalidDefinition listing all problems."""
    if not files:
        raise InvalidDefinition("no files to deploy", problems=[_problem(None, None, "empty bundle")])
    texts: dict[str, str] = {}
    roots = {}
    for filename, content in sorted(files.items()):
        root = safe_xml.parse_xml(content, filename)
        roots[filename] = (root, _kind(root, filename))
        texts[filename] = _text_of(content, root)

    parser = make_parser()
    problems: list[dict] = []
    for filename, (root, kind) in roots.items():
        try:
            if kind == "dmn":
                parser.add_dmn_xml(root, filename=filename)
            else:
                parser.add_bpmn_xml(root, filename=filename)
        except ValidationException as exc:
            problems.append(_validation_problem(exc, filename))
        except SpiffWorkflowException as exc:
            problems.append(_problem(filename, None, str(exc)))
        except _PARSER_SLIPS as exc:
            problems.append(_problem(filename, None, f"cannot parse: {type(exc).__name__}: {exc}"))
    if problems:
        raise InvalidDefinition("the bundle has errors", problems=problems)

    bundle = Bundle()
    bpmn_files = {f for f, (_, kind) in roots.items() if kind == "bpmn"}
    process_ids = [pid for pid in parser.get_process_ids() if parser.get_process_parser(pid).filename in bpmn_files]
    if not process_ids:
        raise InvalidDefinition(
            "the bundle has no executable process",
            problems=[_problem(None, None, 'no <bpmn:process isExecutable="true">')],
        )
    for pid in process_ids:
        process_parser = parser.get_process_parser(pid)
        filename = process_parser.filename
        try:
            spec = parser.get_spec(pid)
            subs = parser.get_subprocess_specs(pid)
        except ValidationException as exc:
            problems.append(_validation_problem(exc, filename))
            continue
        except SpiffWorkflowException as exc:
            problems.append(_problem(filename, pid, str(exc)))
            continue
        except _PARSER_SLIPS as exc:
            problems.append(_problem(filename, pid, f"cannot parse process {pid}: {type(exc).__name__}: {exc}"))
            continue
        problems.extend(_script_problems(spec, filename))
        for sub in subs.values():
            problems.extend(_script_problems(sub, parser.get_process_parser(sub.name).filename))
        used = {filename}
        used.update(parser.get_process_parser(name).filename for name in subs)
        used.update(_dmn_files_used(parser, roots, set(used)))
        own = {f: texts[f] for f in sorted(used)}
        digest = hashlib.sha256()
        for f, text in own.items():
            digest.update(f.encode() + b"\0" + text.encode() + b"\0")
        bundle.processes.append(
            ParsedProcess(
                key=pid,
                name=process_parser.get_name() or pid,
                spec=spec,
                subprocess_specs=subs,
                files=own,
                content_hash=digest.hexdigest(),
            )
        )
    if problems:
        raise InvalidDefinition("the bundle has errors", problems=problems)
    return bundle


def latest_version(session: Session, key: str, *, active_only: bool = False) -> ProcessVersion | None:
    stmt = select(ProcessVersion).where(ProcessVersion.key == key)
    if active_only:
        stmt = stmt.where(ProcessVersion.status == VersionStatus.ACTIVE)
    return session.scalars(stmt.order_by(ProcessVersion.version.desc()).limit(1)).first()


def get_version(session: Session, key: str, number: int | None = None) -> ProcessVersion:
    """A given version of a process, or the latest active one when no number is given."""
    if number is None:
        version = latest_version(session, key, active_only=True)
    else:
        version = session.scalars(
            select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == number)
        ).first()
    if version is None:
        raise NotFound(f"no deployed process {key!r}" + (f" version {number}" if number else ""))
    return version


def list_versions(session: Session, key: str | None = None) -> list[ProcessVersion]:
    stmt = select(ProcessVersion).order_by(ProcessVersion.key, ProcessVersion.version)
    if key:
        stmt = stmt.where(ProcessVersion.key == key)
    return list(session.scalars(stmt))


def specs_of(version: ProcessVersion):
    """The restored ``(spec, subprocess_specs)`` of a version (cached; versions never change)."""
    return load_spec(version.id, version.content_hash, lambda: version.spec)


def specs_by_id(session: Session, version_id: int, content_hash: str):
    """``specs_of`` for a version known by its id and hash alone: its spec is read only the first time."""
    return load_spec(version_id, content_hash,
                     lambda: session.scalar(select(ProcessVersion.spec).where(ProcessVersion.id == version_id)))


def retire(session: Session, version: ProcessVersion) -> None:
    """No new instances start on a retired version; running ones carry on."""
    version.status = VersionStatus.RETIRED
