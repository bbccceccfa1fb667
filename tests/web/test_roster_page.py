"""The roster page: leads plan the week, a person on a shift asks for a swap, a lead approves."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from engine.models import DutyAssignment, DutySwap
from webforms.extensions import db

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_plan_swap_and_approve(app, desk):
    with time_machine.travel(MONDAY, tick=False):
        desk.login("lead1")
        page = desk.text("/roster")
        assert "白班" in page and "夜班" in page and "全天" in page and "11-23" in page
        res = desk.post("/roster/assign?week=2026-11-23", {"day": "2026-11-23", "shift": "day", "username": "agent1"})
        assert res.status_code == 302
        page = desk.text("/roster?week=2026-11-23")
        assert "当前值班" in page and "<strong>agent1</strong>" in page
        again = desk.post("/roster/assign", {"day": "2026-11-23", "shift": "day", "username": "agent1"},
                          follow_redirects=True)
        assert "已在该班次" in again.get_data(as_text=True)

        desk.login("agent1")
        assert desk.post("/roster/assign", {"day": "2026-11-24", "shift": "day", "username": "agent1"}).status_code == 403
        with app.app_context():
            assignment = db.session.scalars(select(DutyAssignment)).one()
        page = desk.text("/roster?week=2026-11-23")
        assert f"/roster/{assignment.id}/swap" in page
        desk.post(f"/roster/{assignment.id}/swap", {"to_user": "lead1", "reason": "培训"})

        desk.login("lead1")
        page = desk.text("/roster?week=2026-11-23")
        assert "待审批的顶岗申请" in page and "培训" in page
        with app.app_context():
            swap = db.session.scalars(select(DutySwap)).one()
        desk.post(f"/roster/swaps/{swap.id}", {"approve": "1"})
        page = desk.text("/roster?week=2026-11-23")
        assert "<strong>lead1</strong>" in page and "顶 agent1" in page
