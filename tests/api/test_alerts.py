"""Monitoring alarms: Alertmanager's webhook body as it is, tokens per source, one ticket per fingerprint."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from click.testing import CliRunner

from engine.models import Alarm, AlertSource, Inbound, Ticket, TicketNote
from webforms.cli import main

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # a Tuesday, 10:00 in Beijing

# An Alertmanager v4 webhook body, shaped as Alertmanager documents and sends it
# (prometheus.io/docs/alerting/latest/configuration/#webhook_config): nanosecond times,
# the zero endsAt of a firing alert, groupKey, truncatedAlerts.
ALERTMANAGER = {
    "receiver": "service-desk",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "NodeDown",
                "instance": "10.20.1.15:9100",
                "job": "node",
                "severity": "critical",
                "organisation": "市人民医院信息科",
                "category": "server",
                "device_model": "华为 RH2288H V3",
                "device_serial": "2102310YPY10J4000123",
            },
            "annotations": {
                "summary": "HIS 数据库服务器 10.20.1.15 宕机",
                "description": "10.20.1.15:9100 已 5 分钟无法采集（up == 0）",
            },
            "startsAt": "2026-11-24T01:55:03.157076123Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.cn:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
            "fingerprint": "c6eadffa33fcdf37",
        }
    ],
    "groupLabels": {"alertname": "NodeDown"},
    "commonLabels": {"alertname": "NodeDown", "job": "node", "severity": "critical"},
    "commonAnnotations": {"summary": "HIS 数据库服务器 10.20.1.15 宕机"},
    "externalURL": "http://alertmanager.example.cn:9093",
    "version": "4",
    "groupKey": '{}:{alertname="NodeDown"}',
    "truncatedAlerts": 0,
}


def payload(severity: str = "critical", status: str = "firing", fingerprint: str = "c6eadffa33fcdf37",
            ends_at: str = "0001-01-01T00:00:00Z", starts_at: str | None = None) -> dict:
    body = copy.deepcopy(ALERTMANAGER)
    alert = body["alerts"][0]
    alert["labels"]["severity"] = body["commonLabels"]["severity"] = severity
    alert["status"] = body["status"] = status
    alert["fingerprint"] = fingerprint
    alert["endsAt"] = ends_at
    if starts_at:
        alert["startsAt"] = starts_at
    return body


@pytest.fixture
def token(app) -> str:
    """A source added with the contract's command: ``desk alert-source add NAME`` prints its token."""
    result = CliRunner().invoke(
        main, ["alert-source", "add", "prometheus-prod", "--organisation", "运维监控中心", "--email", "noc@example.cn"],
        env={"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}, catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output.strip()


def post(client, token: str, body, **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/api/alerts", data=data, content_type="application/json",
                       headers={"Authorization": f"Bearer {token}", **headers})


def count(db_session, model) -> int:
    return db_session.query(model).count()


def test_the_source_token_is_printed_once_and_only_its_hash_is_kept(token, db_session):
    source = db_session.query(AlertSource).one()
    assert token.startswith("alrt_") and len(token) > 30
    assert source.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps([source.name, source.token_hash])


def test_an_alertmanager_alarm_opens_a_classified_monitoring_ticket(client, api, token):
    with time_machine.travel(T0, tick=False):
        res = post(client, token, payload("critical"))
    assert res.status_code == 202, res.get_json()
    body = res.get_json()
    [number] = body["tickets"]
    assert body["alerts"] == [{"fingerprint": "c6eadffa33fcdf37", "status": "firing", "ticket": number, "action": "created"}]
    ticket = api.ticket(number)
    assert ticket["channel"] == "monitoring" and ticket["type"] == "incident"
    assert ticket["priority"] == "P1"  # critical → high × high in alerts.dmn → P1 in priority.dmn
    assert ticket["title"] == "HIS 数据库服务器 10.20.1.15 宕机"
    assert ticket["organisation"] == "市人民医院信息科" and ticket["email"] == "noc@example.cn"
    assert ticket["qualified"], ticket["missing_fields"]  # a server alarm: the labels name the device too
    assert ticket["device_serial"] == "2102310YPY10J4000123"
    assert ticket["occurred_at"].startswith("2026-11-24T01:55:03")
    # P1: 15 min from the occurrence, the alert's startsAt (issue 8: a P1's response runs from when it occurred)
    assert ticket["sla"]["response"]["due_at"] == "2026-11-24T02:10:03.157076+00:00"
    assert [t["bpmn_id"] for t in ticket["open_tasks"]] == ["online_fix"]
    done = [(h["action"], h.get("bpmn_id"), h["actor"]) for h in ticket["history"]]
    assert ("create_ticket", "intake", "monitoring:prometheus-prod") in done
    assert ("complete", "classify", "monitoring:prometheus-prod") in done


def test_a_firing_alert_may_carry_the_time_it_would_lapse(client, token):
    """Prometheus sends firing alerts with endsAt in the future (now + a few evaluation intervals)."""
    with time_machine.travel(T0, tick=False):
        res = post(client, token, payload(ends_at="2026-11-24T02:04:03.157Z"))
    assert res.status_code == 202, res.get_json()


@pytest.mark.parametrize("severity, priority", [("warning", "P3"), ("high", "P2"), ("info", "P4"), ("", "P4")])
def test_severity_maps_to_priority_through_the_table(client, api, token, severity, priority):
    with time_machine.travel(T0, tick=False):
        res = post(client, token, payload(severity))
    assert res.status_code == 202, res.get_json()
    assert api.ticket(res.get_json()["tickets"][0])["priority"] == priority


def test_a_repeat_is_counted_on_the_open_ticket_not_duplicated(client, api, token, db_session):
    with time_machine.travel(T0, tick=False):
        first = post(client, token, payload()).get_json()["tickets"][0]
    with time_machine.travel(T0 + timedelta(hours=4), tick=False):  # Alertmanager's repeat_interval
        res = post(client, token, payload())
    assert res.status_code == 202, res.get_json()
    assert res.get_json()["tickets"] == [first]
    assert res.get_json()["alerts"][0]["action"] == "repeated"
    assert count(db_session, Ticket) == 1
    assert db_session.query(Alarm).one().repeats == 1
    assert "alert_repeated" in [h["action"] for h in api.ticket(first)["history"]]


def test_a_resolved_warning_resolves_its_ticket(client, api, token):
    with time_machine.travel(T0, tick=False):
        number = post(client, token, payload("warning")).get_json()["tickets"][0]
    with time_machine.travel(T0 + timedelta(minutes=20), tick=False):
        res = post(client, token, payload("warning", "resolved", ends_at="2026-11-24T02:19:00Z"))
    assert res.status_code == 202, res.get_json()
    assert res.get_json()["alerts"][0]["action"] == "resolved"
    ticket = api.ticket(number)
    assert ticket["status"] == "resolved" and ticket["resolved_by"] == "monitoring:prometheus-prod"
    assert "告警已恢复" in ticket["solution"]
    assert [t["bpmn_id"] for t in ticket["open_tasks"]] == ["callback"]
    assert "alert_resolved" in [h["action"] for h in ticket["history"]]


def test_a_recovery_on_the_back_line_still_needs_the_pm_and_the_desk_to_confirm(client, api, token):
    """Issue 8: what an engineer resolves, the PM and then the desk confirm; a recovery resolves, never confirms."""
    with time_machine.travel(T0, tick=False):
        number = post(client, token, payload("warning")).get_json()["tickets"][0]
        api.complete("agent1", number, "online_fix", outcome="dispatch")
        api.complete("pm1", number, "pm_assign", assign_to="engineer", engineer="eng1")  # a server: infrastructure PM
    ticket = api.ticket(number)
    assert [t["bpmn_id"] for t in ticket["open_tasks"]] == ["engineer"]
    with time_machine.travel(T0 + timedelta(minutes=40), tick=False):
        res = post(client, token, payload("warning", "resolved", ends_at="2026-11-24T02:39:00Z"))
    assert res.get_json()["alerts"][0]["action"] == "resolved"
    ticket = api.ticket(number)
    assert ticket["status"] == "resolved" and ticket["resolved_role"] == "engineer"
    assert [t["bpmn_id"] for t in ticket["open_tasks"]] == ["pm_confirm"]
    api.complete("pm1", number, "pm_confirm", pm_confirmed="confirmed")
    api.complete("agent1", number, "desk_confirm", desk_confirmed="confirmed")
    assert [t["bpmn_id"] for t in api.ticket(number)["open_tasks"]] == ["callback"]


def test_a_resolved_critical_alarm_is_only_noted(client, api, token, db_session):
    with time_machine.travel(T0, tick=False):
        number = post(client, token, payload("critical")).get_json()["tickets"][0]
    with time_machine.travel(T0 + timedelta(minutes=20), tick=False):
        res = post(client, token, payload("critical", "resolved", ends_at="2026-11-24T02:19:00Z"))
    assert res.get_json()["alerts"][0]["action"] == "noted"
    ticket = api.ticket(number)
    assert ticket["status"] == "open" and [t["bpmn_id"] for t in ticket["open_tasks"]] == ["online_fix"]
    assert "alert_resolved" in [h["action"] for h in ticket["history"]]
    assert db_session.query(Alarm).one().status == "resolved"
    [note] = db_session.query(TicketNote).all()
    assert note.internal and note.text.startswith("告警已恢复（2026-11-24 10:19:00）")


def test_a_new_firing_after_recovery_opens_a_new_ticket_but_an_old_one_is_quarantined(client, token, db_session):
    with time_machine.travel(T0, tick=False):
        first = post(client, token, payload("info")).get_json()["tickets"][0]
    with time_machine.travel(T0 + timedelta(minutes=20), tick=False):
        post(client, token, payload("info", "resolved", ends_at="2026-11-24T02:19:00Z"))
        stale = post(client, token, payload("info", starts_at="2026-11-24T02:05:00Z"))  # started before the recovery
    assert stale.status_code == 202 and stale.get_json()["alerts"][0]["action"] == "replayed"
    assert stale.get_json()["tickets"] == []
    quarantined = db_session.query(Inbound).filter_by(outcome="quarantined").one()
    assert "c6eadffa33fcdf37" in quarantined.reason and b"NodeDown" in quarantined.payload
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        again = post(client, token, payload("info", starts_at="2026-11-24T03:58:00Z"))
    assert again.get_json()["alerts"][0]["action"] == "created"
    assert again.get_json()["tickets"][0] != first
    assert count(db_session, Ticket) == 2


def test_the_same_request_again_is_refused_as_a_replay(client, token, db_session):
    with time_machine.travel(T0, tick=False):
        assert post(client, token, payload()).status_code == 202
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        res = post(client, token, payload())
    assert res.status_code == 409 and res.get_json()["error"] == "replayed"
    assert count(db_session, Ticket) == 1 and db_session.query(Alarm).one().repeats == 0


def test_a_generic_json_alert(client, api, token):
    generic = {"source": "zabbix", "host": "core-sw-01", "severity": "warning", "summary": "核心交换机 CPU 90%",
               "fingerprint": "zbx-10086"}
    with time_machine.travel(T0, tick=False):
        res = post(client, token, generic)
    assert res.status_code == 202, res.get_json()
    ticket = api.ticket(res.get_json()["tickets"][0])
    assert ticket["channel"] == "monitoring" and ticket["priority"] == "P3"
    assert "host=core-sw-01" in ticket["description"] and ticket["title"] == "核心交换机 CPU 90%"


@pytest.mark.parametrize("body, status, field", [
    (b'{"version": "4", "alerts": [', 422, None),
    (json.dumps({**ALERTMANAGER, "version": "3"}), 422, "version"),
    (json.dumps({**ALERTMANAGER, "alerts": [{**ALERTMANAGER["alerts"][0], "fingerprint": ""}]}), 422, "alerts[0].fingerprint"),
    (json.dumps({**ALERTMANAGER, "alerts": [{**ALERTMANAGER["alerts"][0], "startsAt": "yesterday"}]}), 422, "alerts[0].startsAt"),
    (json.dumps({**ALERTMANAGER, "alerts": [{**ALERTMANAGER["alerts"][0], "startsAt": "2027-01-01T00:00:00Z"}]}), 422, "alerts[0].startsAt"),
    (json.dumps({**ALERTMANAGER, "alerts": [{**ALERTMANAGER["alerts"][0], "status": "pending"}]}), 422, "alerts[0].status"),
    (json.dumps({**ALERTMANAGER, "alerts": [ALERTMANAGER["alerts"][0], {"status": "firing"}]}), 422, "alerts[1].fingerprint"),
    (json.dumps({"severity": "critical"}), 422, "summary"),
    (json.dumps([1, 2]), 422, "[0]"),
    (b"x" * (300 * 1024), 413, None),
])  # fmt: skip
def test_bad_requests_get_a_clear_error_and_leave_nothing(client, token, db_session, body, status, field):
    with time_machine.travel(T0, tick=False):
        res = post(client, token, body)
    assert res.status_code == status, res.get_json()
    assert res.get_json()["message"]
    if field:
        assert field in res.get_json()["fields"]
    assert count(db_session, Ticket) == 0 and count(db_session, Alarm) == 0 and count(db_session, Inbound) == 0


def test_a_half_good_request_makes_no_ticket_at_all(client, token, db_session):
    body = payload()
    body["alerts"].append({**body["alerts"][0], "fingerprint": "second", "labels": {"severity": "warning"},
                           "annotations": {}})
    with time_machine.travel(T0, tick=False):
        res = post(client, token, body)
    assert res.status_code == 422 and "alerts[1].labels" in res.get_json()["fields"]  # no alertname, no summary
    assert count(db_session, Ticket) == 0


@pytest.mark.parametrize("header", ["", "Bearer nope", "Basic abc"])
def test_without_a_source_token_nothing_is_accepted(client, token, db_session, header):
    res = client.post("/api/alerts", json=payload(), headers={"Authorization": header} if header else {})
    assert res.status_code == 401 and res.get_json()["error"] == "unauthorized"
    assert count(db_session, Ticket) == 0


def test_a_staff_token_is_not_an_alert_source_token(client, api, token):
    res = post(client, api.token("admin1"), payload())
    assert res.status_code == 401


def test_a_source_is_throttled(app, client, token, db_session):
    app.config["DESK_ALERT_RATE"] = 2
    with time_machine.travel(T0, tick=False):
        codes = [post(client, token, payload(fingerprint=f"fp{i}")).status_code for i in range(3)]
    assert codes == [202, 202, 429]
    assert count(db_session, Ticket) == 2
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        assert post(client, token, payload(fingerprint="fp9")).status_code == 202


def _properties(spec: dict, name: str) -> set[str]:
    return set(spec["components"]["schemas"][name]["properties"])


def test_the_openapi_document_describes_alerts_as_they_are(client, token):
    spec = client.get("/api/openapi.json").get_json()
    op = spec["paths"]["/api/alerts"]["post"]
    assert set(op["responses"]) == {"202", "401", "409", "413", "422", "429"} and op["security"] == [{"alertSource": []}]
    shapes = spec["components"]["schemas"]["AlertRequest"]["oneOf"]
    assert shapes[0] == {"$ref": "#/components/schemas/AlertmanagerWebhook"} and shapes[2]["type"] == "array"
    assert {"version", "alerts"} <= set(spec["components"]["schemas"]["AlertmanagerWebhook"]["required"])
    with time_machine.travel(T0, tick=False):
        created = post(client, token, payload("warning")).get_json()
        refused = post(client, token, {"summary": ""}).get_json()
    with time_machine.travel(T0 + timedelta(hours=4), tick=False):
        repeated = post(client, token, payload("warning")).get_json()
    assert set(created) == _properties(spec, "AlertResult")
    for body in (created, repeated):
        assert set(body["alerts"][0]) <= _properties(spec, "AlertOutcome"), body
    assert repeated["alerts"][0]["action"] == "repeated"
    assert set(refused) <= _properties(spec, "Error") | {"fields"} and refused["error"] == "invalid"


def test_the_openapi_document_describes_portal_accounts_as_they_are(client, api):
    spec = client.get("/api/openapi.json").get_json()
    op = spec["paths"]["/api/portal-accounts"]["post"]
    assert set(op["responses"]) == {"201", "401", "403", "404", "409", "422"}
    assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PortalAccountRequest"}
    api.post("agent1", "/api/customers", json={"name": "市第二中学", "contacts": [{"name": "赵老师", "email": "zhao@school.example.cn"}]})
    res = api.post("agent1", "/api/portal-accounts", json={"email": "Zhao@School.example.cn"})
    assert res.status_code == 201 and set(res.get_json()) == _properties(spec, "PortalAccount")
    missing = api.post("agent1", "/api/portal-accounts", json={})
    assert missing.status_code == 422 and "email" in missing.get_json()["fields"]
