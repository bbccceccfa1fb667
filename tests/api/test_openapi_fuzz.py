"""The API does what /api/openapi.json says, under generated input (schemathesis, issue 11).

Every operation of the document is called with examples schemathesis draws from it
(valid ones, and invalid ones that must be refused with a 4xx), as an admin and as
an agent, against real path values (a ticket, its task, an article, …) and generated
ones. Each answer must be no server error, carry a status code the document lists,
and match the documented schema (list shapes, fields, types). Unlisted methods get a
405 with an ``Allow`` header. Examples are derandomized and bounded, so CI sees the same
run every time; the database is the one tests/conftest.py picks (SQLite or PostgreSQL).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webforms.api.openapi import build_spec

EXAMPLES = 6  # per operation, user and mode: 52 operations × 2 users × 2 modes ≈ 1,250 calls
SKIP = {("POST", "/api/alerts"),  # an alert source's token, not a user's: tests/api/test_alerts.py
        # a drawn id can be the caller's own token, which would end the run's calls: tests/api/test_tokens.py
        ("DELETE", "/api/tokens/{token_id}")}
POSITIVE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# invalid input: refused without a server error, with a documented status (the API ignores unknown query
# arguments and fields, as HTTP APIs do, so schemathesis' negative_data_rejection is not asked for)
NEGATIVE = [not_a_server_error, status_code_conformance, content_type_conformance]
MULTIPART = {("POST", "/api/definitions"), ("POST", "/api/tickets/{number}/attachments")}  # positive only: schemathesis
# cannot negate a multipart body (TypeError in its serializer)


def real_values(api) -> dict[str, object]:
    """Path values that exist, so the views get past their lookups."""
    number = api.new_ticket()["number"]
    task = api.task("agent1", number, "classify")
    kb = api.post("lead1", "/api/kb", json={"title": "端口故障", "symptom": "down", "solution": "换模块"}).get_json()
    org = api.post("agent1", "/api/customers", json={"name": "测试单位"}).get_json()
    ann = api.post("lead1", "/api/announcements", json={"title": "通知", "body": "x"}).get_json()
    return {"number": number, "task_id": task["id"], "instance_id": task["instance_id"], "article_id": kb["id"],
            "organisation_id": org["id"], "announcement_id": ann["id"], "key": "service_desk"}


def test_every_api_route_is_documented(app):
    with app.app_context():
        spec = build_spec()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<int:{arg}>", "{%s}" % arg).replace(f"<{arg}>", "{%s}" % arg)
            routes |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented, (routes - documented, documented - routes)


def test_unlisted_methods_are_405_with_allow(app, api):
    with app.app_context():
        spec = build_spec()
    number = api.new_ticket()["number"]
    for path, ops in spec["paths"].items():
        url = path.replace("{number}", number).replace("{key}", "service_desk")
        url = "/".join("1" if part.startswith("{") else part for part in url.split("/"))
        for method in {"get", "post", "put", "patch", "delete"} - set(ops):
            res = api.client.open(url, method=method.upper(), headers={"Authorization": f"Bearer {api.token('admin1')}"})
            assert res.status_code == 405, (method, url, res.status_code)
            allowed = {m.strip().lower() for m in res.headers["Allow"].split(",")}
            assert set(ops) <= allowed, (url, res.headers["Allow"])


def test_the_api_matches_its_openapi_document(app, api):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    values = real_values(api)
    tokens = {user: api.token(user) for user in ("admin1", "agent1")}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        known = {p.name: values[p.name] for p in operation.path_parameters if p.name in values}
        for mode, checks in ((GenerationMode.POSITIVE, POSITIVE), (GenerationMode.NEGATIVE, NEGATIVE)):
            if mode is GenerationMode.NEGATIVE and (operation.method.upper(), operation.path) in MULTIPART:
                continue
            strategy = operation.as_strategy(generation_mode=mode)
            if known and len(known) == len(list(operation.path_parameters)):
                strategy = st.one_of(operation.as_strategy(generation_mode=mode, path_parameters=known), strategy)
            for user, token in tokens.items():
                failure = _run(operation, strategy, checks, token)
                if failure:
                    failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}, {user}]: {failure}")
    assert not failures, "\n\n".join(failures)


def _run(operation, strategy, checks, token) -> str | None:
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case):
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=checks)

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - one report for every operation, not the first
        return f"{type(exc).__name__}: {str(exc)[:1500]}"
    return None
