"""Hard limits for diagram code (issue 11): what counted limits let through ends in a prompt ScriptError.

Every case runs in a pooled child process the OS stops; the test process (the
parent) stays alive and answers the next call at once.
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from engine.errors import ScriptError
from engine.runtime import jail, sandbox, storable
from engine.runtime.sandbox import SandboxEnvironment


@pytest.fixture
def tight():
    """Short limits, so a runaway case costs a second of CPU, not five.

    The wall-clock limit is looser than the CPU one: on a busy machine a child doubling a
    string toward the memory limit can take over 2 s of wall time, and a case meant to end
    at the memory limit then ended at the clock instead.
    """
    old = jail.configure(seconds=5.0, cpu_seconds=1, memory_mb=512)
    yield jail.limits()
    jail.configure(**{k: getattr(old, k) for k in ("seconds", "cpu_seconds", "memory_mb")})


BYPASSES = [
    ("eval", "'a'.ljust(10**9)", "内存限制"),
    ("eval", "f'{1:>1000000000}'", "内存限制"),
    ("eval", "'%1000000000d' % 1", "内存限制"),
    ("exec", "s = 'ab'\nwhile True:\n    s = s + s", "内存限制"),
    ("exec", "s = 'a' * 1000\nfor i in range(40):\n    s = s.replace('a', 'aa')", "限制"),
    ("eval", "pow(10, 10**8)", "时间限制"),
    ("eval", "[[0] * 10**7 for i in range(100)]", "内存限制"),
    ("eval", "sum(map(lambda x: sum(map(lambda y: y, range(10**6))), range(10**6)))", "时间限制"),
]


@pytest.mark.parametrize(("mode", "code", "limit"), BYPASSES)
def test_what_counted_limits_let_through_ends_promptly_in_a_clear_error(tight, mode, code, limit):
    env = SandboxEnvironment()
    started = time.monotonic()
    with pytest.raises(ScriptError) as caught:
        if mode == "eval":
            env.evaluate(code, {})
        else:
            env.execute(code, {"kept": 1})
    assert time.monotonic() - started < 10
    assert limit in caught.value.message and "limit" in caught.value.message
    # the parent is alive and the next call is served as usual
    assert env.evaluate("len(x) + 1", {"x": [1, 2]}) == 3


def test_a_limit_inside_a_task_names_the_element(tight):
    from test_sandbox import run_script

    with pytest.raises(ScriptError) as caught:
        run_script("big = 'a'.ljust(10**9)", {})
    assert "内存限制" in caught.value.message and caught.value.element


def test_normal_scripts_keep_working_with_dates_decimals_and_the_desk_functions():
    env = SandboxEnvironment()
    data = {"when": datetime(2026, 11, 23, 9, tzinfo=timezone.utc), "day": date(2026, 11, 23),
            "amount": Decimal("1.50"), "items": [1, 2, 3]}
    env.execute("total = sum(items)\nlater = when\ncost = amount\nsame = day\nstamp = now()\n"
                "due = sla_due(60, '24x7', '2026-11-23T09:00:00+00:00')", data)
    assert data["total"] == 6 and data["later"] == data["when"] and data["cost"] == Decimal("1.50")
    assert data["same"] == date(2026, 11, 23) and data["stamp"].startswith("20")
    assert data["due"] == "2026-11-23T10:00:00+00:00"
    assert env.evaluate("[n * 2 for n in items]", data) == [2, 4, 6]


def test_the_child_sees_the_parents_clock():
    import time_machine

    with time_machine.travel(datetime(2030, 1, 2, 3, 4, tzinfo=timezone.utc), tick=False):
        assert SandboxEnvironment().evaluate("now()[:4] + 'x'", {}) == "2030x"


def test_a_refused_script_is_refused_before_any_child_runs_it():
    with pytest.raises(ScriptError, match="import"):
        SandboxEnvironment().execute("import os", {})
    with pytest.raises(ScriptError, match="not allowed|not available"):
        SandboxEnvironment().evaluate("open('/etc/passwd')", {})


def test_the_child_has_no_environment_and_cannot_start_processes():
    env = SandboxEnvironment()
    # restricted code cannot reach os at all; the limits are on top of that policy
    with pytest.raises(ScriptError):
        env.evaluate("__import__('os').environ", {})
    os.environ["DESK_JAIL_SECRET_PROBE"] = "x"
    try:
        assert env.evaluate("str(1)", {}) == "1"
    finally:
        del os.environ["DESK_JAIL_SECRET_PROBE"]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("x = iter([1])", "x"),
        ("g = (n for n in [1])", "g"),
        ("b = b'raw'", "b"),
        ("n = float('nan')", "n"),
        ("i = float('inf')", "i"),
        ("s = {1, 2}", "s"),
        ("d = {1: 'a'}", "d"),
        ("f = [print]", "f"),
        ("h = 'x' * 9_000_000", "h"),
    ],
)
def test_results_that_cannot_be_stored_name_the_variable(code, name):
    data = {"before": 1}
    with pytest.raises(ScriptError) as caught:
        SandboxEnvironment().execute(code, data)
    assert f"“{name}”" in caught.value.message and "cannot be stored" in caught.value.message
    assert data == {"before": 1}  # nothing half-written


def test_an_expression_result_that_cannot_be_stored_is_an_error():
    with pytest.raises(ScriptError, match="cannot be stored"):
        SandboxEnvironment().evaluate("iter([1])", {})


@pytest.mark.parametrize(
    ("source", "mode", "cheap"),
    [
        ("priority == 'P1'", "eval", True),
        ("${impact == '高' && urgency != null}", "eval", True),
        ("ticket.status in ('open', 'new') and not closed", "eval", True),
        ("items[1:3] == x[0]", "eval", True),
        ("'PT5M'", "eval", True),
        ("PT15M", "eval", True),
        ("a if b else c", "eval", True),
        ("team = 'major'\nlevel = priority", "exec", True),
        ("len(x) > 2 and earliest(a, b) < now()", "eval", True),
        ("count + 1 - offset", "eval", True),
        ("assigned_at = now()\nif outcome == 'resolved':\n    resolver = 'online_fix'\nelse:\n    resolver = None", "exec", True),
        ("s = s + s", "exec", False),
        ("s += s", "exec", False),
        ("s = (s + 'a') + (s + 'a')", "exec", False),
        ("s *= 2", "exec", False),
        ("fired += 1\nattempts = attempts + 1 - 0\nlabel = 'T-' + number", "exec", True),
        ("x.upper()", "eval", False),
        ("sla_due(10**12, 'business')", "eval", False),
        ("len(x, key=y)", "eval", False),
        ("(y := x)", "eval", False),
        ("pow(10, 10**8) and 'PT5M'", "eval", False),
        ("a * 3", "eval", False),
        ("a + b", "eval", True),
        ("f'{a:>99}'", "eval", False),
        ("'%5d' % a", "eval", False),
        ("[x for x in y]", "eval", False),
        ("x = a.upper()", "exec", False),
        ("x = [a] * 3", "exec", False),
        ("for i in x:\n    pass", "exec", False),
        ("x[0] = 1", "exec", False),
    ],
)
def test_only_provably_cheap_code_runs_in_process(source, mode, cheap):
    assert sandbox.is_cheap(source, mode) is cheap


def test_cheap_code_never_reaches_a_child():
    before = jail.stats["calls"]
    env = SandboxEnvironment()
    data = {"priority": "P1"}
    assert env.evaluate("priority == 'P1'", data) is True
    env.execute("team = 'major'", data)
    assert data["team"] == "major"
    assert jail.stats["calls"] == before


def test_documentation_templates_render_in_a_child_under_the_limits(tight):
    assert jail.render("plain text", {}) == "plain text"
    assert jail.render("工单 {{ number }}", {"number": "T-1"}) == "工单 T-1"
    with pytest.raises(ScriptError, match="limit"):
        jail.render("{{ 'a' * 10**9 }}{{ 'b' * 10**9 }}", {})
    with pytest.raises(ScriptError, match="template"):
        jail.render("{{ x.__class__.__mro__ }}", {"x": 1})


def test_storable_round_trips_the_types_task_data_holds():
    values = {"a": [1, 2.5, None, True, "t"], "d": {"k": Decimal("2.10")},
              "w": datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc), "day": date(2026, 1, 2)}
    assert storable.loads(storable.dumps(values)) == values


def test_desk_bench_jail_reports_each_path_and_the_cost_per_completion():
    from engine import bench

    lines = bench.run_jail(repeat=20, completions=8)
    text = "\n".join(lines)
    assert "in this process" in text and "pooled child" in text and "per task completion" in text
