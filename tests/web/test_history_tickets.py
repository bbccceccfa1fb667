"""A ticket imported from a ledger has no process instance: its page and its API answer still work."""

from engine.reporting import imports

LEDGER = ("工单编号,类型,报告人,单位,电话,描述,受理时间,关闭时间,满意度\n"
          "H-1,事件,王工,市医院,138,打印机卡纸,2026-10-05 08:00,2026-10-05 08:30,满意\n").encode()


def test_imported_ticket_page_and_api(app, desk, api):
    with app.app_context():
        from webforms.extensions import db

        imports.run(db.session, "tickets", "h.csv", LEDGER, user="admin1")
        db.session.commit()
    desk.login("lead1")
    page = desk.text("/tickets/H-1")
    assert "打印机卡纸" in page and "从台账导入的历史记录" in page
    assert desk.text("/tickets?q=H-1").count("H-1") >= 1
    data = api.ticket("H-1")
    assert data["instance_id"] is None and data["version"] is None and data["status"] == "closed"
    assert data["open_tasks"] == [] and data["satisfaction"] == "satisfied"
