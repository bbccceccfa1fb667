"""Plausible values for the variables a bundle can set, to try its timer expressions on.

A timer in a diagram is an expression (``resolution_due``, ``"PT15M"``) that only
means something once the process has data. Validation evaluates each one in the
sandbox against these samples, so a timer that can never give a date is caught
before it is deployed rather than when a ticket reaches it.
"""

from __future__ import annotations

import ast
from datetime import datetime, timezone

from ..runtime import sandbox
from ..runtime.definitions import BPMN_NS, CAMUNDA_NS
from ..runtime.safe_xml import local_name

_B = "{" + BPMN_NS + "}"
_C = "{" + CAMUNDA_NS + "}"


def _sample_for_name(name: str):
    if name.endswith(("_at", "_due")):
        return datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc).isoformat()
    if name.endswith("_minutes"):
        return 60
    if name.endswith("_calendar"):
        return "24x7"
    return None


def _sample_for_field(field) -> object:
    kind = field.get("type") or "string"
    if kind == "long":
        return 1
    if kind == "boolean":
        return True
    if kind == "date":
        return datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc).isoformat()
    if kind == "enum":
        option = field.find(_C + "value")
        return option.get("id") if option is not None else ""
    return "示例"


def _script_assignments(script: str) -> dict[str, object]:
    """Names a script assigns, with the literal value when it assigns one."""
    try:
        tree = ast.parse(sandbox.camunda_to_python(script))
    except SyntaxError:
        return {}
    found: dict[str, object] = {}
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            continue
        value = getattr(node, "value", None)
        try:
            literal = ast.literal_eval(value) if value is not None else None
        except ValueError:
            literal = None
        for target in targets:
            for name in ast.walk(target) if target is not None else ():
                if isinstance(name, ast.Name):
                    found[name.id] = literal if found.get(name.id) is None else found[name.id]
    return found


def _dmn_outputs(root) -> dict[str, object]:
    """Each decision output's name, with the first rule's value for it when that is a literal."""
    found: dict[str, object] = {}
    for table in (t for t in root.iter() if local_name(t) == "decisionTable"):
        outputs = [o for o in table if local_name(o) == "output"]
        rules = [r for r in table if local_name(r) == "rule"]
        first = [e for e in rules[0] if local_name(e) == "outputEntry"] if rules else []
        for index, output in enumerate(outputs):
            name = output.get("name")
            if not name:
                continue
            value = None
            if index < len(first):
                text = "".join(first[index].itertext()).strip()
                try:
                    value = ast.literal_eval(text) if text else None
                except (ValueError, SyntaxError):
                    value = None
            if value is None:
                value = 1 if (output.get("typeRef") or "") in ("integer", "long", "double", "number") else "示例"
            found[name] = value
    return found


def sample_variables(bpmn_roots, dmn_roots) -> dict[str, object]:
    """Plausible values for every variable the bundle's forms, scripts and decisions can set.

    Timer expressions are evaluated against these before anything runs: ISO
    date-times for names ending ``_at``/``_due``, numbers for ``_minutes``, the
    first option of an enum, a DMN output's first rule value.
    """
    samples: dict[str, object] = {"number": "INC-20261123-0001"}
    for root in dmn_roots:
        samples.update(_dmn_outputs(root))
    for root in bpmn_roots:
        for field in root.iter(_C + "formField"):
            if field.get("id"):
                samples.setdefault(field.get("id"), _sample_for_field(field))
        for script in root.iter(_B + "script"):
            for name, literal in _script_assignments(script.text or "").items():
                if samples.get(name) is None:
                    samples[name] = literal if literal is not None else "示例"
    for name in list(samples):
        by_name = _sample_for_name(name)
        if by_name is not None:
            samples[name] = by_name
    return samples
