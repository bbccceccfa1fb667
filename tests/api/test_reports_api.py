"""GET /api/kpi and /api/scorecard: the report JSON for leads and admins, 422 for a bad period."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
import golden_reporting as golden  # noqa: E402


def test_kpi_and_scorecard(app, api):
    with app.app_context():
        from webforms.extensions import db

        golden.load(db.session)
        db.session.commit()
    res = api.get("lead1", "/api/kpi?period=2026-10")
    assert res.status_code == 200, res.get_json()
    report = res.get_json()
    assert report["timely_rate"] == {"numerator": 6, "denominator": 8, "value": 0.75}
    assert report["emergency_close"] == {"count": 2, "violations": 1, "tickets": ["INC-04"]}
    assert [c["id"] for c in report["scorecards"]] == ["operations", "customer_service"]
    res = api.get("admin1", "/api/scorecard?cycle=2026-11")
    assert res.status_code == 200 and res.get_json()["period"]["from"] == "2026-10-21"
    assert api.get("lead1", "/api/kpi?from=2026-10-06&to=2026-10-06").get_json()["timely_rate"]["numerator"] == 0
    assert "/api/kpi" in api.get("lead1", "/api/openapi.json").get_json()["paths"]


def test_bad_periods_and_roles(api):
    res = api.get("lead1", "/api/kpi?period=2026-13")
    assert res.status_code == 422 and res.get_json()["fields"]["period"]
    res = api.get("lead1", "/api/scorecard?cycle=x")
    assert res.status_code == 422 and "cycle" in res.get_json()["fields"]
    assert api.get("agent1", "/api/kpi?period=2026-10").status_code == 403
