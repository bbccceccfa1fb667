"""Every form page, fed hostile values, answers without a server error and stores no NUL (issue 11).

The page twin of tests/api/test_hostile_input.py (whose values and helpers it uses):
every page route of the URL map gets NUL characters and overlong text in every
field name the views read, out-of-range numbers in its path, and bad paging and
date arguments; a task form with a bad value re-renders with the field's error.
"""

from __future__ import annotations

import pytest

from hostile import FIELDS, FORM_LONG, NUL, QUERIES, Failures, counts, everyone, path_of, resources  # noqa: F401


def page_rules(app):
    return [r for r in app.url_map.iter_rules() if not r.rule.startswith(("/api/", "/static"))]


def test_every_form_page_refuses_hostile_values(app, desk, api, everyone):
    values = resources(app, api, everyone)
    failures = Failures()
    for rule in page_rules(app):
        for method in sorted(rule.methods & {"GET", "POST"}):
            if rule.endpoint in ("auth.logout", "portal.logout"):
                continue
            desk.login(everyone)
            path = path_of(rule, values)
            if method == "GET":
                for query in QUERIES:
                    failures.check(f"GET {path} {list(query)}", lambda: desk.get(path, query_string=query))
                for hostile in ("99999999999999999999", "%00") if rule.arguments else ():
                    bad = path_of(rule, values, hostile=hostile)
                    failures.check(f"GET {bad}", lambda: desk.get(bad))
                continue
            for case in ("nul", "long"):
                form = {f: NUL for f in FIELDS} if case == "nul" else FORM_LONG
                before = counts(app)
                res = failures.check(f"POST {path} {case}", lambda: desk.post(path, form))
                if res is not None and res.status_code < 400 and counts(app) != before and case == "nul":
                    failures.append(f"POST {path} {case}: stored a NUL ({res.status_code})")
            for hostile in ("99999999999999999999", "%00") if rule.arguments else ():
                bad = path_of(rule, values, hostile=hostile)
                failures.check(f"POST {bad}", lambda: desk.post(bad, {"text": "x"}))
    assert not failures, "\n".join(failures)


INTAKE = {"type": "incident", "channel": "phone", "title": "核心交换机端口故障", "reporter_name": "王工",
          "organisation": "市人民医院信息科", "phone": "13800000000", "occurred_at": "2026-11-23T08:30"}


@pytest.mark.parametrize(("description", "message"), [(NUL, "空字符"), ("长" * 20_001, "最多 20000 个字符")])
def test_the_intake_form_with_a_bad_value_re_renders_with_the_fields_error(desk, api, description, message):
    before = api.get("agent1", "/api/tickets").get_json()["total"]
    desk.login("agent1")
    res = desk.post("/tickets/new", {**INTAKE, "description": description})
    assert res.status_code == 422
    page = res.get_data(as_text=True)
    assert 'name="description"' in page and message in page
    assert api.get("agent1", "/api/tickets").get_json()["total"] == before
