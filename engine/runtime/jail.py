"""Diagram code under hard limits: a pool of child processes the OS can stop.

RestrictedPython keeps a script from reaching what it must not, and the
sandbox's counted limits stop a plain endless loop, but a single C call can
still build a gigabyte (``'a'.ljust(10**9)``, ``'%1000000000d' % 1``) or compute
for minutes (``pow(10, 10**8)``) and take a web worker or the timer worker down.
So every script, expression and documentation template that is not provably
cheap (``sandbox.is_cheap``) runs here: in a child process started beforehand,
with

* ``RLIMIT_AS`` (memory): a MemoryError in the child, reported as the memory limit;
* ``RLIMIT_CPU`` (CPU seconds, reset before each call): the kernel kills the child;
* a wall-clock deadline in the parent: past it the parent kills the child;
* no core files, no new processes, an empty environment (no database URL, no keys).

A killed child is replaced at once (it starts in the background), so the next
call finds one ready. The child still runs the restricted code — same policy,
same builtins, no ``os`` — so the limits are added to the sandbox, not instead of it.

Across the boundary: the request (the parent's own data) goes pickled; the answer
comes back as JSON through :mod:`.storable` (never unpickled), which also refuses
results task data cannot hold. The child's clock is the parent's at the call
(tests move time with time-machine), and the business calendar the parent loaded
(``desk.workdays``) is sent along when it changed.

Cost: ``desk bench jail``.
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import clock
from ..errors import ScriptError

_HEADER = struct.Struct("!I")
_ROOT = str(Path(__file__).resolve().parent.parent.parent)  # the folder holding the engine package
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from engine.runtime.jail import child_main; child_main()"
_READY = b"R"


@dataclass(frozen=True)
class Limits:
    """What one evaluation may use. ``seconds`` is wall-clock, ``cpu_seconds`` CPU time."""

    seconds: float = 5.0
    cpu_seconds: int = 3
    memory_mb: int = 768
    pool_size: int = 2
    start_seconds: float = 30.0  # how long a fresh child may take to start (imports)


_limits = Limits(
    seconds=float(os.environ.get("DESK_JAIL_SECONDS", 5.0)),
    cpu_seconds=int(os.environ.get("DESK_JAIL_CPU_SECONDS", 3)),
    memory_mb=int(os.environ.get("DESK_JAIL_MEMORY_MB", 768)),
    pool_size=int(os.environ.get("DESK_JAIL_POOL", 2)),
)


def limits() -> Limits:
    return _limits


def configure(**changes) -> Limits:
    """Change the limits (tests, ``desk bench jail``); children started afterwards get them. Returns the old ones."""
    global _limits
    old = _limits
    _limits = Limits(**{**asdict(old), **changes})
    # processes started from here (the process tests' runner) read the same limits
    os.environ.update({"DESK_JAIL_SECONDS": str(_limits.seconds), "DESK_JAIL_CPU_SECONDS": str(_limits.cpu_seconds),
                       "DESK_JAIL_MEMORY_MB": str(_limits.memory_mb), "DESK_JAIL_POOL": str(_limits.pool_size)})
    _pool().restart()
    return old


class _Died(Exception):
    """The child stopped answering: killed for time (``timed_out``) or dead for another reason."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "died")
        self.timed_out = timed_out


# --------------------------------------------------------------------------- parent side


class _Child:
    """One child process and its pipes; used by one thread at a time."""

    def __init__(self, limit: Limits) -> None:
        self.limits = limit
        self.calendar_sent = None
        self.ready = False
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-B", "-c", _BOOT, _ROOT, json.dumps(asdict(limit))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
            cwd="/",
            close_fds=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read(self, count: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        chunks = []
        while count:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise _Died(timed_out=True)
            chunk = os.read(fd, min(count, 1 << 20))
            if not chunk:
                raise _Died(timed_out=False)
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def call(self, request: dict) -> dict:
        if not self.ready:
            if self._read(1, time.monotonic() + self.limits.start_seconds) != _READY:
                raise _Died(timed_out=False)
            self.ready = True
        payload = _pickled(request)
        try:
            self.proc.stdin.write(_HEADER.pack(len(payload)) + payload)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _Died(timed_out=False) from None
        deadline = time.monotonic() + self.limits.seconds
        (size,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        return json.loads(self._read(size, deadline))

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


class _Unpicklable(Exception):
    """The data handed to a call cannot be sent to a child (not plain data)."""


def _pickled(request: dict) -> bytes:
    try:
        return pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
        raise _Unpicklable(str(exc)) from None


class _Pool:
    """Idle children, started beforehand; a call takes one, a busy moment starts an extra one."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.idle: list[_Child] = []

    def warm(self) -> None:
        with self.lock:
            while len(self.idle) < _limits.pool_size:
                self.idle.append(_Child(_limits))

    def take(self) -> _Child:
        with self.lock:
            while self.idle:
                child = self.idle.pop()
                if child.alive() and child.limits == _limits:
                    return child
                child.kill()
        self.warm()  # refill in the background for the calls after this one
        with self.lock:
            return self.idle.pop() if self.idle else _Child(_limits)

    def give(self, child: _Child) -> None:
        with self.lock:
            if len(self.idle) < _limits.pool_size and child.limits == _limits:
                self.idle.append(child)
                return
        child.kill()

    def replace(self, child: _Child) -> None:
        child.kill()
        self.warm()

    def restart(self) -> None:
        with self.lock:
            children, self.idle = self.idle, []
        for child in children:
            child.kill()


_the_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _pool() -> _Pool:
    """This process's pool (a forked web worker starts its own)."""
    global _the_pool
    if _the_pool is None or _the_pool.pid != os.getpid():
        with _pool_lock:
            if _the_pool is None or _the_pool.pid != os.getpid():
                _the_pool = _Pool()
    return _the_pool


@atexit.register
def _stop_children() -> None:
    if _the_pool is not None and _the_pool.pid == os.getpid():
        _the_pool.restart()


#: calls and seconds spent in children since start (``desk bench jail``)
stats = {"calls": 0, "seconds": 0.0}


def _describe(source, op: str) -> str:
    text = " ".join(str(source).split())
    if len(text) > 120:
        text = text[:117] + "..."
    kind = {"eval": "expression", "exec": "script", "render": "template"}[op]
    return f"{kind} `{text}`"


def _calendar():
    from ..desk import calendars  # lazily: desk may load after the runtime

    return calendars.settings()


def _same(sent, calendar) -> bool:
    return sent is not None and all(a is b for a, b in zip(sent, calendar))


def _run(op: str, source, context: dict, external: dict | None = None, globals_: dict | None = None) -> dict:
    """Send one call to a child; the child's answer (``value`` / ``data``), or ScriptError."""
    pool = _pool()
    child = pool.take()
    calendar = _calendar()
    request = {
        "op": op,
        "source": source,
        "context": context,
        "external": external or {},
        "globals": globals_ or {},
        "now": clock.now(),
        "calendar": None if _same(child.calendar_sent, calendar) else calendar,
    }
    started = time.perf_counter()
    try:
        answer = child.call(request)
    except _Died as died:
        pool.replace(child)
        raise _limit_error(died, child, source, op) from None
    except _Unpicklable as exc:
        pool.give(child)
        raise ScriptError(f"数据无法交给脚本 / the data cannot be handed to the script: {exc} "
                          f"(in {_describe(source, op)})") from None
    except BaseException:  # interrupted mid-call (or an answer we cannot read): that child is not reused
        pool.replace(child)
        raise
    finally:
        stats["calls"] += 1
        stats["seconds"] += time.perf_counter() - started
    child.calendar_sent = calendar
    pool.give(child)
    if answer.get("ok"):
        return answer
    error = ScriptError(answer["message"])
    error.line_number = answer.get("line_number") or 0
    error.error_line = answer.get("error_line")
    raise error


def _limit_error(died: _Died, child: _Child, source, op: str) -> ScriptError:
    code = child.proc.returncode
    where = _describe(source, op)
    if died.timed_out or code in (-signal.SIGXCPU, -signal.SIGKILL):
        seconds = child.limits.seconds
        return ScriptError(f"脚本超出时间限制（{seconds:g} 秒）/ the script went past its time limit ({seconds:g} s) (in {where})")
    mb = child.limits.memory_mb
    return ScriptError(f"脚本超出内存限制（{mb} MB）/ the script went past its memory limit ({mb} MB) (in {where})")


def _load(answer: dict, key: str):
    from . import storable

    return storable.loads(answer[key])


def evaluate(expression, context: dict, external: dict | None = None, globals_: dict | None = None):
    """The value of ``expression``, computed in a child under the limits."""
    return _load(_run("eval", expression, context, external, globals_), "value")["value"]


def execute(script, context: dict, external: dict | None = None, globals_: dict | None = None) -> dict:
    """The task data after ``script`` ran on ``context`` in a child under the limits (``context`` unchanged)."""
    return _load(_run("exec", script, context, external, globals_), "data")


def render(template: str, context: dict) -> str:
    """A documentation template (Jinja, sandboxed) rendered in a child under the limits.

    Text without ``{{``, ``{%`` or ``{#`` is returned as it is, without a child.
    Raises ScriptError (a template error, or a limit).
    """
    if not any(mark in template for mark in ("{{", "{%", "{#")):
        return template
    return _load(_run("render", template, context), "value")["value"]


# --------------------------------------------------------------------------- child side


def _set_limits(limit: Limits) -> None:
    memory = limit.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no fork (not enforced for root)
    except (ValueError, OSError):
        pass


def _cpu_budget(limit: Limits) -> None:
    """Allow ``cpu_seconds`` more CPU from now: RLIMIT_CPU counts the child's whole life."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (used + limit.cpu_seconds, hard))


def _read_exactly(stream, count: int) -> bytes | None:
    data = stream.read(count)
    return data if data and len(data) == count else None


def _answer(request: dict) -> dict:
    from . import sandbox, storable
    from .storable import NotStorable

    op, source = request["op"], request["source"]
    try:
        if op == "eval":
            value = sandbox.evaluate_here(source, request["context"], request["external"], request["globals"])
            return {"ok": True, "value": storable.dumps({"value": value})}
        if op == "exec":
            data = sandbox.execute_here(source, request["context"], request["external"], request["globals"])
            return {"ok": True, "data": storable.dumps(data)}
        if op == "render":
            return {"ok": True, "value": storable.dumps({"value": _render_here(source, request["context"])})}
        raise ValueError(f"unknown operation {op!r}")
    except NotStorable as exc:
        if exc.name == "value" and op != "exec":
            exc = NotStorable("结果 / result", exc.zh, exc.en)
        return {"ok": False, "message": sandbox.not_storable(exc, source, op if op != "render" else "eval").message}
    except ScriptError as exc:
        return {
            "ok": False,
            "message": exc.message,
            "line_number": getattr(exc, "line_number", 0),
            "error_line": getattr(exc, "error_line", None),
        }


_templates = None


def _render_here(text: str, context: dict) -> str:
    global _templates
    from jinja2 import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    if _templates is None:
        _templates = ImmutableSandboxedEnvironment(autoescape=False)
    try:
        return _templates.from_string(text).render(context)
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise ScriptError(f"说明模板出错 / the documentation template failed: {type(exc).__name__}: {exc}") from None


def child_main() -> None:
    """The child's loop: read a call, answer it, until the parent closes the pipe."""
    limit = Limits(**json.loads(sys.argv[2]))
    from . import sandbox  # noqa: F401 - import everything before the memory limit applies
    from ..desk import calendars
    import jinja2.sandbox  # noqa: F401

    _set_limits(limit)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(_READY)
    stdout.flush()
    while True:
        header = _read_exactly(stdin, _HEADER.size)
        if header is None:
            return
        body = _read_exactly(stdin, _HEADER.unpack(header)[0])
        if body is None:
            return
        request = pickle.loads(body)  # noqa: S301 - from our parent, over our own pipe
        moment = request["now"]
        clock.now = lambda moment=moment: moment
        if request["calendar"] is not None:
            business, extra_days = request["calendar"]
            calendars.configure(business=business, extra_days=extra_days)
        _cpu_budget(limit)
        try:
            answer = _answer(request)
        except MemoryError:
            answer = {
                "ok": False,
                "message": f"脚本超出内存限制（{limit.memory_mb} MB）/ the script went past its memory limit "
                f"({limit.memory_mb} MB) (in {_describe(request['source'], request['op'])})",
            }
        except RecursionError as exc:
            answer = {"ok": False, "message": f"Script failed: RecursionError: {exc}"}
        del request
        text = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        stdout.write(_HEADER.pack(len(text)) + text)
        stdout.flush()
