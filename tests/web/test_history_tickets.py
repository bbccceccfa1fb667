"""A ticket imported from a ledger has no process instance: its page, its API answer, the list, search and CSV still work."""

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


def test_imported_tickets_in_the_search_list_api_and_csv(app, desk, api):
    """The merged search (issue 12) over tickets without an instance (issue 9): list, filters, API, CSV."""
    with app.app_context():
        from webforms.extensions import db

        imports.run(db.session, "tickets", "h.csv", LEDGER, user="admin1")
        db.session.commit()
    live = api.new_ticket(organisation="第二中学")["number"]
    desk.login("lead1")
    page = desk.text("/tickets?q=打印机卡")
    assert 'data-number="H-1"' in page and live not in page
    assert 'data-number="H-1"' in desk.text("/tickets?organisation=市医院&status=closed")
    assert 'data-number="H-1"' not in desk.text("/tickets?breached=1")
    items = api.get("lead1", "/api/tickets?q=卡纸").get_json()["items"]
    assert [t["number"] for t in items] == ["H-1"]
    res = desk.get("/tickets/export.csv?q=H-1")
    assert res.status_code == 200
    lines = res.get_data().decode("utf-8").lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("H-1,") and "市医院" in lines[1]
