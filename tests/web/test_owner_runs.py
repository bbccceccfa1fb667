"""Owners' validate and test requests under the sandbox's hard limits and a per-user limit (issue 11)."""

from __future__ import annotations

import time

import pytest

from engine.runtime import jail
from webforms.extensions import db
from webforms.processes import runs

from .test_processes import post_json

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="reminder" name="提醒" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait" name="等待">
      <bpmn:timerEventDefinition><bpmn:timeDuration>EXPR</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
RUNAWAY = "pow(10, 10**8) and 'PT5M'"


@pytest.fixture
def tight(app, tmp_path):
    app.config["DESK_RUN_LOCKS"] = str(tmp_path / "locks")
    old = jail.configure(seconds=2.0, cpu_seconds=1)
    yield
    jail.configure(seconds=old.seconds, cpu_seconds=old.cpu_seconds)


def test_a_runaway_timer_expression_in_validate_is_a_prompt_error(desk, tight):
    desk.login("owner1")
    started = time.monotonic()
    res = post_json(desk, "/processes/validate", {"files": {"r.bpmn": PROCESS.replace("EXPR", RUNAWAY)}})
    assert time.monotonic() - started < 15
    assert res.status_code == 200
    body = res.get_json()
    assert body["errors"] is True
    problem = next(p for p in body["problems"] if p["element"] == "wait")
    assert "时间限制" in problem["message"] and "time limit" in problem["message"]
    # the server keeps serving, the pool too
    ok = post_json(desk, "/processes/validate", {"files": {"r.bpmn": PROCESS.replace("EXPR", "PT5M")}})
    assert ok.status_code == 200 and ok.get_json()["errors"] is False
    assert desk.get("/processes/").status_code == 200


def test_a_runaway_timer_expression_in_a_process_test_is_a_prompt_error(desk, tight):
    desk.login("owner1")
    started = time.monotonic()
    scenarios = '[{"name": "waits", "steps": [{"advance": "PT10M"}], "expect": {"completed": true}}]'
    files = {"r.bpmn": PROCESS.replace("EXPR", RUNAWAY), "reminder.scenarios.json": scenarios}
    res = post_json(desk, "/processes/test", {"files": files})
    assert time.monotonic() - started < 20
    assert res.status_code == 200
    report = res.get_json()
    assert report["passed"] is False and "time limit" in res.get_data(as_text=True)
    assert desk.get("/processes/").status_code == 200


def test_a_user_with_two_runs_going_gets_a_clear_429(desk, app, tight):
    desk.login("owner1")
    with app.app_context():
        from engine.desk import users

        owner = users.get_user(db.session, "owner1").id
        other = users.get_user(db.session, "admin1").id
        with runs.slot(owner), runs.slot(owner):  # two requests of owner1 still running (any web worker)
            res = post_json(desk, "/processes/validate", {"files": {"r.bpmn": PROCESS.replace("EXPR", "PT5M")}})
            assert res.status_code == 429 and res.headers["Retry-After"]
            assert res.get_json()["error"] == "too_many_runs" and res.get_json()["message"]
            assert post_json(desk, "/processes/test", {"files": {}}).status_code == 429
            with runs.slot(other):  # someone else is not held up
                pass
        with pytest.raises(runs.Busy), runs.slot(owner), runs.slot(owner), runs.slot(owner):
            pass
    ok = post_json(desk, "/processes/validate", {"files": {"r.bpmn": PROCESS.replace("EXPR", "PT5M")}})
    assert ok.status_code == 200  # the slots are free again


def test_a_documentation_template_that_runs_away_shows_as_written(app, tight):
    from webforms.tasks.forms import instructions

    bomb = "{% for i in range(10**7) %}{% for j in range(10**7) %}x{% endfor %}{% endfor %}"
    started = time.monotonic()
    with app.app_context():
        assert instructions(bomb, {}) == bomb
        assert instructions("{{ 'a' * 10**9 }}{{ 'a' * 10**9 }}", {}) == "{{ 'a' * 10**9 }}{{ 'a' * 10**9 }}"
        assert instructions("您好 {{ name }}", {"name": "王工"}) == "您好 王工"
    assert time.monotonic() - started < 15
