"""SpiffWorkflow's Camunda parser, taught what the desk's diagrams need.

SpiffWorkflow 3.2 ignores ``camunda:candidateGroups``, ``camunda:candidateUsers`` and
``camunda:assignee``, and reads ``camunda:properties`` only on tasks, not events.
Every parser class here also records those, in ``task_spec.extensions``:

    extensions["candidateGroups"] = ["agent", ...]
    extensions["candidateUsers"]  = ["eng1", ...]
    extensions["assignee"]        = "${engineer}"      (evaluated when the task is READY)
    extensions["properties"]      = {"sla": "response", "level": "warning", ...}

Keeping them in ``extensions`` means SpiffWorkflow's own serializer carries them,
with no converter of our own.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.CamundaParser import NSMAP
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

_CAMUNDA = "{" + CAMUNDA_MODEL_NS + "}"


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _read_extensions(node) -> dict:
    """The Camunda attributes and properties the engine uses, from one BPMN element."""
    props = {}
    for prop in node.xpath(
        "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NSMAP
    ):
        name = prop.get("name") or prop.get("id")
        if name:
            props[name] = prop.get("value", "")
    ext: dict = {"properties": props}
    groups = _split(node.get(_CAMUNDA + "candidateGroups"))
    users = _split(node.get(_CAMUNDA + "candidateUsers"))
    assignee = (node.get(_CAMUNDA + "assignee") or "").strip()
    if groups:
        ext["candidateGroups"] = groups
    if users:
        ext["candidateUsers"] = users
    if assignee:
        ext["assignee"] = assignee
    return ext


def _with_extensions(parser_class: type) -> type:
    """A subclass of one of SpiffWorkflow's node parsers that also reads our extensions."""

    def parse_extensions(self, node=None):
        ext = parser_class.parse_extensions(self, node)
        ext = dict(ext) if ext else {}
        ext.update(_read_extensions(node if node is not None else self.node))
        return ext

    return type("Desk" + parser_class.__name__, (parser_class,), {"parse_extensions": parse_extensions})


class DeskParser(CamundaParser):
    """CamundaParser + candidate groups/users, assignee and event properties."""

    OVERRIDE_PARSER_CLASSES = {
        tag: (_with_extensions(parser), spec)
        for tag, (parser, spec) in CamundaParser.OVERRIDE_PARSER_CLASSES.items()
    }


def make_parser() -> DeskParser:
    """A parser that also checks each BPMN file against the BPMN 2.0 schema."""
    return DeskParser(validator=BpmnValidator())
