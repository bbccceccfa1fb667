"""The reports pages: figures with targets (red when missed), the tickets behind each figure,
downloads, the scorecards with the lead's entries and the admin's items, the history import."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
import golden_reporting as golden  # noqa: E402


@pytest.fixture
def golden_app(app):
    with app.app_context():
        from webforms.extensions import db

        golden.load(db.session)
        db.session.commit()
    return app


def test_reports_page_shows_every_figure_and_marks_the_missed(golden_app, desk):
    desk.login("lead1")
    assert desk.get("/reports").status_code == 302
    page = desk.text("/reports?period=2026-10")
    tiles = dict(re.findall(r'class="kpi-tile( kpi-missed)?" data-kpi="(\w+)"', page)[i][::-1] for i in range(11))
    assert tiles["timely_rate"] == " kpi-missed" and tiles["emergency_response"] == " kpi-missed"
    assert tiles["mean_resolution_minutes"] == ""
    assert "75.0%" in page and "6 / 8" in page and "398.8" in page
    assert 'id="report-data"' in page and "dist/reports.js" in page
    assert 'data-dimension="engineer"' in page
    assert "工单及时处理率" in page and "考核评分" in page  # the page speaks Chinese


def test_the_tickets_behind_a_figure(golden_app, desk):
    desk.login("lead1")
    page = desk.text("/reports/tickets?kpi=timely_rate&part=missed&period=2026-10")
    assert re.findall(r">(INC-\d+)</a>", page) == ["INC-02", "INC-09"]
    page = desk.text("/reports/tickets?kpi=callback_rate&part=denominator&period=2026-10&dimension=engineer&null=1")
    assert "INC-03" not in page and "INC-01" in page
    page = desk.text("/reports/tickets?kpi=answer_rate&part=numerator&period=2026-10")
    calls = re.findall(r'<td class="mono">([^<]+)</td>', page)  # the calls' ids (a bare "C2" can be in a token)
    assert "C1" in calls and "C2" not in calls
    assert desk.get("/reports/tickets?kpi=nope&period=2026-10").status_code == 422


def test_downloads_and_roles(golden_app, desk):
    desk.login("lead1")
    res = desk.get("/reports/kpi.csv?period=2026-10")
    assert res.status_code == 200 and "timely_rate" in res.get_data(as_text=True)
    res = desk.get("/reports/scorecard.xlsx?cycle=2026-11")
    assert res.status_code == 200 and res.data[:2] == b"PK"
    assert desk.get("/reports?period=2026-13").status_code == 422
    desk.login("agent1")
    assert desk.get("/reports?period=2026-10").status_code == 403


def test_scorecard_entries_by_the_lead(golden_app, desk):
    desk.login("lead1")
    page = desk.text("/reports/scorecard?cycle=2026-11")
    assert 'data-card="operations"' in page and 'name="evidence"' in page and "Scorecard items" not in page
    res = desk.post("/reports/scorecard/entries", {"item": "maintenance_permit", "happened_on": "2026-10-25",
                                                    "ticket": "INC-06", "evidence": "开工报告缺签字",
                                                    "return_cycle": "2026-11"})
    assert res.status_code == 302 and "cycle=2026-11" in res.headers["Location"]
    page = desk.text("/reports/scorecard?cycle=2026-11")
    assert "开工报告缺签字" in page and re.search(r'data-item="maintenance_permit".*?−5', page, re.S)
    res = desk.post("/reports/scorecard/entries", {"item": "maintenance_permit", "happened_on": "2026-10-25",
                                                    "ticket": "NOPE-1", "evidence": ""}, follow_redirects=True)
    assert "NOPE-1" in res.get_data(as_text=True)
    assert desk.text("/reports/scorecard?cycle=2026-11").count("开工报告缺签字") == 1
    entry = re.search(r"/reports/scorecard/entries/(\d+)/delete", page)[1]
    assert desk.post(f"/reports/scorecard/entries/{entry}/delete", {}).status_code == 302
    assert "开工报告缺签字" not in desk.text("/reports/scorecard?cycle=2026-11")


def test_scorecard_items_by_the_admin(golden_app, desk):
    desk.login("admin1")
    page = desk.text("/reports/scorecard?period=2026-10")
    assert 'id="item-emergency_close"' in page
    res = desk.post("/reports/scorecard/items/emergency_close", {"name": "突发事件及时关单", "points": "10",
                                                                  "per_event": "1", "per_events": "1", "cap": "10",
                                                                  "source": "emergency_close"})
    assert res.status_code == 302
    assert re.search(r"INC-04</a>\s*突发事件及时关单 −1", desk.text("/reports/scorecard?period=2026-10"))
    desk.login("lead1")
    assert desk.post("/reports/scorecard/items/emergency_close", {"points": "5"}).status_code == 403


def test_history_import_with_a_preview(app, desk):
    desk.login("admin1")
    assert "enctype" in desk.text("/reports/import")
    ledger = "工单编号,类型,受理时间,关闭时间\nH-1,事件,2026-10-05 08:00,2026-10-05 08:30\n".encode("utf-8-sig")
    res = desk.post("/reports/import", {"kind": "tickets", "file": (io.BytesIO(ledger), "台账.csv")},
                    content_type="multipart/form-data")
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and "H-1" in page and "2026-10-05 08:00:00" in page
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page)[1]
    res = desk.post("/reports/import/confirm", {"token": token, "kind": "tickets"})
    assert res.status_code == 302
    assert "H-1" in desk.text("/tickets?q=H-1")
    res = desk.post("/reports/import", {"kind": "tickets", "file": (io.BytesIO(ledger), "台账.csv")},
                    content_type="multipart/form-data")
    assert 'name="token"' not in res.get_data(as_text=True)  # already there: nothing to confirm
    bad = "工单编号,类型,受理时间\nH-2,事件,昨天\n".encode()
    res = desk.post("/reports/import", {"kind": "tickets", "file": (io.BytesIO(bad), "bad.csv")},
                    content_type="multipart/form-data")
    assert res.status_code == 422 and "<td>2</td>" in res.get_data(as_text=True)
    assert desk.post("/reports/import/confirm", {"token": "0" * 32, "kind": "tickets"}).status_code == 422
    desk.login("lead1")
    assert desk.get("/reports/import").status_code == 403


def test_pages_in_english(golden_app, desk):
    desk.login("admin1")
    desk.post("/lang", {"lang": "en", "next": "/reports?period=2026-10"})
    page = desk.text("/reports?period=2026-10")
    assert "Handled on time" in page and "Target" in page and "By Resolved by role" in page
    page = desk.text("/reports/scorecard?cycle=2026-11")
    assert "Emergency response" in page and "Scorecard items" in page
