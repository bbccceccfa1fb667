"""Read access (issue 11) through real flows: how a back-line person comes to read a ticket, and loses nothing else.

The route × role matrix is tests/web/test_read_access.py; here each way in to a
ticket (``engine.desk.access``) is walked once, and the lists page in SQL with it.
"""

from __future__ import annotations

import io

from engine.desk import access, search, users
from engine.desk import audit as desk_audit
from webforms.extensions import db

NETWORK = {"category": "network", "impact": "medium", "urgency": "medium"}  # pm_infra: pm1
APPLICATION = {"category": "application", "impact": "medium", "urgency": "medium"}  # pm_app: pm2


def dispatched(api, classify: dict) -> str:
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **classify)
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    return number


def reads(api, user: str, number: str) -> bool:
    res = api.get(user, f"/api/tickets/{number}")
    assert res.status_code in (200, 403), res.get_json()
    return res.status_code == 200


def listed(api, user: str) -> set[str]:
    res = api.get(user, "/api/tickets?per_page=200")
    assert res.status_code == 200
    return {t["number"] for t in res.get_json()["items"]}


def switch_tickets(api) -> list[str]:
    """Three tickets about a switch (交换机) that eng1 reads, and two with the word that eng1 does not."""
    mine = []
    for n in range(3):
        number = api.new_ticket(title=f"核心交换机第{n}次告警")["number"]
        api.complete("agent1", number, "classify", **NETWORK)
        api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
        api.complete("pm1", number, "pm_assign", engineer="eng1")
        mine.append(number)
    dispatched(api, NETWORK)  # eng1 reads none of these, though the word is in them
    api.new_ticket(title="核心交换机宕机")
    return mine


def test_a_project_pm_reads_their_projects_tickets_and_the_engineer_theirs(api):
    infra, app_ticket = dispatched(api, NETWORK), dispatched(api, APPLICATION)
    assert reads(api, "pm1", infra) and not reads(api, "pm1", app_ticket)
    assert reads(api, "pm2", app_ticket) and not reads(api, "pm2", infra)
    assert not reads(api, "eng1", infra)
    api.complete("pm1", infra, "pm_assign", engineer="eng1")  # the process assigns the step to eng1
    assert reads(api, "eng1", infra) and not reads(api, "eng2", infra)
    assert listed(api, "eng1") == {infra} and listed(api, "pm2") == {app_ticket}
    assert {infra, app_ticket} <= listed(api, "agent1") and listed(api, "owner1") == set()


def test_a_group_reads_the_ticket_its_open_step_waits_on_and_keeps_what_it_did(api):
    number = dispatched(api, NETWORK)
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    api.complete("eng1", number, "engineer", outcome="return_to_pm", return_reason="疑似硬件故障")
    assert not reads(api, "ts1", number)
    api.complete("pm1", number, "pm_assign", assign_to="tech_support")  # offered to the tech-support group
    assert reads(api, "ts1", number)
    assert reads(api, "eng1", number)  # eng1 worked on it and still reads it


def test_whoever_is_notified_about_a_ticket_reads_it(api, app):
    number = api.new_ticket()["number"]
    assert not reads(api, "ts1", number)
    with app.app_context():
        from engine.models import Ticket

        ticket = db.session.scalars(db.select(Ticket).where(Ticket.number == number)).one()
        assert desk_audit.notify_role(db.session, "tech_support", "sla_breach", f"工单 {number} 已超时",
                                      ticket_id=ticket.id) == 1
        db.session.commit()
    assert reads(api, "ts1", number) and not reads(api, "eng1", number)


def test_who_may_not_read_a_ticket_may_not_write_on_it_either(api):
    number = dispatched(api, NETWORK)
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    before = api.ticket(number)
    assert api.post("eng2", f"/api/tickets/{number}/notes", json={"text": "x"}).status_code == 403
    res = api.post("eng2", f"/api/tickets/{number}/attachments", data={"file": (io.BytesIO(b"x"), "x.txt")},
                   content_type="multipart/form-data", json=None)
    assert res.status_code == 403
    res = api.post("eng2", f"/api/tickets/{number}/onsite",
                   json={"arrived_at": "2026-11-24T09:00:00+08:00", "work_done": "w"})
    assert res.status_code == 403
    after = api.ticket(number)
    assert (after["notes"], after["attachments"], after["onsite"]) == (before["notes"], before["attachments"], before["onsite"])
    assert api.post("eng1", f"/api/tickets/{number}/notes", json={"text": "已到场"}).status_code == 201


def test_instance_data_for_owners_leaves_the_caller_out(api):
    number = api.new_ticket(phone="13912345678", email="caller@example.cn")["number"]
    instance = api.ticket(number)["instance_id"]
    full = api.get("agent1", f"/api/instances/{instance}").get_json()["data"]
    owner = api.get("owner1", f"/api/instances/{instance}").get_json()["data"]
    assert full["phone"] == "13912345678" and full["email"] == "caller@example.cn"
    assert not {"phone", "email", "reporter_name", "description", "organisation"} & owner.keys()
    assert owner["type"] == full["type"]  # what the process decides on stays
    assert api.get("eng1", f"/api/instances/{instance}").status_code == 403


def test_the_back_lines_list_pages_in_sql(api, app):
    mine = [dispatched(api, NETWORK) for _ in range(3)]
    for number in mine:
        api.complete("pm1", number, "pm_assign", engineer="eng1")
    others = [api.new_ticket()["number"] for _ in range(4)]
    with app.app_context():
        eng1 = users.get_user(db.session, "eng1")
        first = search.find(db.session, search.Filters(), reader=eng1, per_page=2)
        second = search.find(db.session, search.Filters(), reader=eng1, page=2, per_page=2)
        assert first.total == 3 and first.total_exact
        assert [t.number for t in first.rows + second.rows] == list(reversed(mine))
        assert not set(others) & {t.number for t in first.rows + second.rows}
        owner = users.get_user(db.session, "owner1")
        assert search.find(db.session, search.Filters(), reader=owner).total == 0
        assert not access.can_see_customer_data(owner) and access.can_see_customer_data(eng1)


def test_the_back_lines_text_search_counts_only_its_own_hits_and_leaves_the_planner_as_it_was(api, app):
    """The count of a back-line reader's text search is steered (PostgreSQL); its totals stay exact either way."""
    mine = switch_tickets(api)
    with app.app_context():
        eng1 = users.get_user(db.session, "eng1")

        def find(page: int, per_page: int = 2):
            return search.find(db.session, search.Filters(q="交换机"), reader=eng1, page=page, per_page=per_page)

        first, second, beyond = find(1), find(2), find(3)
        assert (first.total, second.total, beyond.total) == (3, 3, 3)  # counted, a short last page, counted
        assert first.total_exact and not beyond.rows
        assert [t.number for t in first.rows + second.rows] == list(reversed(mine))
        assert find(1, per_page=50).total == 3  # one short page: no count at all
        assert search.find(db.session, search.Filters(q="量子计算"), reader=eng1).total == 0
        if db.engine.dialect.name == "postgresql":  # the steering ended with the count
            assert db.session.execute(db.text("SHOW enable_hashjoin")).scalar() == "on"
            assert db.session.execute(db.text("SHOW enable_mergejoin")).scalar() == "on"


def test_a_back_line_search_for_a_common_word_finds_the_same_tickets_from_the_readers_own(api, app, monkeypatch):
    """Where PostgreSQL expects the word in many tickets, the page tests the text on the reader's tickets only."""
    mine = switch_tickets(api)
    monkeypatch.setattr(search, "COMMON_TEXT_ROWS", 0)  # every word is common
    with app.app_context():
        eng1, agent1, owner = (users.get_user(db.session, name) for name in ("eng1", "agent1", "owner1"))
        word = search.Filters(q="交换机")
        postgres = db.engine.dialect.name == "postgresql"
        assert search.text_is_common(db.session, word, eng1) is postgres  # the planner's estimate: PostgreSQL only
        assert not search.text_is_common(db.session, word, agent1)  # the desk reads every ticket
        assert not search.text_is_common(db.session, search.Filters(q=mine[0][:10]), eng1)  # a number prefix
        assert not search.text_is_common(db.session, search.Filters(status="open"), eng1)  # no text
        for common in (False, True):
            found = db.session.scalars(search.statement(word, reader=eng1, common_text=common)).all()
            assert [t.number for t in found] == list(reversed(mine))
            literal = db.session.scalars(search.statement(search.Filters(q="交换%"), reader=eng1, common_text=common))
            assert literal.all() == []  # "%" typed by a person stays literal
            none = db.session.scalars(search.statement(word, reader=owner, common_text=common)).all()
            assert none == []  # no customer data, no ticket
        first = search.find(db.session, word, reader=eng1, per_page=2)
        second = search.find(db.session, word, reader=eng1, page=2, per_page=2)
        assert (first.total, first.total_exact, second.total) == (3, True, 3)
        assert [t.number for t in first.rows + second.rows] == list(reversed(mine))
