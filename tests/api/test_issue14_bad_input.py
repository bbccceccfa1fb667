"""Junk sent to the notes, customer, knowledge, on-site and announcement endpoints never
causes a 500: a 4xx JSON error with a message, and a body that is not an object is always refused.
(Bodies that are objects may be valid for some endpoints, e.g. an empty link unlinks; the
field-by-field 422s are tested with each resource.)"""

from __future__ import annotations

import pytest

JUNK = [None, [], "text", 5, {"text": {"x": 1}}, {"name": ["a"]}, {"title": None}, {"contacts": [5]},
        {"devices": [{"model": 7}]}, {"arrived_at": 5, "work_done": []}, {"signature": 5, "signer_name": {}},
        {"ticket": 5}, {"starts_at": [], "title": "t"}, {"internal": "nope", "text": "x"}, {"valid_until": 12}]


@pytest.mark.parametrize("body", JUNK, ids=range(len(JUNK)))
def test_junk_bodies_are_refused_clearly(api, body):
    number = api.new_ticket()["number"]
    api.dispatch(number)  # eng1's ticket, so eng1 may write its on-site record (issue 11)
    org = api.post("agent1", "/api/customers", json={"name": "单位"}).get_json()
    article = api.post("lead1", "/api/kb", json={"title": "t"}).get_json()
    record = api.post("eng1", f"/api/tickets/{number}/onsite",
                      json={"arrived_at": "2026-11-24T09:00:00+08:00", "work_done": "w"}).get_json()
    calls = [
        ("agent1", "post", f"/api/tickets/{number}/notes"),
        ("agent1", "post", "/api/customers"),
        ("agent1", "put", f"/api/customers/{org['id']}"),
        ("agent1", "post", f"/api/tickets/{number}/customer"),
        ("agent1", "post", "/api/kb"),
        ("lead1", "put", f"/api/kb/{article['id']}"),
        ("lead1", "post", f"/api/kb/{article['id']}/publish"),
        ("agent1", "post", f"/api/kb/{article['id']}/use"),
        ("eng1", "post", f"/api/tickets/{number}/onsite"),
        ("eng1", "put", f"/api/onsite/{record['id']}"),
        ("eng1", "post", f"/api/onsite/{record['id']}/sign"),
        ("lead1", "post", "/api/announcements"),
    ]
    for user, method, path in calls:
        res = getattr(api.client, method)(path, json=body, headers={"Authorization": f"Bearer {api.token(user)}"})
        assert res.status_code < 500, (path, body, res.get_data(as_text=True)[:300])
        if res.status_code >= 400:
            assert res.get_json()["message"], (path, body)
        elif body is not None and not isinstance(body, dict):  # None: the client sends no body at all
            raise AssertionError(f"{path} accepted a body that is not an object: {body!r}")
