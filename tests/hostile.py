"""Hostile values and the URL map walk shared by the api/ and web/ hostile-input tests (issue 11)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.desk import users
from engine.models import Base, Role
from webforms.extensions import db

NUL = "a\x00b"
LONG = "长" * 50_001  # past every column's limit (the longest is a knowledge article's 50,000)
FIELDS = (
    "a action address amount approve arrived_at assignee audience b backup_done body bpmn_id call_id category "
    "channel cycle data day days departed_at description device_model device_serial dimension email ends_at engineer "
    "evidence files from happened_on id ids impact include instance internal item key kind kpi lang model name next "
    "note notes number occurred_at opens opinion organisation organisation_id contact_id device_id outcome page "
    "part parts password per_page period phone priority q reason reporter_name resolver risky_work satisfaction "
    "scope sender serial shift signature signer_name signer_phone site_id solution sort source stage starts_at "
    "status subject summary tags task text ticket title to to_user token type urgency username valid_until "
    "version version_id week work_done working year"
).split()
TEXTS = {"body", "description", "evidence", "note", "notes", "opinion", "parts", "reason", "solution", "summary", "text",
         "work_done"}  # the free-text fields: past their own limits; every other field past any VARCHAR's
FORM_LONG = {f: "x" * (50_001 if f in TEXTS else 501) for f in FIELDS}  # ASCII: quick to URL-encode
DEEP = "[" * 5000 + "]" * 5000
JSON_BODIES = {
    "nul": {f: NUL for f in FIELDS},
    "nul_keys": {"ti\x00tle": "x", "data": {"de\x00sc": "y"}},
    "long": {f: LONG for f in FIELDS},
    "huge_int": {f: 10**30 for f in FIELDS},
    "negative": {f: -1 for f in FIELDS},
    "list": {f: [NUL] for f in FIELDS},
    "object": {f: {"x": NUL} for f in FIELDS},
    "bool": {f: True for f in FIELDS},
    "float": {f: 1.5e308 for f in FIELDS},
    "nan": {f: float("nan") for f in FIELDS},
    "bad_date": {f: "2026-13-45T99:99:99" for f in FIELDS},
    "nested_data": {"data": json.loads("[" * 30 + "]" * 30), "text": "x"},
}
RAW_BODIES = {"deep": DEEP, "deep_object": '{"a":' * 3000 + "1" + "}" * 3000, "list": "[1, 2]", "string": '"x"',
              "null": "null", "malformed": "{", "nul_escape": '{"text": "\\u0000"}'}
QUERIES = [
    {"page": "99999999999999999999", "per_page": "-1"},
    {"page": "-1", "per_page": "99999999999999999999"},
    {"from": "2026-13-45", "to": "99999-01-01", "q": NUL, "year": "99999999999", "period": "2026-Q9"},
    {"from": "0001-01-01", "to": "9999-12-31", "cycle": "9999-99", "instance": "99999999999999999999", "a": "-1", "b": "1e9"},
    {f: LONG[:5000] for f in ("q", "status", "type", "priority", "organisation", "holder", "scope", "sort", "key")},
]
SERVER_ERROR = 500


@pytest.fixture
def everyone(app):
    """A user holding every role, so each endpoint's own checks run instead of a 403."""
    with app.app_context():
        roles = list(db.session.scalars(select(Role.code)))
        users.add_user(db.session, "super1", "demo", roles, display_name="全能")
        db.session.commit()
    return "super1"


def counts(app) -> dict[str, int]:
    """Rows per table, except those a refused request may rightly write (failed sign-ins)."""
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables if t.name not in ("user",)}


def resources(app, api, user) -> dict[str, str]:
    """Real values for path parameters, so the views get past their lookups."""
    number = api.new_ticket()["number"]
    task = api.task("agent1", number, "classify")
    kb = api.post(user, "/api/kb", json={"title": "端口故障", "symptom": "down", "solution": "换模块"}).get_json()
    org = api.post(user, "/api/customers", json={"name": "测试单位"}).get_json()
    ann = api.post(user, "/api/announcements", json={"title": "通知", "body": "x"}).get_json()
    return {
        "number": number, "task_id": str(task["id"]), "article_id": str(kb.get("id", 1)),
        "organisation_id": str(org.get("id", 1)), "announcement_id": str(ann.get("id", 1)),
        "instance_id": str(task["instance_id"]), "key": "service_desk", "kind": "assignment", "fmt": "csv",
        "what": "contact", "action": "publish", "step": "sign", "name": "service_desk.bpmn", "day": "2026-10-01",
        "item_id": "x",
    }


def path_of(rule, values: dict[str, str], *, hostile: str | None = None) -> str:
    parts = {}
    for arg in rule.arguments:
        value = values.get(arg, "1")
        if rule._converters[arg].__class__.__name__ == "IdConverter" and not value.isdigit():
            value = "1"
        parts[arg] = hostile if hostile is not None else value
    path = rule.rule
    for arg, value in parts.items():
        path = path.replace(f"<{arg}>", value)
        for conv in ("int", "path", "any"):
            start = path.find(f"<{conv}")
            while start != -1 and f":{arg}>" in path[start:path.find(">", start) + 1]:
                path = path[:start] + value + path[path.find(">", start) + 1:]
                start = path.find(f"<{conv}")
    return path



class Failures(list):
    """What went wrong, collected over a whole walk of the URL map (one report, not the first failure)."""

    def check(self, what: str, call):
        try:
            res = call()
        except Exception as exc:  # noqa: BLE001 - TESTING propagates what would be a 500
            self.append(f"{what[:150]}: raised {type(exc).__name__}: {str(exc)[:200]}")
            return
        if res.status_code >= SERVER_ERROR:
            self.append(f"{what[:150]}: {res.status_code}")
        return res
