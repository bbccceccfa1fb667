"""Issue 12/13: lists people can work with — inbox pages and sorting, the ticket list's columns,
filters, saved filters, CSV export, and bulk claim/assign for leads."""

import re

from sqlalchemy import select

from engine.models import HumanTask, SlaClock, TaskState, Ticket
from webforms.extensions import db


def _numbers(page: str) -> list[str]:
    return re.findall(r'data-number="([^"]+)"', page)


def test_inbox_pages_and_sorts_by_column(desk, api):
    numbers = [api.new_ticket("admin1", title=f"第{i}单")["number"] for i in range(3)]
    desk.login("agent1")
    page = desk.text("/inbox?scope=group&per_page=2&sort=-ticket")
    assert numbers[2] in page and numbers[1] in page and numbers[0] not in page
    assert "第 1 / 2 页" in page and 'aria-sort="descending"' in page
    assert numbers[0] in desk.text("/inbox?scope=group&per_page=2&sort=-ticket&page=2")
    ascending = desk.text("/inbox?scope=group&sort=ticket")
    assert ascending.index(numbers[0]) < ascending.index(numbers[2])
    # the header link reverses the order and keeps the scope
    assert "/inbox?scope=group&amp;sort=-ticket&amp;page=1" in ascending
    assert desk.get("/inbox?sort=no_such_column").status_code == 200  # falls back to the due order


def test_ticket_list_shows_step_holder_and_sla(desk, api, app):
    number = api.new_ticket("admin1")["number"]
    desk.login("agent1")
    row = re.search(rf'<tr data-number="{number}">.*?</tr>', desk.text("/tickets"), re.S).group(0)
    assert "分类定级" in row and "服务台" in row and "sla-state-" in row
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        # issue 8 starts the response clock at intake: breach that one
        clock = next(c for c in ticket.clocks if c.name == "response")
        clock.breached = True
        db.session.commit()
    page = desk.text("/tickets?breached=1")
    assert _numbers(page) == [number] and "sla-state-breached" in page


def test_ticket_list_filters(desk, api, app):
    first = api.new_ticket("admin1", organisation="市人民医院")["number"]
    second = api.new_ticket("admin1", organisation="第二中学")["number"]
    api.post("agent1", f"/api/tasks/{api.task('agent1', second, 'classify')['id']}/claim")
    desk.login("lead1")
    assert _numbers(desk.text("/tickets?organisation=第二中学")) == [second]
    assert _numbers(desk.text("/tickets?holder=agent1")) == [second]
    assert _numbers(desk.text("/tickets?breached=1")) == []
    today = desk.text("/tickets?from=2000-01-01&to=2999-12-31")
    assert _numbers(today) == [second, first]
    assert _numbers(desk.text("/tickets?to=2000-01-01")) == []
    res = desk.get("/tickets?from=yesterday")
    assert res.status_code == 422 and "YYYY-MM-DD" in res.get_data(as_text=True)
    # a number prefix finds by the number; % and _ are literal
    assert _numbers(desk.text(f"/tickets?q={first[:6]}")) == [second, first]
    assert _numbers(desk.text("/tickets?q=%25")) == []
    assert _numbers(desk.text("/tickets?q=_")) == []


def test_saved_filters_belong_to_their_user(desk, api):
    api.new_ticket("admin1", organisation="第二中学")
    desk.login("lead1")
    res = desk.post("/tickets/filters", {"name": "二中的单", "organisation": "第二中学", "status": "open"})
    assert res.status_code == 302
    page = desk.text("/tickets")
    assert "二中的单" in page and "organisation=%E7%AC%AC" in page
    assert desk.post("/tickets/filters", {"name": "", "status": "open"}).status_code == 302
    desk.login("agent1")
    assert "二中的单" not in desk.text("/tickets")
    filter_id = int(re.search(r"/tickets/filters/(\d+)/delete", page).group(1))
    assert desk.post(f"/tickets/filters/{filter_id}/delete").status_code == 404
    desk.login("lead1")
    assert desk.post(f"/tickets/filters/{filter_id}/delete").status_code == 302
    assert "二中的单" not in desk.text("/tickets")


def test_csv_export_of_the_filtered_list(desk, api):
    api.new_ticket("admin1", organisation="市人民医院", title="打印机, 卡纸")
    api.new_ticket("admin1", organisation="第二中学")
    desk.login("agent1")
    res = desk.get("/tickets/export.csv?organisation=市人民医院")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    text = res.get_data().decode("utf-8")
    assert text.startswith("\ufeff") and "attachment" in res.headers["Content-Disposition"]
    lines = text.lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 2 and "工单号" in lines[0]
    assert '"打印机, 卡纸"' in lines[1] and "分类定级" in lines[1] and "第二中学" not in text


def test_bulk_claim_and_assign_for_leads(desk, api, app):
    numbers = [api.new_ticket("admin1")["number"] for _ in range(3)]
    with app.app_context():
        ids = list(db.session.scalars(select(HumanTask.id).where(HumanTask.state == TaskState.READY).order_by(HumanTask.id)))
    desk.login("agent1")
    assert 'form="bulk-form"' not in desk.text("/inbox?scope=group")
    assert desk.post("/inbox/bulk", {"action": "claim", "task": str(ids[0])}).status_code == 403
    desk.login("lead1")
    page = desk.text("/inbox?scope=all")
    assert 'form="bulk-form"' in page and all(n in page for n in numbers)
    res = desk.post("/inbox/bulk", {"action": "assign", "assignee": "agent1", "task": [str(ids[0]), str(ids[1])]})
    assert res.status_code == 302
    res = desk.post("/inbox/bulk", {"action": "assign", "assignee": "eng1", "task": [str(ids[2])]})
    assert res.status_code == 302  # an engineer may not classify: refused, said so, nothing changed
    with app.app_context():
        rows = {r.id: r for r in db.session.scalars(select(HumanTask).where(HumanTask.id.in_(ids)))}
        assert [rows[i].assignee for i in ids] == ["agent1", "agent1", None]
        assert db.session.get(Ticket, rows[ids[0]].ticket_id).assignee == "agent1"
    assert "不能处理" in desk.text("/inbox?scope=all")
    desk.post("/inbox/bulk", {"action": "claim", "task": [str(ids[2])]})
    with app.app_context():
        assert db.session.get(HumanTask, ids[2]).assignee == "lead1"
