"""Issue 12: the task list pages, sorts and filters in SQL; forms only by reference; the bell counts by index."""

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from engine.desk import audit
from engine.models import TaskCandidate, Ticket
from webforms.extensions import db


def test_task_list_pages_and_sorts(api):
    numbers = [api.new_ticket(title=f"第{i}单")["number"] for i in range(3)]
    res = api.get("agent1", "/api/tasks?scope=group&per_page=2&sort=-ticket")
    body = res.get_json()
    assert res.status_code == 200 and body["total"] == 3 and body["pages"] == 2 and body["per_page"] == 2
    assert [t["ticket"] for t in body["items"]] == [numbers[2], numbers[1]]
    second = api.get("agent1", "/api/tasks?scope=group&per_page=2&sort=-ticket&page=2").get_json()
    assert [t["ticket"] for t in second["items"]] == [numbers[0]]
    ascending = api.get("agent1", "/api/tasks?scope=group&sort=ticket").get_json()["items"]
    assert [t["ticket"] for t in ascending] == numbers


def test_task_list_carries_forms_by_reference(api):
    number = api.new_ticket("admin1")["number"]
    item = api.get("agent1", "/api/tasks?scope=group").get_json()["items"][0]
    assert "form" not in item and item["form_url"] == f"/api/tasks/{item['id']}/form"
    form = api.get("agent1", item["form_url"]).get_json()
    assert {f["id"] for f in form["form"]} == {"category", "impact", "urgency"}
    with_forms = api.get("agent1", "/api/tasks?scope=group&include=form").get_json()["items"][0]
    assert with_forms["form"] == form["form"]
    # narrowed to one ticket, the list keeps the form as before (scripts stepping through a ticket)
    assert api.get("agent1", f"/api/tasks?ticket={number}").get_json()["items"][0]["form"] == form["form"]
    assert api.get("pm1", item["form_url"]).status_code == 403


def test_task_list_bad_paging_is_422(api):
    for query in ("per_page=201", "per_page=0", "page=x", "sort=password", "scope=bogus"):
        res = api.get("agent1", f"/api/tasks?{query}")
        assert res.status_code == 422, query
        assert res.get_json()["error"]


def test_candidates_exist_only_while_the_task_is_open(api, app):
    number = api.new_ticket("admin1")["number"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TaskCandidate)) == 1  # classify: role agent
    api.complete("admin1", number, "classify", category="desktop", impact="low", urgency="low")
    with app.app_context():
        rows = db.session.execute(select(TaskCandidate.kind, TaskCandidate.code, TaskCandidate.ticket_id)).all()
        ticket_id = db.session.scalar(select(Ticket.id).where(Ticket.number == number))
        assert [tuple(r) for r in rows] == [("role", "agent", ticket_id)]  # online_fix's; classify's are gone
    # the pm sees nothing of the agents' work; the lead's "all" sees it
    assert api.get("pm1", "/api/tasks?scope=group").get_json()["items"] == []
    assert len(api.get("lead1", "/api/tasks?scope=all").get_json()["items"]) == 1


def test_unread_count_stops_at_the_cap(app):
    with app.app_context():
        for _ in range(5):
            audit.notify_role(db.session, "lead", "sla_breach", "x")
        db.session.commit()
        assert audit.unread_count(db.session, "lead1", cap=3) == 3
        assert audit.unread_count(db.session, "lead1") == 5
        audit.mark_read(db.session, "lead1")
        assert audit.unread_count(db.session, "lead1") == 0


def test_ticket_search_by_text_number_prefix_and_literal_wildcards(api):
    first = api.new_ticket("admin1", title="打印机卡纸 100%", organisation="市第一中学")["number"]
    second = api.new_ticket("admin1", title="VPN_网关 断开", organisation="市人民医院")["number"]

    def found(query: str) -> list[str]:
        res = api.get("agent1", f"/api/tickets?{query}")
        assert res.status_code == 200, res.get_json()
        return [t["number"] for t in res.get_json()["items"]]

    assert found("q=第一中") == [first]  # a Chinese substring
    assert found("q=印机卡") == [first]
    assert found("q=100%25") == [first] and found("q=%25") == [first]  # % is a percent sign
    assert found("q=VPN_") == [second] and found("q=N_网") == [second]  # _ is an underscore
    assert found("q=P_N") == []
    assert found("q=vpn") == [second] and found("q=vpn_网关") == [second]  # letters in any case (ILIKE)
    assert found("q=_%E7%BD%91%E5%85%B3%20%E6%96%AD") == [second]  # no letters with a case (LIKE): "_网关 断"
    assert found(f"q={first[:4].lower()}") == [second, first]  # a number prefix, any case
    assert found(f"q={first}") == [first]
    body = api.get("agent1", "/api/tickets?per_page=1").get_json()
    assert body["total"] == 2 and body["total_exact"] and body["has_next"]
    assert api.get("agent1", "/api/tickets?from=2026-13-01").status_code == 422
    assert api.get("agent1", "/api/tickets?per_page=500").status_code == 422
    assert found("breached=1") == [] and found("holder=agent1") == []  # admin1 registered: the steps wait for the group


def test_words_without_case_are_matched_by_like_and_the_rest_by_ilike():
    """LIKE finds what ILIKE finds when the words have no case, without folding every text it tests."""
    from engine.desk import search

    def operator(q: str) -> str:
        sql = str(search.statement(search.Filters(q=q), reader=None).compile(dialect=postgresql.dialect()))
        return "ILIKE" if " ILIKE " in sql else "LIKE" if " LIKE " in sql else "?"

    assert [search._operator(q) for q in ("交换机", "13800138000", "100%", "Vpn", "vpn", "ß", "网关 VPN")] == [
        "LIKE", "LIKE", "LIKE", "ILIKE", "ILIKE", "ILIKE", "ILIKE"]
    assert operator("交换机") == "LIKE" and operator("vpn") == "ILIKE"


def test_a_held_task_is_offered_to_no_group(api, app):
    number = api.new_ticket("admin1")["number"]
    task = api.task("agent1", number, "classify")

    def offered() -> list[tuple]:
        with app.app_context():
            return [tuple(r) for r in db.session.execute(
                select(TaskCandidate.kind, TaskCandidate.code).where(TaskCandidate.task_id == task["id"]))]

    assert offered() == [("role", "agent")]
    assert api.post("agent1", f"/api/tasks/{task['id']}/claim").status_code == 200
    assert offered() == []
    assert [t["id"] for t in api.get("lead1", "/api/tasks?scope=group").get_json()["items"]] == []
    assert [t["id"] for t in api.get("agent1", "/api/tasks?scope=group").get_json()["items"]] == [task["id"]]
    assert api.post("agent1", f"/api/tasks/{task['id']}/unclaim").status_code == 200
    assert offered() == [("role", "agent")]
    assert [t["id"] for t in api.get("lead1", "/api/tasks?scope=group").get_json()["items"]] == [task["id"]]


def _inbox(api, username: str, scope: str) -> list[int]:
    return [t["id"] for t in api.get(username, f"/api/tasks?scope={scope}").get_json()["items"]]


def test_a_reassigned_task_leaves_the_old_groups_inbox_for_the_new_holders(api, app):
    """Candidates follow every assignee change made in the write path, whoever makes it.

    Issue 8's lead reassignment (``handling.reassign``) and issue 12's own ``assign`` only
    set the row (as will issue 13's "the next step stays with who did the last one" and
    issue 10's on-duty assignment): the flush hook on ``HumanTask`` in
    ``engine.runtime.tasks`` rewrites the candidates.
    """
    from engine.desk import users
    from engine.runtime import instances

    number = api.new_ticket("admin1")["number"]
    task_id = api.task("agent1", number, "classify")["id"]
    assert task_id in _inbox(api, "agent1", "group") and task_id in _inbox(api, "lead1", "group")
    res = api.post("lead1", f"/api/tasks/{task_id}/reassign", json={"username": "lead1", "reason": "客户点名组长处理"})
    assert res.status_code == 200, res.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(TaskCandidate.task_id == task_id)) == 0
    assert task_id not in _inbox(api, "agent1", "group") and _inbox(api, "lead1", "mine") == [task_id]
    with app.app_context():  # the lead gives it on to agent1 (issue 12's bulk assignment)
        instances.assign(db.session, task_id, "agent1", user=users.get_user(db.session, "lead1"))
        db.session.commit()
    assert _inbox(api, "lead1", "mine") == [] and task_id not in _inbox(api, "lead1", "group")
    assert _inbox(api, "agent1", "mine") == [task_id]
    assert api.post("agent1", f"/api/tasks/{task_id}/unclaim").status_code == 200  # back to the agents
    assert task_id in _inbox(api, "lead1", "group") and _inbox(api, "agent1", "mine") == []


def test_a_task_for_the_projects_pm_group_is_offered_to_that_group(api, app):
    """``candidateGroups="${pm_group}"`` (issue 8): the candidates hold the evaluated group, not the expression."""
    number = api.new_ticket("admin1")["number"]
    api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
    api.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
    task_id = api.task("pm1", number, "pm_assign")["id"]
    with app.app_context():
        rows = db.session.execute(select(TaskCandidate.kind, TaskCandidate.code).where(TaskCandidate.task_id == task_id))
        assert [tuple(r) for r in rows] == [("role", "pm_infra")]
    assert task_id not in _inbox(api, "pm2", "group")


def _lead_all(api, sort: str, **extra) -> list[str]:
    query = "&".join([f"scope=all&sort={sort}"] + [f"{k}={v}" for k, v in extra.items()])
    res = api.get("lead1", f"/api/tasks?{query}")
    assert res.status_code == 200, res.get_json()
    return [t["ticket"] for t in res.get_json()["items"]]


def test_the_leads_list_of_all_tasks_sorts_by_ticket_columns_in_sql(api, app):
    from datetime import datetime, timedelta, timezone

    import time_machine

    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    made = {}
    with time_machine.travel(t0, tick=False) as clock:
        for minute, (impact, urgency) in enumerate([("medium", "medium"), ("high", "high"), ("high", "medium")]):
            clock.move_to(t0 + timedelta(minutes=minute))
            number = api.new_ticket(occurred_at=(t0 + timedelta(minutes=minute)).isoformat())["number"]
            api.complete("agent1", number, "classify", category="server", impact=impact, urgency=urgency)
            made[api.ticket(number)["priority"]] = number
        a, b, c = made["P3"], made["P1"], made["P2"]  # created in this order
        assert _lead_all(api, "priority") == [b, c, a]
        assert _lead_all(api, "-priority") == [a, c, b]
        assert _lead_all(api, "ticket") == [a, b, c] and _lead_all(api, "-ticket") == [c, b, a]
        assert _lead_all(api, "ticket_created") == [a, b, c] and _lead_all(api, "-ticket_created") == [c, b, a]

        def sla_due(number):
            return min(datetime.fromisoformat(s["due_at"]) for s in api.ticket(number)["sla"].values()
                       if s["due_at"] and not s["stopped_at"])

        assert _lead_all(api, "sla_due") == sorted([a, b, c], key=sla_due)
        page = api.get("lead1", "/api/tasks?scope=all&sort=priority&per_page=2&page=2").get_json()
        assert [t["ticket"] for t in page["items"]] == [a] and page["total"] == 3 and page["pages"] == 2
        assert _lead_all(api, "priority", priority="P2") == [c]  # filters still apply
        # a closed ticket has no open task; the list walks open tickets only
        api.complete("agent1", b, "online_fix", outcome="resolved", solution="远程恢复")
        assert b in _lead_all(api, "priority")  # resolved, not closed: its callback is open
    with app.app_context():
        from engine.models import Ticket

        assert db.session.scalars(select(Ticket.sla_due_at).where(Ticket.number == a)).one() is not None


def test_a_list_narrowed_to_one_ticket_holds_what_the_whole_list_holds_of_it(api):
    """``ticket=`` lists are one plain statement (issue 12), the whole list the union of index walks:
    for every reader, scope and sort they hold the same tasks of that ticket, in the same order."""
    group = api.new_ticket("admin1")["number"]  # classify waits for the agents
    kept = api.new_ticket()["number"]  # agent1 keeps the classification
    dispatched = api.new_ticket("admin1")["number"]
    api.dispatch(dispatched)  # eng1 holds the engineer's step
    pm = api.new_ticket("admin1")["number"]
    api.complete("agent1", pm, "classify", category="network", impact="medium", urgency="medium")
    api.complete("agent1", pm, "online_fix", outcome="dispatch", solution="远程排查无果")  # pm_infra's to assign
    for username in ("agent1", "pm1", "pm2", "eng1", "lead1", "admin1"):
        for scope in ("mine", "group", "all"):
            for sort in ("due", "-due", "task", "priority", "-ticket", "assignee"):
                query = f"/api/tasks?scope={scope}&sort={sort}&include=form"
                whole = api.get(username, f"{query}&per_page=200").get_json()["items"]
                for number in (group, kept, dispatched, pm):
                    narrowed = api.get(username, f"{query}&ticket={number}").get_json()["items"]
                    assert narrowed == [t for t in whole if t["ticket"] == number], (username, scope, sort, number)


def test_a_narrowed_list_keeps_its_filters_its_pages_and_its_count(api):
    """The narrowed list's statement is built once per shape (issue 12); filters, pages and the count still apply."""
    number = api.new_ticket()["number"]  # agent1 holds the classification
    instance = api.ticket(number)["instance_id"]

    def listed(username, query):
        body = api.get(username, f"/api/tasks?{query}").get_json()
        return [t["bpmn_id"] for t in body["items"]], body["total"], body["pages"]

    assert listed("agent1", f"scope=mine&ticket={number}") == (["classify"], 1, 1)
    assert listed("agent1", f"scope=group&ticket={number}&per_page=1") == (["classify"], 1, 1)  # a full page: counted
    assert listed("agent1", f"scope=group&ticket={number}&per_page=1&page=2") == ([], 1, 1)
    assert listed("agent1", f"ticket={number}&stage=classify") == (["classify"], 1, 1)
    assert listed("agent1", f"ticket={number}&stage=online_fix") == ([], 0, 1)
    assert listed("agent1", f"instance={instance}&stage=classify&sort=-due") == (["classify"], 1, 1)
    assert listed("agent1", f"ticket={number}&instance={instance}") == (["classify"], 1, 1)
    assert listed("agent1", f"ticket={number}&instance={instance + 1000}") == ([], 0, 1)
    assert listed("eng1", f"scope=group&ticket={number}") == ([], 0, 1)  # not offered to engineers
    assert listed("lead1", f"scope=all&ticket={number}&per_page=1") == (["classify"], 1, 1)
    assert listed("lead1", f"scope=mine&ticket={number}") == ([], 0, 1)
    # readers of one shape share the statement, each with their own name and roles
    offered = api.new_ticket("admin1")["number"]  # nobody holds it: offered to the agents
    assert listed("agent1", f"scope=group&ticket={offered}") == (["classify"], 1, 1)
    assert listed("eng2", f"scope=group&ticket={offered}") == ([], 0, 1)
    assert listed("agent1", f"scope=mine&ticket={offered}") == ([], 0, 1)
