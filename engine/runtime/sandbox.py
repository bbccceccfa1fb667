"""The script sandbox: every script, condition, timer expression and DMN cell runs here.

SpiffWorkflow's stock ``TaskDataEnvironment`` runs diagram code with plain
``eval``/``exec`` and full builtins, so anyone who can deploy a diagram can run
anything on the server. This module replaces it with RestrictedPython:

* code is compiled by :func:`RestrictedPython.compile_restricted_exec` /
  ``compile_restricted_eval`` with a stricter policy (:class:`DeskPolicy`): no
  names or attributes starting with ``_``, no ``import``, no ``.format`` /
  ``.format_map`` (use f-strings), no ``class`` statements, no calls to
  ``open``/``type``/``globals``/``vars``/``compile``/… and no
  ``getattr(x, "_…")`` with a literal underscore name;
* it runs with a small whitelist of builtins (:data:`SAFE_BUILTINS`) plus the
  desk helpers :func:`now`, :func:`sla_due` and :func:`earliest` — no module objects, no
  ``__import__``, no ``getattr``, ``type``, ``eval``, ``exec``, ``open``;
* attribute access goes through :func:`guarded_getattr` (RestrictedPython's
  ``safer_getattr`` plus ``mro``), item writes through ``full_write_guard``.

Camunda habits (``${…}``, ``&&``, ``null``, bare ``PT15M``) are translated by
:func:`camunda_to_python` before compiling. Compiled code is cached by source
text, so the thousands of gateway conditions an engine evaluates cost one dict
lookup plus the ``eval`` itself.

Every refusal or failure is an :class:`engine.errors.ScriptError`. Through
:class:`DeskScriptEngine` (what :func:`script_engine` returns) it is a
:class:`TaskScriptError`, which is *also* a SpiffWorkflow
``WorkflowTaskException``: SpiffWorkflow's own handlers (DMN rule notes,
business-rule task notes, task error state) pass it through unchanged, and
callers catch ``ScriptError`` with ``element`` set to the task's BPMN id.

Hard limits: code that could run long or build something huge runs in a
pooled child process with CPU, memory and wall-clock limits the OS enforces
(:mod:`.jail`); only code that provably cannot blow up (:func:`is_cheap`) runs
in this process. Results must be storable (:mod:`.storable`): an iterator, bytes,
NaN or a huge value is a ScriptError naming the variable.
"""

from __future__ import annotations

import ast
import operator
import re
import traceback
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from RestrictedPython import (
    compile_restricted_eval,
    compile_restricted_exec,
    safe_builtins,
)
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    raise_,
    safer_getattr,
)
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)

from .. import clock
from ..errors import ScriptError
from . import jail, storable
from .storable import NotStorable

__all__ = [
    "DESK_FUNCTIONS",
    "SAFE_BUILTINS",
    "DeskPolicy",
    "DeskScriptEngine",
    "SandboxEnvironment",
    "TaskScriptError",
    "camunda_to_python",
    "compile_check",
    "earliest",
    "evaluate_here",
    "execute_here",
    "guarded_getattr",
    "is_cheap",
    "now",
    "script_engine",
    "sla_due",
    "strip_reserved",
]

SCRIPT_FILENAME = "<script>"
EXPRESSION_FILENAME = "<expression>"


# --------------------------------------------------------------------------- desk helpers


def now() -> str:
    """The current time, UTC, as an ISO-8601 string (``2026-11-23T09:00:00.123456+00:00``)."""
    return clock.now().isoformat()


def sla_due(minutes, calendar, start=None) -> str:
    """When an SLA target of ``minutes`` on ``calendar`` is due, as an ISO-8601 UTC string.

    ``start`` is an ISO-8601 string (naive means UTC) or None for now.
    """
    from ..desk.calendars import (
        add_minutes,  # lazily: the calendar module may load after us
    )

    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
        raise TypeError(f"sla_due: minutes must be a number, not {type(minutes).__name__}")
    if not isinstance(calendar, str):
        raise TypeError("sla_due: calendar must be a string such as '24x7' or 'business'")
    if start is None:
        begin = clock.now()
    elif isinstance(start, str):
        begin = datetime.fromisoformat(start.strip())
        if begin.tzinfo is None:
            begin = begin.replace(tzinfo=timezone.utc)
    else:
        raise TypeError("sla_due: start must be an ISO-8601 string or None")
    return add_minutes(begin.astimezone(timezone.utc), minutes, calendar).astimezone(timezone.utc).isoformat()


def earliest(*times) -> str | None:
    """The earliest of some ISO-8601 times (naive means UTC), as an ISO-8601 UTC string; None if none given.

    The emergency response clock runs from when the problem started, or from
    acceptance when that is unknown or (a typing slip) later: ``earliest(occurred_at, accepted_at)``.
    """
    parsed = []
    for value in times:
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise TypeError("earliest: times must be ISO-8601 strings or None")
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        parsed.append(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return min(parsed).astimezone(timezone.utc).isoformat() if parsed else None


DESK_FUNCTIONS: dict[str, Any] = {"now": now, "sla_due": sla_due, "earliest": earliest}


# --------------------------------------------------------------------------- builtins and guards

_FROM_SAFE_BUILTINS = [
    "None", "False", "True",
    "abs", "bool", "callable", "chr", "divmod", "float", "int", "isinstance", "issubclass",
    "len", "ord", "pow", "range", "repr", "round", "slice", "str", "hex", "oct", "complex",
    # exceptions a script may raise or catch (not BaseException/SystemExit/KeyboardInterrupt/GeneratorExit:
    # those would escape `except Exception` and could stop a worker)
    "ArithmeticError", "AssertionError", "AttributeError", "Exception", "IndexError", "KeyError",
    "LookupError", "NameError", "NotImplementedError", "OverflowError", "RuntimeError",
    "StopIteration", "TypeError", "UnicodeError", "ValueError", "ZeroDivisionError",
]  # fmt: skip

SAFE_BUILTINS: dict[str, Any] = {name: safe_builtins[name] for name in _FROM_SAFE_BUILTINS}
SAFE_BUILTINS.update(
    {
        # iterating in C is fine here: there are no security-proxied objects to protect
        "list": list, "dict": dict, "set": set, "frozenset": frozenset, "tuple": tuple,
        "min": min, "max": max, "sum": sum, "any": any, "all": all, "sorted": sorted,
        "reversed": reversed, "enumerate": enumerate, "zip": zip, "map": map, "filter": filter,
        "iter": iter, "next": next,
    }
)  # fmt: skip
SAFE_BUILTINS.update(DESK_FUNCTIONS)

# Calls refused at compile time. `type`, `open`, … are also plausible task-data names
# (the DMN reads a `type` variable), so only *calling* them is refused.
FORBIDDEN_CALLS = frozenset(
    {
        "open", "compile", "globals", "locals", "vars", "type", "input", "breakpoint", "help",
        "dir", "memoryview", "bytearray", "object", "super", "classmethod", "staticmethod",
        "property", "exit", "quit", "exec", "eval", "execfile", "reload", "delattr", "setattr",
    }
)  # fmt: skip
_ATTR_FUNCTIONS = frozenset({"getattr", "hasattr", "setattr", "delattr"})
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro"})


def guarded_getattr(obj, name, default=raise_):
    """RestrictedPython's ``safer_getattr`` (no ``_`` names, no ``str.format``, no frames) plus ``mro``.

    A missing attribute raises AttributeError (``safer_getattr`` alone would quietly give None).
    """
    if name in FORBIDDEN_ATTRIBUTES:
        raise AttributeError(f'"{name}" is not allowed in scripts')
    return safer_getattr(obj, name, default)


def _getitem(obj, index):
    return obj[index]


def _apply(func, *args, **kwargs):
    return func(*args, **kwargs)


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}  # fmt: skip


def _inplacevar(op: str, target, value):
    if op in ("*=", "**=", "<<="):
        return _guarded_binop(op[:-1], target, value)
    try:
        fn = _INPLACE[op]
    except KeyError:
        raise TypeError(f"augmented assignment {op} is not supported") from None
    return fn(target, value)


class _DiscardPrint:
    """``print()`` in a script is accepted and its output dropped."""

    def __init__(self, _getattr_=None):
        pass

    def _call_print(self, *objects, **kwargs):
        return None

    def __call__(self):
        return ""


# --------------------------------------------------------------------------- limits
#
# RestrictedPython stops a script reaching what it must not; these stop one that
# would never finish (a loop without end, ``2 ** 10**9``) or eat the memory
# (``"x" * 10**10``) and take a worker or a request thread down with it.

MAX_STEPS = 1_000_000  # loop iterations per script or expression
MAX_ITEMS = 10_000_000  # elements of a string, list or range a script may build
MAX_EXPONENT_BITS = 10_000  # size of the result of ** and << on whole numbers


class ScriptLimit(RuntimeError):
    """A script went past one of the sandbox's limits."""


class _Budget:
    """Loop steps left for one run of one script; every for, while and comprehension draws on it."""

    def __init__(self) -> None:
        self.left = MAX_STEPS

    def step(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ScriptLimit(f"stopped after {MAX_STEPS:,} loop steps")

    def iterate(self, iterable):
        for item in iter(iterable):
            self.step()
            yield item


def _sized(value) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _guarded_binop(op: str, left, right):
    """``*``, ``**`` and ``<<`` with the size of the result checked before it is built."""
    if op == "*":
        for seq, times in ((left, right), (right, left)):
            size = _sized(seq)
            if size is not None and isinstance(times, int) and size * max(times, 0) > MAX_ITEMS:
                raise ScriptLimit(f"a result of more than {MAX_ITEMS:,} items")
        return left * right
    if op == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            if right * max(abs(left).bit_length(), 1) > MAX_EXPONENT_BITS:
                raise ScriptLimit("a number too large to compute")
        return left**right
    if isinstance(left, int) and isinstance(right, int) and right > MAX_EXPONENT_BITS:
        raise ScriptLimit("a number too large to compute")
    return left << right


def _limited_range(*args):
    result = range(*args)
    if len(result) > MAX_ITEMS:
        raise ScriptLimit(f"a range of more than {MAX_ITEMS:,} items")
    return result


_GUARDED_OPS = {ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<"}
SAFE_BUILTINS["range"] = _limited_range


# Set after task data, so a data key such as "_getattr_" or "__builtins__" can never replace them.
GUARDS: dict[str, Any] = {
    "__builtins__": SAFE_BUILTINS,
    "__name__": "desk_script",
    "_getattr_": guarded_getattr,
    "_getitem_": _getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_apply_": _apply,
    "_print_": _DiscardPrint,
    "_binop_": _guarded_binop,
}


class DeskPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, stricter where a service desk never needs the feature."""

    def visit_Import(self, node):
        self.error(node, "import statements are not allowed.")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed.")
        return node

    def visit_Attribute(self, node):
        if node.attr in FORBIDDEN_ATTRIBUTES:
            hint = " (use an f-string)" if node.attr.startswith("format") else ""
            self.error(node, f'"{node.attr}" is not allowed{hint}.')
        return super().visit_Attribute(node)

    def visit_While(self, node):
        node = super().visit_While(node)
        step = ast.Expr(ast.Call(ast.Name("_step_", ast.Load()), [], []))
        node.body.insert(0, ast.fix_missing_locations(ast.copy_location(step, node)))
        return node

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        op = _GUARDED_OPS.get(type(node.op))
        if op is None:
            return node
        call = ast.Call(ast.Name("_binop_", ast.Load()), [ast.Constant(op), node.left, node.right], [])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in FORBIDDEN_CALLS and func.id not in ("exec", "eval"):  # RestrictedPython reports those
                self.error(node, f'"{func.id}()" is not available in scripts.')
            elif func.id in _ATTR_FUNCTIONS and len(node.args) >= 2:
                name = node.args[1]
                if isinstance(name, ast.Constant) and isinstance(name.value, str) and name.value.startswith("_"):
                    self.error(node, f'"{name.value}" is an invalid attribute name because it starts with "_".')
        return super().visit_Call(node)


# --------------------------------------------------------------------------- Camunda → Python

_DATE = r"\d{4}-\d{2}-\d{2}"
_DATETIME = _DATE + r"T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = rf"P(?=[\dT])(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
_ISO_ITEM = rf"(?:{_DATETIME}|{_DATE}|{_DURATION})"
_ISO_LITERAL = re.compile(rf"(?:R\d*/)?{_ISO_ITEM}(?:/{_ISO_ITEM})?")
_WORDS = {"null": "None", "true": "True", "false": "False"}
_JUEL = re.compile(r"&&|\|\||!(?!=)|(?<![\w.])(?:null|true|false)(?!\w)")
_QUICK = re.compile(r"[$#&|!]|null|true|false|\d|P")


def _string_end(text: str, i: int) -> int:
    """Index just past the Python string literal whose opening quote is at ``text[i]``."""
    quote = text[i]
    delim = quote * 3 if text.startswith(quote * 3, i) else quote
    j = i + len(delim)
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if text.startswith(delim, j):
            return j + len(delim)
        if c == "\n" and len(delim) == 1:
            return j  # unterminated: let the compiler report it
        j += 1
    return n


def _segments(text: str):
    """Yield (is_code, piece) covering ``text``: code vs string literals and comments."""
    start = i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            if start < i:
                yield True, text[start:i]
            end = _string_end(text, i)
            yield False, text[i:end]
            start = i = end
        elif c == "#":
            if start < i:
                yield True, text[start:i]
            end = text.find("\n", i)
            end = n if end < 0 else end
            yield False, text[i:end]
            start = i = end
        else:
            i += 1
    if start < n:
        yield True, text[start:]


def _unwrap(text: str) -> str | None:
    """``${expr}`` / ``#{expr}`` → ``expr`` when the wrapper spans the whole text."""
    if len(text) < 3 or text[0] not in "$#" or text[1] != "{" or text[-1] != "}":
        return None
    depth = 0
    i = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            i = _string_end(text, i)
            continue
        if c in "{[(":
            depth += 1
        elif c in "}])":
            depth -= 1
            if depth == 0:
                return text[2:-1] if i == n - 1 else None
        i += 1
    return None


def _last_char(out: list[str]) -> str:
    for piece in reversed(out):
        if piece:
            return piece[-1]
    return ""


def _translate_code(piece: str, out: list[str]) -> None:
    pos = 0
    for m in _JUEL.finditer(piece):
        out.append(piece[pos : m.start()])
        token = m.group()
        if token == "&&":
            word = "and"
        elif token == "||":
            word = "or"
        elif token == "!":
            word = "not"
        else:
            word = _WORDS[token]
        if word in ("and", "or", "not"):
            before = _last_char(out)
            after = piece[m.end() : m.end() + 1]
            lead = " " if before and not before.isspace() and before not in "([{," else ""
            trail = "" if after.isspace() else " "
            word = f"{lead}{word}{trail}"
        out.append(word)
        pos = m.end()
    out.append(piece[pos:])


def camunda_to_python(expr: str) -> str:
    """Translate Camunda/JUEL habits into Python; plain Python passes through unchanged.

    * ``${expr}`` / ``#{expr}`` wrapping the whole text → ``expr``;
    * a bare ISO-8601 date, date-time, duration, interval or repeating interval
      (``PT15M``, ``R3/PT10M``, ``2026-11-23T10:00:00Z``) → that text as a string literal;
    * outside string literals and comments: ``&&`` → ``and``, ``||`` → ``or``,
      ``!x`` → ``not x`` (``!=`` kept), ``null``/``true``/``false`` → ``None``/``True``/``False``.
    """
    if not _QUICK.search(expr):
        return expr
    stripped = expr.strip()
    inner = _unwrap(stripped)
    if inner is not None:
        expr = stripped = inner.strip()
    if _ISO_LITERAL.fullmatch(stripped):
        return repr(stripped)
    out: list[str] = []
    for is_code, piece in _segments(expr):
        if is_code:
            _translate_code(piece, out)
        else:
            out.append(piece)
    return "".join(out)


# --------------------------------------------------------------------------- compiling


@lru_cache(maxsize=1024)
def _compiled(source: str, mode: str):
    """(code or None, errors) for ``source``; cached by text — code objects are immutable."""
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    if source is None and mode == "exec":
        source = ""  # <bpmn:script/> with no text: nothing to run
    if not isinstance(source, str):
        return None, (f"expected text, got {type(source).__name__}",)
    python = camunda_to_python(source)
    if mode == "eval":
        result = compile_restricted_eval(python.strip(), EXPRESSION_FILENAME, policy=DeskPolicy)
    else:
        result = compile_restricted_exec(python, SCRIPT_FILENAME, policy=DeskPolicy)
    return result.code, tuple(result.errors)


def compile_check(source: str, mode: str) -> list[str]:
    """The sandbox's refusals for a script (``"exec"``) or expression (``"eval"``), without running it.

    ``source`` may also be a SpiffWorkflow condition operator (``_BpmnCondition``,
    as found in ``task_spec.cond_task_specs``): its expression text is checked.
    """
    if not isinstance(source, str):
        args = getattr(source, "args", None)
        if isinstance(args, (list, tuple)) and len(args) == 1 and isinstance(args[0], str):
            source = args[0]
        else:
            return [f"expected text, got {type(source).__name__}"]
    return list(_compiled(source, mode)[1])


def _describe(source: str, mode: str) -> str:
    text = " ".join(source.split())
    if len(text) > 120:
        text = text[:117] + "..."
    return f"{'expression' if mode == 'eval' else 'script'} `{text}`"


def _code_or_raise(source: str, mode: str):
    code, errors = _compiled(source, mode)
    if errors:
        raise ScriptError(f"Script refused: {'; '.join(errors)} (in {_describe(source, mode)})")
    return code


def _failure(err: Exception, source: str, mode: str) -> ScriptError:
    line_number = 0
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename in (SCRIPT_FILENAME, EXPRESSION_FILENAME):
            line_number = frame.lineno or 0
    detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    if mode == "exec" and line_number > 0:
        lines = source.splitlines()
        text = lines[line_number - 1].strip() if line_number <= len(lines) else ""
        where = f"line {line_number}: `{text}`"
    else:
        where = _describe(source, mode)
    error = ScriptError(f"Script failed: {detail} (in {where})")
    error.line_number = line_number
    error.error_line = text if mode == "exec" and line_number > 0 else None
    return error


# --------------------------------------------------------------------------- environment


# --------------------------------------------------------------------------- where code runs
#
# Counted limits (above) stop the obvious loops, but not a C function that builds a
# gigabyte (``'a'.ljust(10**9)``, ``f'{1:>1000000000}'``) or computes for minutes
# (``pow(10, 10**8)``). So diagram code runs in a child process the OS stops
# (``jail``: CPU, memory and wall-clock limits). Only code that *cannot* blow up
# runs here, in this process, to keep gateway conditions, DMN cells and the
# desk's one-line scripts cheap.
#
# The rule (checked on the AST after the Camunda translation). An expression is
# cheap when it is made only of names, constants, attribute and subscript reads
# (slices included), comparisons (``==``, ``<``, ``in``, ``is``…), ``and``/``or``,
# ``not``/unary minus, ``x if c else y``, tuple/list displays, ``+`` and ``-``, and
# calls of ``now``, ``earliest``, ``len``, ``str``, ``int``, ``float``, ``bool``,
# ``abs``, ``min``, ``max`` by name, all on cheap operands. No ``*``, ``**``, ``%``
# or ``<<``, no other call (no methods), no f-string, comprehension or lambda, no
# ``:=``. Each node then does work at most linear in the size of its operands, and
# no name is rebound inside one expression, so the whole costs at most (size of
# the source) × (size of the task data it reads), both already in memory.
# (``str``/``int`` of huge numbers are bounded by Python's 4,300-digit limit.)
# A script is cheap when every statement is ``pass``, ``name = <expr>``,
# ``name += <constant>`` (or ``-=``), an expression, or ``if <expr>:`` around such
# statements, where each ``<expr>`` is cheap and each of its ``+``/``-`` has a
# constant on one side: in a script, ``s = s + s`` on twenty lines would double a
# value twenty times, while ``n = n + 1`` only adds the constant's size. Loops,
# ``def``, ``try`` and the rest go to the child.

_CHEAP_NODES = (
    ast.Expression, ast.Name, ast.Load, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice,
    ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.IfExp,
    ast.Tuple, ast.List, ast.BinOp, ast.Add, ast.Sub, ast.Call,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
)  # fmt: skip
CHEAP_CALLS = frozenset({"now", "earliest", "len", "str", "int", "float", "bool", "abs", "min", "max"})


def _cheap_expression(node: ast.AST, *, arithmetic: bool = True) -> bool:
    for child in ast.walk(node):
        if not isinstance(child, _CHEAP_NODES):
            return False
        if isinstance(child, ast.BinOp) and not arithmetic and not (
            isinstance(child.left, ast.Constant) or isinstance(child.right, ast.Constant)
        ):
            return False
        if isinstance(child, ast.Call) and not (
            isinstance(child.func, ast.Name) and child.func.id in CHEAP_CALLS and not child.keywords
        ):
            return False
    return True


def _cheap_statements(statements: list[ast.stmt]) -> bool:
    for statement in statements:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and _cheap_expression(statement.value, arithmetic=False):
            continue
        if (
            isinstance(statement, ast.Assign)
            and all(isinstance(target, ast.Name) for target in statement.targets)
            and _cheap_expression(statement.value, arithmetic=False)
        ):
            continue
        if (
            isinstance(statement, ast.AugAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(statement.op, (ast.Add, ast.Sub))
            and isinstance(statement.value, ast.Constant)
        ):
            continue
        if (
            isinstance(statement, ast.If)
            and _cheap_expression(statement.test, arithmetic=False)
            and _cheap_statements(statement.body)
            and _cheap_statements(statement.orelse)
        ):
            continue
        return False
    return True


@lru_cache(maxsize=1024)
def is_cheap(source: str, mode: str) -> bool:
    """Whether ``source`` provably cannot blow up, so it may run in this process (the rule above)."""
    if not isinstance(source, str):
        return False
    try:
        tree = ast.parse(camunda_to_python(source).strip() if mode == "eval" else camunda_to_python(source), mode=mode)
    except (SyntaxError, ValueError):
        return False
    if mode == "eval":
        return _cheap_expression(tree)
    return _cheap_statements(tree.body)


def _namespace(globals_: dict | None, context: dict, external_context: dict | None) -> dict:
    namespace = dict(globals_) if globals_ else {}
    if external_context:
        namespace.update(external_context)
    namespace.update(context)
    namespace.update(GUARDS)
    budget = _Budget()
    namespace["_getiter_"] = budget.iterate
    namespace["_step_"] = budget.step
    return namespace


def evaluate_here(expression, context: dict, external_context: dict | None = None, globals_: dict | None = None):
    """Evaluate ``expression`` in this process (the jail's child calls this, and the cheap path)."""
    code = _code_or_raise(expression, "eval")
    namespace = _namespace(globals_, context, external_context)
    try:
        return eval(code, namespace)  # noqa: S307 - restricted code, guarded namespace
    except MemoryError:
        raise  # the jail reports it as its memory limit
    except Exception as err:
        raise _failure(err, expression, "eval") from err


def execute_here(script, context: dict, external_context: dict | None = None, globals_: dict | None = None) -> dict:
    """Run ``script`` in this process on a copy of ``context``; returns the task data after it.

    The result holds what the script left (not helpers, not callables); ``context`` is not changed.
    """
    code = _code_or_raise(script, "exec")
    external_context = external_context or {}
    globals_ = globals_ or {}
    clash = (set(DESK_FUNCTIONS) | set(globals_) | set(external_context)) & set(context)
    if clash:
        raise ScriptError(
            "Script refused: task data overwrites predefined function(s); "
            f"rename these fields: {', '.join(sorted(clash))}"
        )
    namespace = _namespace(globals_, context, external_context)
    try:
        exec(code, namespace)  # noqa: S102 - restricted code, guarded namespace
    except MemoryError:
        raise
    except Exception as err:
        raise _failure(err, script, "exec") from err
    return {
        key: value
        for key, value in namespace.items()
        if key not in GUARDS
        and key != "_step_"
        and not (key.startswith("_") and key not in context)  # RestrictedPython's own helpers
        and key not in external_context
        and key not in globals_
        and not callable(value)
    }


def not_storable(exc: NotStorable, source: str, mode: str) -> ScriptError:
    """The ScriptError for a result task data cannot hold, naming the variable."""
    return ScriptError(f"{exc.message} (in {_describe(str(source), mode)})")


# --------------------------------------------------------------------------- environment


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs everything under RestrictedPython.

    Cheap code (:func:`is_cheap`) runs in this process; the rest in a child process
    under hard limits (:mod:`.jail`). Stateless after construction, so one instance
    is shared by all threads.
    """

    def __init__(self, environment_globals=None):
        super().__init__(environment_globals)
        # extra names (like the desk helpers) visible to scripts; never written back to task data
        self.globals = dict(environment_globals or {})

    def evaluate(self, expression, context, external_context=None):
        if is_cheap(expression, "eval"):
            value = evaluate_here(expression, context, external_context, self.globals)
            if value is not None and type(value) not in (bool, int, str):
                try:
                    storable.plain("结果 / result", value)
                except NotStorable as exc:
                    raise not_storable(exc, expression, "eval") from None
            return value
        _code_or_raise(expression, "eval")  # refused here, before any child runs it
        return jail.evaluate(expression, context, external_context, self.globals)

    def execute(self, script, context, external_context=None):
        if is_cheap(script, "exec"):
            result = execute_here(script, context, external_context, self.globals)
            changed = {key: value for key, value in result.items() if context.get(key, _MISSING) is not value}
            try:
                storable.check(changed)
            except NotStorable as exc:
                raise not_storable(exc, script, "exec") from None
        else:
            _code_or_raise(script, "exec")
            result = jail.execute(script, context, external_context, self.globals)
        # in place, all at once: a failing script leaves the task data untouched
        context.clear()
        context.update(result)
        return True

    def call_service(self, context, **kwargs):
        raise ScriptError("Service tasks are not supported by the desk engine")


_MISSING = object()


# --------------------------------------------------------------------------- script engine


class TaskScriptError(ScriptError, WorkflowTaskException):
    """A ScriptError raised while running a task: also a SpiffWorkflow ``WorkflowTaskException``.

    ``message`` (what the API shows) stays the sandbox's message; SpiffWorkflow's
    notes ("Rule failed on row 2") are kept in ``notes`` and shown by ``str()``.
    """

    def __init__(
        self, message: str, *, task, element: str | None = None, exception=None, line_number=None, error_line=None
    ):
        WorkflowTaskException.__init__(
            self, message, task=task, exception=exception, line_number=line_number, error_line=error_line
        )
        self.message = message
        self.element = element

    def __str__(self) -> str:
        if self.notes:
            return f"{self.message} ({'; '.join(self.notes)})"
        return self.message


def _element(task) -> str | None:
    spec = getattr(task, "task_spec", None)
    return getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)


class DeskScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine on the sandbox; errors come out as ScriptError with the task's id."""

    def __init__(self, environment=None):
        super().__init__(environment=environment or SandboxEnvironment())

    def validate(self, expression):
        """``ast.parse`` semantics (SyntaxError for non-Python), after the Camunda translation.

        The DMN engine relies on the SyntaxError to decide whether a cell needs ``==``.
        """
        ast.parse(camunda_to_python(expression))

    def _wrap(self, task, err: ScriptError) -> ScriptError:
        if task is None or isinstance(err, TaskScriptError):
            return err
        return TaskScriptError(
            err.message,
            task=task,
            element=err.element or _element(task),
            exception=err.__cause__ or err,
            line_number=getattr(err, "line_number", None) or None,
            error_line=getattr(err, "error_line", None),
        )

    def evaluate(self, task, expression, external_context=None):
        data = task.data if task is not None else {}
        try:
            return self.environment.evaluate(expression, data, external_context)
        except ScriptError as err:
            raise self._wrap(task, err) from err.__cause__
        except Exception as err:  # an environment bug, not a script failure; still report it as one
            raise self._wrap(task, _failure(err, str(expression), "eval")) from err

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except ScriptError as err:
            raise self._wrap(task, err) from err.__cause__
        except Exception as err:
            raise self._wrap(task, _failure(err, str(script), "exec")) from err

    def call_service(self, task, **kwargs):
        raise self._wrap(task, ScriptError("Service tasks are not supported by the desk engine"))


_ENGINE = DeskScriptEngine()


def script_engine() -> DeskScriptEngine:
    """The shared engine (stateless, thread-safe)."""
    return _ENGINE


# --------------------------------------------------------------------------- submitted data


def strip_reserved(data):
    """A copy of ``data`` without ``typename`` keys (they break SpiffWorkflow's serializer)
    or keys starting with ``__``, at any depth of dicts and lists."""
    if isinstance(data, dict):
        return {
            key: strip_reserved(value)
            for key, value in data.items()
            if not (key == "typename" or (isinstance(key, str) and key.startswith("__")))
        }
    if isinstance(data, list):
        return [strip_reserved(item) for item in data]
    if isinstance(data, tuple):
        return tuple(strip_reserved(item) for item in data)
    return data
