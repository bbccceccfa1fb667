"""Every form and API endpoint, fed hostile values, answers 4xx and changes nothing (issue 11).

NUL characters (PostgreSQL refuses them), text longer than any column, numbers
past what a column holds, wrong JSON types, malformed dates, JSON nested thousands
deep, bodies that are not objects, and out-of-range numbers in paths and paging
arguments: none of it may become a server error, on SQLite or on PostgreSQL
(tests/conftest.py picks the database). The routes come from the app's URL map,
so a new endpoint is covered the day it is added.
"""

from __future__ import annotations

import pytest

from hostile import DEEP, JSON_BODIES, LONG, NUL, QUERIES, RAW_BODIES, Failures, counts, everyone, path_of, resources  # noqa: F401


def api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]


def test_every_api_endpoint_refuses_hostile_json(app, api, everyone):
    values = resources(app, api, everyone)
    headers = {"Authorization": f"Bearer {api.token(everyone)}"}
    failures = Failures()
    for rule in api_rules(app):
        methods = rule.methods & {"POST", "PUT"}
        path = path_of(rule, values)
        for method in sorted(methods):
            if rule.endpoint == "api.receive_alerts":
                continue  # an alert source's token; tests/api/test_alerts.py feeds it bad bodies
            send = getattr(api.client, method.lower())
            for case, body in JSON_BODIES.items():
                before = counts(app)
                res = failures.check(f"{method} {path} {case}", lambda: send(path, json=body, headers=headers))
                if res is not None and case in ("nul", "nul_keys", "long") and rule.endpoint != "api.create_token":
                    text = res.get_data(as_text=True)
                    if res.status_code < 400 and ("\\u0000" in text or NUL in text or LONG[:1000] in text):
                        failures.append(f"{method} {path} {case}: accepted ({res.status_code})")
                    elif res.status_code >= 400 and counts(app) != before:
                        failures.append(f"{method} {path} {case}: refused with {res.status_code} but stored something")
                if res is not None and case == "nul" and res.status_code == 422:
                    assert res.get_json()["fields"], (path, res.get_json())
            for case, raw in RAW_BODIES.items():
                res = failures.check(f"{method} {path} raw {case}", lambda: send(
                    path, data=raw, content_type="application/json", headers=headers))
                if res is not None and case in ("deep", "deep_object", "list", "string", "nul_escape") and res.status_code < 400:
                    failures.append(f"{method} {path} raw {case}: accepted ({res.status_code})")
    assert not failures, "\n".join(failures)


def test_every_api_endpoint_takes_hostile_paths_and_queries(app, api, everyone):
    values = resources(app, api, everyone)
    headers = {"Authorization": f"Bearer {api.token(everyone)}"}
    failures = Failures()
    for rule in api_rules(app):
        for method in sorted(rule.methods & {"GET", "POST", "PUT"}):
            send = getattr(api.client, method.lower())
            if rule.arguments:
                for hostile in ("99999999999999999999", "-1", "%00", "0", "9223372036854775808"):
                    path = path_of(rule, values, hostile=hostile)
                    failures.check(f"{method} {path}", lambda: send(path, json={}, headers=headers))
            if method == "GET":
                path = path_of(rule, values)
                for query in QUERIES:
                    failures.check(f"GET {path} {list(query)}", lambda: send(path, query_string=query, headers=headers))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", ["/api/tickets/99999999999999999999", "/api/tickets/-1", "/api/tasks/-1",
                                  "/api/tasks/99999999999999999999", "/api/instances/2147483648", "/api/kb/%00"])
def test_out_of_range_numbers_in_paths_are_not_found(api, path):
    assert api.get("agent1", path).status_code == 404


@pytest.mark.parametrize(("method", "path"), [("PUT", "/api/onsite/5640884597"), ("PUT", "/api/kb/2147483648"),
                                            ("GET", "/api/onsite/5640884597")])
def test_an_id_past_the_column_is_not_found_whatever_the_method(api, method, path):
    """Not 405: another method's rule on the same path must not turn a missing row into "method not allowed"."""
    res = api.client.open(path, method=method, json={}, headers=api._headers("admin1"))
    assert res.status_code == 404, res.get_data(as_text=True)


@pytest.mark.parametrize("query", ["page=99999999999999999999", "per_page=-1", "page=0", "per_page=x", "from=2026-13-45",
                                   "to=1-1-1", "q=a%00b"])
def test_bad_paging_and_dates_are_422_naming_the_argument(api, query):
    res = api.get("agent1", "/api/tickets?" + query)
    assert res.status_code == 422, res.get_json()
    assert query.split("=")[0] in res.get_json()["fields"]


def test_nul_and_overlong_text_name_the_field_and_store_nothing(app, api):
    before = api.get("agent1", "/api/tickets").get_json()["total"]
    res = api.post("agent1", "/api/tickets", json={"type": "incident", "channel": "phone", "title": "t", "description": NUL})
    assert res.status_code == 422 and "description" in res.get_json()["fields"], res.get_json()
    ticket = {"type": "incident", "channel": "phone", "title": "t", "description": "d" * 20_001, "reporter_name": "王工",
              "organisation": "市人民医院信息科", "phone": "13800000000", "occurred_at": "2026-11-23T08:30:00+08:00"}
    res = api.post("agent1", "/api/tickets", json=ticket)
    assert res.status_code == 422 and "description" in res.get_json()["fields"], res.get_json()
    res = api.post("agent1", "/api/tickets", json={**ticket, "description": "d", "title": "t" * 301})
    assert res.status_code == 422 and "title" in res.get_json()["fields"], res.get_json()
    assert api.get("agent1", "/api/tickets").get_json()["total"] == before


def test_deeply_nested_json_is_422(api):
    res = api.client.post("/api/tickets", data=DEEP, content_type="application/json",
                          headers={"Authorization": f"Bearer {api.token('agent1')}"})
    assert res.status_code == 422 and "nested" in res.get_json()["message"]
