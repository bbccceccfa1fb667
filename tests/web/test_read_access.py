"""Read access (issue 11), route × role: who reads which ticket, who sees the caller's phone and e-mail.

Every GET route of ``app.url_map`` is in ``ROUTES`` with the users it answers 200; every
other route is in ``WRITES``. A route added without an entry fails
``test_every_route_is_in_the_matrix``, so whoever adds it decides who may read it.

The dataset: ticket A went to pm1's project and eng1 worked on it (a note, a file, an
on-site record); ticket B was only registered. Each user signs in to the pages and
holds an API token; for each route the status is checked, and the callers' phones and
e-mails may appear only in the answers of those who may read that ticket.
"""

from __future__ import annotations

import io
import json

import pytest

from engine.desk import accounts
from webforms.extensions import db

from .conftest import Desk

DESK = {"agent1", "lead1", "admin1", "mgr1"}  # the desk reads every ticket
BACK_LINE = {"pm1", "pm2", "eng1", "eng2", "ts1"}
STAFF = DESK | BACK_LINE | {"owner1"}
CUSTOMER = accounts.DEMO_CUSTOMER  # the demo portal account
USERS = sorted(STAFF) + [CUSTOMER]
READS_A = DESK | {"eng1", "pm1"}  # eng1 worked on A; A went to pm1's project
READS_B = DESK
SEES_CUSTOMERS = STAFF - {"owner1"}  # the archive: every staff role but the process owner
LEADS = {"lead1", "admin1"}
EDITORS = {"owner1", "admin1"}
FIELD = {"eng1", "eng2", "ts1", "lead1", "admin1"}

A = {"phone": "13911110001", "email": "alpha.caller@example.cn", "reporter_name": "甲来电人"}
B = {"phone": "13722220002", "email": "bravo.caller@example.cn", "reporter_name": "乙来电人"}


def _path(template: str, ids: dict) -> str:
    return template.format(**ids)


# (endpoint, path template, users answered 200); a path may name {a}, {b} (ticket numbers), {task_a},
# {task_b}, {done_a}, {file_a}, {file_b}, {onsite_a}, {org}, {instance_a}, {instance_b}, {kb}, {version}.
ROUTES: list[tuple[str, str, set[str]]] = [
    ("inbox.home", "/", STAFF),  # a redirect to the inbox (302 counts as answered)
    ("inbox.index", "/inbox", STAFF),
    ("inbox.listing", "/inbox/list", STAFF),
    ("tickets.index", "/tickets", STAFF),
    ("tickets.index", "/tickets?q={a}", STAFF),
    ("tickets.export", "/tickets/export.csv", STAFF),
    ("tickets.new", "/tickets/new", {"agent1", "lead1", "admin1"}),
    ("tickets.lookup", "/tickets/lookup?phone=139", {"agent1", "lead1", "admin1"}),
    ("tickets.show", "/tickets/{a}", READS_A),
    ("tickets.show", "/tickets/{b}", READS_B),
    ("tickets.attachment", "/tickets/files/{file_a}", READS_A),
    ("tickets.attachment", "/tickets/files/{file_b}", READS_B),
    ("tasks.show", "/tasks/{task_b}", {"agent1", "admin1"}),  # B's classify step: agent1 registered B and keeps it
    ("tasks.show", "/tasks/{done_a}", READS_A),  # A's finished intake
    ("knowledge.index", "/kb", STAFF),
    ("knowledge.new", "/kb/new", STAFF),
    ("knowledge.show", "/kb/{kb}", STAFF),
    ("knowledge.edit", "/kb/{kb}/edit", STAFF),
    ("knowledge.suggest", "/kb/suggest/{task_b}", READS_B),
    ("knowledge.suggest", "/kb/suggest/{task_a}", READS_A),
    ("customers.index", "/customers", SEES_CUSTOMERS),
    ("customers.new", "/customers/new", {"agent1", "lead1", "admin1"}),
    ("customers.show", "/customers/{org}", SEES_CUSTOMERS),
    ("onsite.show", "/onsite/{onsite_a}", READS_A),
    ("onsite.edit", "/onsite/{onsite_a}/edit", READS_A & FIELD),
    ("onsite.printable", "/onsite/{onsite_a}/print", READS_A),
    ("onsite.new", "/onsite/new/{a}", READS_A & FIELD),
    ("onsite.new", "/onsite/new/{b}", READS_B & FIELD),
    ("notifications.index", "/notifications", STAFF),
    ("notifications.preferences", "/notifications/preferences", STAFF),
    ("notifications.templates", "/notifications/templates", {"admin1"}),
    ("notifications.edit_template", "/notifications/templates/assigned", {"admin1"}),
    ("notifications.outbox_list", "/notifications/outbox", {"admin1"}),
    ("announcements.index", "/announcements", STAFF),
    ("calendars.index", "/calendars", {"admin1", "lead1"}),
    ("channels.index", "/channels/", {"agent1", "lead1", "admin1"}),
    ("roster.index", "/roster", STAFF),
    ("reports.index", "/reports", LEADS),
    ("reports.download", "/reports/kpi.csv", LEADS),
    ("reports.scorecard", "/reports/scorecard", LEADS),
    ("reports.scorecard_download", "/reports/scorecard.csv", LEADS),
    ("reports.behind", "/reports/tickets?kpi=completeness_rate&part=denominator", LEADS),
    ("reports.import_form", "/reports/import", {"admin1"}),
    ("processes.index", "/processes/", EDITORS),
    ("processes.show_version", "/processes/service_desk/versions/{version}", EDITORS),
    ("processes.version_file", "/processes/service_desk/versions/{version}/files/service_desk.bpmn", EDITORS),
    ("processes.diff", "/processes/service_desk/diff", EDITORS),
    ("processes.cockpit_page", "/processes/service_desk/versions/{version}/cockpit", {"admin1"}),
    ("processes.migrate", "/processes/service_desk/migrate", {"admin1"}),
    ("processes.edit_draft", "/processes/drafts/{draft}", EDITORS),
    ("processes.draft_file", "/processes/drafts/{draft}/files/service_desk.bpmn", EDITORS),
    # the JSON API
    ("api.me", "/api/me", STAFF),
    ("api.list_tokens", "/api/tokens", STAFF),  # one's own tokens: every staff token lists its owner's
    ("api.openapi_json", "/api/openapi.json", None),  # public
    ("api.list_tickets", "/api/tickets", STAFF),
    ("api.list_tickets", "/api/tickets?q={b}", STAFF),
    ("api.get_ticket", "/api/tickets/{a}", READS_A),
    ("api.get_ticket", "/api/tickets/{b}", READS_B),
    ("api.open_tickets_of_caller", "/api/tickets/open-for?phone=" + B["phone"], {"agent1", "lead1", "admin1"}),
    ("api.list_attachments", "/api/tickets/{a}/attachments", READS_A),
    ("api.list_attachments", "/api/tickets/{b}/attachments", READS_B),
    ("api.get_attachment", "/api/attachments/{file_a}", READS_A),
    ("api.get_attachment", "/api/attachments/{file_b}", READS_B),
    ("api.list_notes", "/api/tickets/{a}/notes", READS_A),
    ("api.list_notes", "/api/tickets/{b}/notes", READS_B),
    ("api.kb_for_ticket", "/api/tickets/{a}/kb", READS_A),
    ("api.kb_for_ticket", "/api/tickets/{b}/kb", READS_B),
    ("api.get_onsite", "/api/onsite/{onsite_a}", READS_A),
    ("api.list_tasks", "/api/tasks", STAFF),
    ("api.list_tasks", "/api/tasks?scope=all&include=form", STAFF),
    ("api.list_tasks", "/api/tasks?ticket={b}", STAFF),
    ("api.get_task", "/api/tasks/{task_b}", {"agent1", "admin1"}),
    ("api.get_task_form", "/api/tasks/{task_b}/form", {"agent1", "admin1"}),
    ("api.get_instance", "/api/instances/{instance_a}", READS_A | {"owner1"}),
    ("api.get_instance", "/api/instances/{instance_b}", READS_B | {"owner1"}),
    ("api.list_customers", "/api/customers", SEES_CUSTOMERS),
    ("api.get_customer", "/api/customers/{org}", SEES_CUSTOMERS),
    ("api.list_definitions", "/api/definitions", STAFF),
    ("api.list_announcements", "/api/announcements", STAFF),
    ("api.search_kb", "/api/kb", STAFF),
    ("api.get_kb", "/api/kb/{kb}", STAFF),
    ("api.kpi", "/api/kpi", LEADS),
    ("api.scorecard", "/api/scorecard", LEADS),
    # the portal: customers only, and only their own tickets (accounts.py)
    ("portal.index", "/portal/", {CUSTOMER}),
    ("portal.show", "/portal/tickets/{a}", set()),  # A and B are not the demo customer's
    ("portal.download", "/portal/tickets/{a}/files/{file_a}", set()),
    ("portal.login", "/portal/login", None),
    ("portal.lookup", "/portal/lookup", None),
    ("portal.new", "/portal/new", {CUSTOMER}),
    ("auth.login", "/login", None),
    ("static", "/static/dist/desk.css", None),
]

# Routes that write; the tests below check that the ticket-bound ones refuse who may not read the ticket.
WRITES = {
    "announcements.create", "announcements.withdraw", "api.receive_alerts", "api.publish_announcement",
    "api.withdraw_announcement", "api.create_customer", "api.update_customer", "api.deploy_definitions",
    "api.submit_kb", "api.edit_kb", "api.publish_kb", "api.retire_kb", "api.use_kb", "api.edit_onsite",
    "api.confirm_onsite_backup", "api.sign_onsite", "api.create_portal_account", "api.start_instance",
    "api.claim_task", "api.complete_task", "api.reassign_task", "api.unclaim_task", "api.create_ticket",
    "api.add_attachment", "api.chase_ticket", "api.link_ticket", "api.add_note", "api.add_onsite",
    "api.pause_ticket", "api.resume_ticket", "api.supplement_ticket", "api.create_token", "api.revoke_token", "calendars.add_days",
    "calendars.remove_day", "calendars.save_hours", "calendars.save_pause_rules", "channels.release",
    "customers.add", "customers.edit", "customers.from_ticket", "customers.create", "inbox.bulk",
    "knowledge.review", "knowledge.save", "knowledge.use", "knowledge.create", "i18n.switch", "auth.logout",
    "notifications.read", "onsite.sign", "onsite.save", "onsite.create", "portal.logout", "portal.rate",
    "portal.reply", "processes.migrate_run", "processes.activate", "processes.retire", "processes.create_draft",
    "processes.delete_draft", "processes.deploy_draft", "processes.save_draft", "processes.test_draft",
    "processes.upload_draft", "processes.retry", "processes.test_files", "processes.validate",
    "reports.import_preview", "reports.import_confirm", "reports.add_entry", "reports.delete_entry",
    "reports.edit_item", "roster.unassign", "roster.request_swap", "roster.assign", "roster.decide",
    "tasks.complete", "inbox.claim", "inbox.unclaim", "tickets.add_attachment", "tickets.chase",
    "tickets.add_note", "pauses.pause", "pauses.resume", "tickets.supplement", "tickets.completeness",
    "tickets.save_filter", "tickets.delete_filter", "tickets.reassign", "tickets.create",
}  # fmt: skip


def test_every_route_is_in_the_matrix(app):
    """A new route fails here until it is given its readers (ROUTES) or listed as a write (WRITES)."""
    read = {endpoint for endpoint, _path, _users in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in read:
            missing.append(f"GET {rule.rule} ({rule.endpoint})")
        elif "GET" not in rule.methods and rule.endpoint not in WRITES:
            missing.append(f"{sorted(rule.methods - {'HEAD', 'OPTIONS'})} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without a read-access decision:\n" + "\n".join(missing)


NETWORK = {"category": "network", "impact": "medium", "urgency": "medium"}  # → pm_infra (pm1)


@pytest.fixture
def dataset(app, client, api) -> dict:
    """Ticket A (pm1's project; eng1 worked on it: note, file, on-site record) and ticket B (only registered)."""
    a = api.new_ticket(**A, organisation="甲单位")["number"]
    api.complete("agent1", a, "classify", **NETWORK)
    api.complete("agent1", a, "online_fix", outcome="dispatch", solution="远程排查无果")
    api.complete("pm1", a, "pm_assign", engineer="eng1")
    b = api.new_ticket(**B, organisation="乙单位")["number"]
    assert api.post("eng1", f"/api/tickets/{a}/notes", json={"text": f"已联系 {A['phone']}"}).status_code == 201
    file_a = api.client.post(f"/api/tickets/{a}/attachments", headers={"Authorization": f"Bearer {api.token('eng1')}"},
                             data={"file": (io.BytesIO(b"log of A"), "a.txt")}).get_json()["id"]
    file_b = api.client.post(f"/api/tickets/{b}/attachments", headers={"Authorization": f"Bearer {api.token('agent1')}"},
                             data={"file": (io.BytesIO(b"log of B"), "b.txt")}).get_json()["id"]
    onsite_a = api.post("eng1", f"/api/tickets/{a}/onsite", json={
        "arrived_at": "2026-11-24T09:00:00+08:00", "departed_at": "2026-11-24T10:30:00+08:00", "work_done": "更换光模块",
    }).get_json()["id"]
    ticket_a, ticket_b = api.ticket(a), api.ticket(b)
    kb = api.post("agent1", "/api/kb", json={"title": "交换机端口 down", "symptom": "端口反复 down", "solution": "换光模块"})
    with app.app_context():
        from engine.models import Draft, HumanTask, Organisation, ProcessVersion

        accounts.add_demo(db.session)
        org = db.session.scalars(db.select(Organisation).where(Organisation.name == accounts.DEMO_ORGANISATION)).one()
        done_a = db.session.scalars(db.select(HumanTask).where(
            HumanTask.instance_id == ticket_a["instance_id"], HumanTask.state == "COMPLETED").order_by(HumanTask.id)).first()
        version = db.session.scalars(db.select(ProcessVersion.version).where(ProcessVersion.key == "service_desk")).first()
        db.session.add(Draft(name="d", process_key="service_desk", files={"service_desk.bpmn": "<x/>"}, author="owner1"))
        db.session.commit()
        draft = db.session.scalars(db.select(Draft.id)).first()
        ids = {
            "a": a, "b": b, "file_a": file_a, "file_b": file_b, "onsite_a": onsite_a, "org": org.id,
            "task_a": ticket_a["open_tasks"][0]["id"], "task_b": ticket_b["open_tasks"][0]["id"], "done_a": done_a.id,
            "instance_a": ticket_a["instance_id"], "instance_b": ticket_b["instance_id"], "kb": kb.get_json()["id"],
            "version": version, "draft": draft,
        }
    return ids


def _clients(app, api) -> dict[str, tuple]:
    """Per user: a signed-in page client and API headers."""
    out = {}
    for user in USERS:
        desk = Desk(app.test_client())
        res = desk.login(user)
        assert res.status_code == 200, user
        out[user] = (desk.client, {"Authorization": f"Bearer {api.token(user)}"} if user != CUSTOMER else {})
    return out


ANSWERED_BY_REDIRECT = {"/", "/reports", "/reports/scorecard"}  # to the inbox, to a default period


def _expected(users: set[str] | None, user: str, path: str) -> set[int]:
    if users is None or user in users:
        return {302} if path in ANSWERED_BY_REDIRECT else {200}
    if user == CUSTOMER and not path.startswith("/portal/"):
        return {401} if path.startswith("/api/") else {302}  # the staff side sends customers to the portal
    if path.startswith("/portal/") and user != CUSTOMER:
        return {302, 403}  # staff on the portal: to its sign-in page
    if path.startswith("/portal/"):
        return {404}  # a customer asking for someone else's ticket: none such for them
    return {403}


# positive controls: these answers show the caller's data to whoever may read them
SHOWS = {"/tickets/{a}": A, "/tickets/{b}": B, "/api/tickets/{a}": A, "/api/tickets/{b}": B}


def _text(res) -> str:
    """The body as text, JSON with its Chinese unescaped (so a name is found in it)."""
    if res.mimetype == "application/json":
        return json.dumps(res.get_json(), ensure_ascii=False)
    return res.get_data(as_text=True) if res.mimetype.startswith("text/") else ""


def test_route_by_role(app, api, dataset):
    clients = _clients(app, api)
    failures = []
    for endpoint, template, users in ROUTES:
        path = _path(template, dataset)
        for user in USERS:
            client, headers = clients[user]
            res = client.get(path, headers=headers if path.startswith("/api/") else {})
            body = _text(res)
            res.close()
            if res.status_code not in _expected(users, user, path):
                failures.append(f"{user:>26} GET {path}: {res.status_code}, expected {_expected(users, user, path)}")
            for secrets, readers in ((A, READS_A), (B, READS_B)):
                leaked = [v for v in secrets.values() if v in body]
                if leaked and user not in readers:
                    failures.append(f"{user:>26} GET {path}: shows {leaked}")
                shown = SHOWS.get(template)
                if shown is secrets and res.status_code == 200 and len(leaked) != len(secrets):
                    failures.append(f"{user:>26} GET {path}: a reader misses the caller's data ({leaked})")
    assert not failures, "\n".join(failures)


def test_page_writes_on_a_ticket_refuse_who_may_not_read_it(desk, dataset):
    desk.login("eng2")
    a = dataset["a"]
    assert desk.post(f"/tickets/{a}/notes", {"text": "不该写上"}).status_code == 403
    assert desk.post(f"/onsite/new/{a}", {"arrived_at": "2026-11-24T09:00", "work_done": "w"}).status_code == 403
    desk.login("eng1")
    assert desk.post(f"/tickets/{a}/notes", {"text": "已到场"}).status_code == 303
    notes = desk.text(f"/tickets/{a}")
    assert "已到场" in notes and "不该写上" not in notes
