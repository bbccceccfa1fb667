"""The admin imports a ledger through the preview; the lead reads October's figures, the charts
draw, and a red figure opens the tickets behind it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from test_imports import as_csv, ledger_rows  # noqa: E402

pytestmark = pytest.mark.browser


def login(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    if "/login" not in page.url:
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/login")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/inbox")


def test_import_then_report(server, new_page, output, tmp_path):
    ledger = tmp_path / "台账.csv"
    ledger.write_bytes(as_csv(ledger_rows()))
    page = new_page()
    login(page, server, "admin1")
    page.goto(server + "/reports/import")
    page.set_input_files('input[name="file"]', str(ledger))
    page.get_by_role("button", name="预览").click()
    page.get_by_text("新增 11 行").wait_for()
    page.get_by_role("button", name="导入 11 行").click()
    page.get_by_text("已导入 11 条").wait_for()

    login(page, server, "lead1")
    page.get_by_role("link", name="报表").click()
    page.fill("#p-period", "2026-10")
    page.locator("#p-period").press("Enter")
    page.wait_for_url("**/reports?period=2026-10")
    timely = page.locator('[data-kpi="timely_rate"]')
    assert "kpi-missed" in timely.get_attribute("class") and "75.0%" in timely.inner_text()
    for chart in ("trend", "sla", "workload", "satisfaction"):
        page.locator(f'[data-chart="{chart}"] canvas').wait_for()
    page.screenshot(path=str(output / "reports.png"), full_page=True)
    assert page.errors == []
    timely.click()
    page.wait_for_url(re.compile(r".*/reports/tickets\?.*kpi=timely_rate"))
    page.get_by_role("link", name="未计入").click()
    page.wait_for_url(re.compile(r".*/reports/tickets\?.*part=missed"))  # not the page it leaves, read mid-way
    assert page.locator("a.mono").all_inner_texts() == ["INC-02", "INC-09"]

    # the scorecards of the cycle: the lead records a failed maintenance permit against INC-11
    page.goto(server + "/reports/scorecard?cycle=2026-11")
    page.select_option("#e-item", "maintenance_permit")
    page.fill("#e-day", "2026-10-25")
    page.fill("#e-ticket", "INC-11")
    page.fill("#e-evidence", "开工报告缺签字")
    page.locator(".entry-form button[type=submit]").click()
    page.get_by_text("考核记录已保存").wait_for()
    row = page.locator('[data-card="operations"] [data-item="emergency_response"]')
    assert "−0" not in row.inner_text()
    waived = page.locator('[data-card="operations"] .waived').inner_text()
    assert "INC-11" in waived  # its −2 emergency response is waived under the −5 permit
    page.screenshot(path=str(output / "scorecard.png"), full_page=True)
    assert page.errors == []
