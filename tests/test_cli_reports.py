"""``desk report kpi|scorecard`` over the golden dataset, and ``desk import`` from files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ON_POSTGRES

from webforms import create_app
from webforms.cli import main
from webforms.extensions import db

sys.path.insert(0, str(Path(__file__).parent / "engine"))
import golden_reporting as golden  # noqa: E402

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="the CLI tests make their own SQLite databases")


@pytest.fixture
def desk(tmp_path):
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"

    def invoke(*args: str, input: str | None = None, **env: str):
        return runner.invoke(main, list(args), env={"DATABASE_URL": url, **env}, input=input, catch_exceptions=False)

    assert invoke("init", "--no-deploy").exit_code == 0
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        golden.load(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return invoke


def test_report_kpi_json(desk):
    result = desk("report", "kpi", "--period", "2026-10")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    expected = {"period", "timely_rate", "emergency_response", "emergency_close", "satisfaction_rate", "callback_rate",
                "dispatch_success_rate", "qualified_rate", "completeness_rate", "completion_rate",
                "mean_resolution_minutes", "answer_rate", "satisfaction_counts", "scorecards", "breakdowns"}
    assert expected <= set(report)
    assert report["period"]["from"] == "2026-10-01" and report["period"]["to"] == "2026-10-31"
    assert report["timely_rate"] == {"numerator": 6, "denominator": 8, "value": 0.75}
    assert report["mean_resolution_minutes"] == 398.8
    assert [c["id"] for c in report["scorecards"]] == ["operations", "customer_service"]


def test_report_scorecard_by_cycle_and_range(desk, tmp_path):
    result = desk("report", "scorecard", "--cycle", "2026-11")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"period", "scorecards"}
    ops = {i["id"]: i for i in report["scorecards"][0]["items"]}
    assert ops["emergency_response"]["events"] == [{"ticket": "INC-11", "deduction": 2.0}]
    result = desk("report", "kpi", "--from", "2026-10-06", "--to", "2026-10-06", "--format", "csv")
    assert "timely_rate,工单及时处理率 / Handled on time,0,1,0.0,0.99" in result.output
    out = tmp_path / "k.xlsx"
    result = desk("report", "kpi", "--period", "2026-Q4", "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0 and out.read_bytes()[:2] == b"PK"


def test_report_refuses_a_bad_period(desk):
    result = desk("report", "kpi", "--period", "2026-13")
    assert result.exit_code == 1 and "2026-13" in result.output


def test_import_tickets_and_calls(desk, tmp_path):
    ledger = tmp_path / "台账.csv"
    ledger.write_text("工单编号,类型,受理时间,关闭时间\nH-1,事件,2026-10-05 08:00,2026-10-05 08:30\n"
                      "H-2,投诉,2026-10-05T00:00:00+00:00,\n", encoding="utf-8-sig")
    result = desk("import", "tickets", str(ledger), "--dry-run")
    assert result.exit_code == 0 and "would import 2 tickets" in result.output
    result = desk("import", "tickets", str(ledger))
    assert result.exit_code == 0 and "imported 2 tickets; 0 already there" in result.output
    result = desk("import", "tickets", str(ledger))
    assert "imported 0 tickets; 2 already there" in result.output
    calls = tmp_path / "calls.csv"
    calls.write_text("call_id,ring_at,answered_at\nX1,2026-10-05 08:00:00,2026-10-05 08:00:30\nX2,bad,\n")
    result = desk("import", "calls", str(calls))
    assert result.exit_code == 1 and "line 3" in result.output


def test_bench_report_needs_postgresql(desk):
    result = desk("bench", "report", "--database-url", "sqlite:///x.sqlite")
    assert result.exit_code == 1 and "PostgreSQL" in result.output


def test_the_cycle_start_day_is_a_setting(desk):
    result = desk("report", "scorecard", "--cycle", "2026-11", DESK_CYCLE_START_DAY="19")
    assert json.loads(result.output)["period"] == {"from": "2026-10-19", "to": "2026-11-18", "label": "2026-11 cycle"}
