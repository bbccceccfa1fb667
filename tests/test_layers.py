"""The engine's wings import one way: authoring → runtime → desk → root modules, and
reporting → desk. A lower wing importing a higher one fails here, lazy imports
inside functions included; engine/ never imports Flask or webforms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"

# What each wing may import besides itself.
ALLOWED = {
    "authoring": {"runtime", "desk", "root"},
    "runtime": {"desk", "root"},
    "desk": {"root"},
    "reporting": {"desk", "root"},
    "root": {"root"},
}
# bench.py drives the whole engine to measure it; it sits at the root but is a caller, not a base.
CALLERS = {"bench"}
WINGS = set(ALLOWED) - {"root"}


def _wing(parts: tuple[str, ...]) -> str:
    return parts[0] if parts and parts[0] in WINGS else "root"


def _imports(source: str, package: tuple[str, ...]):
    """(line, absolute dotted module) for every import in a module of ``package``, relative ones resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ((node.module,) if node.module else ()))
            else:
                module = node.module or ""
            if node.module is None or module == "engine":
                for alias in node.names:  # from . import x: each name is a module
                    yield node.lineno, f"{module}.{alias.name}"
            else:
                yield node.lineno, module


def violations(source: str, rel: tuple[str, ...]) -> list[str]:
    """What a module at engine/<rel>.py imports against the one-way rule."""
    own = _wing(rel)
    wrong = []
    for line, module in _imports(source, ("engine",) + rel[:-1]):
        top = module.split(".")[0]
        if top in {"flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "flask_babel", "webforms"}:
            wrong.append(f"line {line}: {module} (engine/ never imports Flask or webforms)")
            continue
        if top != "engine":
            continue
        parts = tuple(module.split(".")[1:])
        target = _wing(parts)
        if parts and parts[0] in CALLERS:
            wrong.append(f"line {line}: {module} (bench is a caller, never imported)")
        elif target != own and target not in ALLOWED[own]:
            wrong.append(f"line {line}: {module} ({own} may not import {target})")
    return wrong


@pytest.mark.parametrize("path", sorted(ENGINE.rglob("*.py")), ids=lambda p: str(p.relative_to(ENGINE)))
def test_imports_run_one_way(path: Path):
    rel = path.relative_to(ENGINE).with_suffix("").parts
    if rel == ("bench",):
        return
    wrong = violations(path.read_text(), rel)
    assert not wrong, f"{path.relative_to(ENGINE.parent)}:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "source, rel",
    [
        ("def f():\n    from ..runtime import instances\n", ("desk", "tickets")),
        ("from engine.authoring import versions\n", ("runtime", "instances")),
        ("from .. import bench\n", ("desk", "audit")),
        ("from flask import g\n", ("desk", "audit")),
        ("from ..runtime import tasks\n", ("reporting", "kpi")),
        ("from .runtime import tasks\n", ("models",)),
    ],
)
def test_the_check_sees_a_wrong_import(source, rel):
    assert violations(source, rel)


def test_the_check_lets_the_right_way_through():
    assert not violations("from ..desk import audit\nfrom ..models import Ticket\nfrom . import forms\n", ("runtime", "x"))
