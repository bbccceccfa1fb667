"""Announcements (公告): publish with a validity period, shown while valid, withdrawn."""

from __future__ import annotations

from datetime import datetime, timezone

import time_machine


def test_valid_announcements_show_and_expire(api):
    with time_machine.travel(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc), tick=False):
        res = api.post("lead1", "/api/announcements", json={
            "title": "元旦假期值班安排", "body": "1 月 1 日至 3 日 7×24 值班", "starts_at": "2026-12-01T08:00:00+08:00",
            "ends_at": "2027-01-04T00:00:00+08:00"})
        assert res.status_code == 201, res.get_json()
        api.post("admin1", "/api/announcements", json={"title": "机房断电检修", "starts_at": "2026-12-05T08:00:00+08:00",
                                                       "ends_at": "2026-12-05T18:00:00+08:00", "audience": "customers"})
        assert [a["title"] for a in api.get("eng1", "/api/announcements").get_json()["items"]] == ["元旦假期值班安排"]
        assert len(api.get("eng1", "/api/announcements?all=1").get_json()["items"]) == 2
    with time_machine.travel(datetime(2027, 1, 5, tzinfo=timezone.utc), tick=False):
        assert api.get("eng1", "/api/announcements").get_json()["items"] == []


def test_withdraw_and_permissions(api):
    assert api.post("agent1", "/api/announcements", json={"title": "x"}).status_code == 403
    row = api.post("lead1", "/api/announcements", json={"title": "系统升级"}).get_json()
    assert [a["id"] for a in api.get("agent1", "/api/announcements").get_json()["items"]] == [row["id"]]
    assert api.post("lead1", f"/api/announcements/{row['id']}/withdraw").status_code == 200
    assert api.get("agent1", "/api/announcements").get_json()["items"] == []


def test_bad_announcements_are_422(api):
    for body, key in (({}, "title"), ({"title": "t", "audience": "martians"}, "audience"),
                      ({"title": "t", "starts_at": "明天"}, "starts_at"),
                      ({"title": "t", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-01T10:00"}, "ends_at")):
        res = api.post("lead1", "/api/announcements", json=body)
        assert res.status_code == 422 and key in res.get_json()["fields"], body
    assert api.get("lead1", "/api/announcements?all=1").get_json()["items"] == []
