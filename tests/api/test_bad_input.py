"""Bad input gets a clear error and changes nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from engine.models import ProcessVersion
from webforms.extensions import db

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="probe" name="探针" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    {body}
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def script(code: str) -> str:
    return GOOD.format(body=f'<bpmn:scriptTask id="work" scriptFormat="python"><bpmn:script><![CDATA[{code}]]></bpmn:script></bpmn:scriptTask>')


def upload(api, files: dict[str, str | bytes]):
    data = {"files": [(io.BytesIO(c.encode() if isinstance(c, str) else c), n) for n, c in files.items()]}
    return api.client.post("/api/definitions", data=data, content_type="multipart/form-data",
                           headers={"Authorization": f"Bearer {api.token('admin1')}"})


def version_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProcessVersion))


def assert_refused(app, api, files, *, element=None, text=None):
    before = version_count(app)
    res = upload(api, files)
    body = res.get_json()
    assert res.status_code == 422, body
    assert body["error"] == "invalid_definition"
    assert body["problems"], body
    if element:
        assert any(p["element"] == element for p in body["problems"]), body
    if text:
        assert any(text in p["message"] for p in body["problems"]), body
    assert version_count(app) == before
    return body


def test_a_good_upload_is_deployed(app, api):
    res = upload(api, {"probe.bpmn": script("x = 1")})
    assert res.status_code == 201
    assert res.get_json()["created"][0]["key"] == "probe"


def test_malformed_bpmn(app, api):
    body = assert_refused(app, api, {"bad.bpmn": GOOD.format(body="<bpmn:task id='work'>")})
    assert body["problems"][0]["file"] == "bad.bpmn"
    assert "line" in body["problems"][0]["message"]


def test_not_bpmn_at_all(app, api):
    assert_refused(app, api, {"x.bpmn": "<html><body>hi</body></html>"})


def test_xxe_is_refused_and_nothing_leaks(app, api):
    xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + GOOD.split("?>", 1)[1].replace(
        'name="探针"', 'name="&x;"').format(body='<bpmn:task id="work"/>')
    body = assert_refused(app, api, {"xxe.bpmn": xxe})
    assert "root:" not in str(body)


def test_entity_bomb_is_refused(app, api):
    lol = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10 if i else "lol"}">' for i in range(10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE d [{lol}]><d>&l9;</d>'
    body = assert_refused(app, api, {"bomb.bpmn": bomb})
    assert "lollol" not in str(body)


def test_unknown_decision(app, api):
    body = GOOD.format(body='<bpmn:businessRuleTask id="work" camunda:decisionRef="no_such_table"/>')
    assert_refused(app, api, {"dmn.bpmn": body}, text="no_such_table")


def test_missing_called_process(app, api):
    assert_refused(app, api, {"call.bpmn": GOOD.format(body='<bpmn:callActivity id="work" calledElement="nowhere"/>')})


@pytest.mark.parametrize("code", [
    "import os",
    "__import__('os').system('touch /tmp/pwned')",
    "open('/etc/passwd').read()",
    "x = ().__class__.__mro__[1].__subclasses__()",
    "x = sla_due.__globals__['os']",
    "x = now.__globals__['__builtins__']",
    "x = getattr(now, '__globals__')",
    "x = '{0.__class__}'.format(1)",
    "exec('x = 1')",
])  # fmt: skip
def test_sandbox_escapes_are_refused_at_deploy(app, api, code):
    assert_refused(app, api, {"probe.bpmn": script(code)}, element="work")


def test_sandbox_refuses_at_run_time_too(app, api):
    # compiles fine, fails in the sandbox: getattr with a computed dunder name
    assert upload(api, {"probe.bpmn": script("name = '__' + 'class__'\nx = getattr(1, name)")}).status_code == 201
    res = api.post("admin1", "/api/processes/probe/instances", json={"data": {}})
    assert res.status_code == 422
    assert res.get_json()["error"] == "script_error"
    assert res.get_json()["element"] == "work"


def test_reserved_keys_never_reach_the_serializer(app, api):
    assert upload(api, {"probe.bpmn": script("y = 2")}).status_code == 201
    res = api.post("admin1", "/api/processes/probe/instances", json={"data": {"typename": "Task", "a": {"typename": 1, "b": 2}}})
    assert res.status_code == 201
    data = api.get("admin1", f"/api/instances/{res.get_json()['id']}").get_json()["data"]
    assert "typename" not in data and data["a"] == {"b": 2}


def test_intake_errors_name_the_fields_and_store_nothing(app, api):
    before = api.get("agent1", "/api/tickets").get_json()["total"]
    res = api.post("agent1", "/api/tickets", json={"type": "nonsense", "channel": "phone"})
    assert res.status_code == 422
    fields = res.get_json()["fields"]
    assert {"type", "title", "description"} <= set(fields)
    assert api.get("agent1", "/api/tickets").get_json()["total"] == before


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"'])
def test_non_object_bodies_are_422(api, body):
    res = api.client.post("/api/tickets", data=body, content_type="application/json",
                          headers={"Authorization": f"Bearer {api.token('agent1')}"})
    assert res.status_code == 422
    assert res.get_json()["error"] == "invalid"


def test_complete_with_bad_data(api):
    number = api.new_ticket()["number"]
    task = api.task("agent1", number, "classify")
    for data in ({"data": "x"}, {}, {"data": {"impact": "huge"}}):
        res = api.post("agent1", f"/api/tasks/{task['id']}/complete", json=data)
        assert res.status_code == 422, res.get_json()
    assert api.ticket(number)["stage"] == ["classify"]


def test_unknown_things_are_404(api):
    assert api.get("agent1", "/api/tickets/INC-19990101-0001").status_code == 404
    assert api.post("agent1", "/api/tasks/999999/complete", json={"data": {}}).status_code == 404
    assert api.get("agent1", "/api/instances/999999").status_code == 404
    assert api.post("admin1", "/api/processes/nope/instances", json={}).status_code == 404


def test_business_rule_task_without_decision_ref(app, api):
    assert_refused(app, api, {"probe.bpmn": GOOD.format(body='<bpmn:businessRuleTask id="work"/>')})


def test_deploy_runs_the_validation_checks(app, api):
    body = GOOD.format(body='<bpmn:userTask id="work" name="无人负责" camunda:candidateGroups="nobody"/>')
    assert_refused(app, api, {"probe.bpmn": body}, element="work")
