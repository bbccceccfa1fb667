"""The customer portal's pages: sign in, submit with files, see only one's own tickets, reply, rate, look up."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner

from engine.desk import customers
from engine.models import Attachment, Inbound, OutboxMail, Ticket, TicketNote
from webforms.cli import main
from webforms.extensions import db

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture
def archive(app):
    with app.app_context():
        customers.create(db.session, {"name": "市人民医院信息科", "contacts": [
            {"name": "王工", "phone": "138-0000-0000", "email": "wang@hospital.example.cn"},
            {"name": "李工", "phone": "13900000000", "email": "li@hospital.example.cn"}]}, actor="tests")
        db.session.commit()
        db.session.remove()


@pytest.fixture
def account(app, archive) -> str:
    """``desk customer-account add EMAIL`` gives the contact a portal account and prints its password."""
    result = CliRunner().invoke(main, ["customer-account", "add", "Wang@hospital.example.cn", "--password", "s3cret-pw"],
                                env={"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}, catch_exceptions=False)
    assert result.exit_code == 0 and "wang@hospital.example.cn: s3cret-pw" in result.output, result.output
    return "wang@hospital.example.cn"


class Customer:
    def __init__(self, client) -> None:
        self.client = client
        self.token = ""

    def page(self, path: str, status: int = 200) -> str:
        res = self.client.get(path)
        assert res.status_code == status, res.get_data(as_text=True)[:500]
        html = res.get_data(as_text=True)
        match = CSRF.search(html)
        self.token = match.group(1) if match else self.token
        return html

    def post(self, path: str, data: dict, **kwargs):
        return self.client.post(path, data={**data, "csrf_token": self.token}, **kwargs)

    def login(self, email: str, password: str = "s3cret-pw"):
        self.page("/portal/login")
        return self.post("/portal/login", {"email": email, "password": password})

    def submit(self, **fields) -> str:
        self.page("/portal/new")
        data = {"type": "incident", "title": "打印机无法打印", "description": "三楼打印机卡纸", **fields}
        res = self.post("/portal/new", data, content_type="multipart/form-data")
        assert res.status_code == 302, res.get_data(as_text=True)[:800]
        return res.headers["Location"].rsplit("/", 1)[1]


@pytest.fixture
def customer(client) -> Customer:
    return Customer(client)


def test_a_customer_submits_a_request_with_files(app, customer, account, api):
    assert customer.login(account).status_code == 302
    number = customer.submit(files=[(io.BytesIO(PDF), "screen.pdf"), (io.BytesIO(b"E-07 jam\n"), "printer.log")])
    html = customer.page(f"/portal/tickets/{number}")
    assert "打印机无法打印" in html and "screen.pdf" in html and "printer.log" in html
    ticket = api.ticket(number)
    assert ticket["channel"] == "web" and ticket["reporter_name"] == "王工"
    assert ticket["organisation"] == "市人民医院信息科" and ticket["email"] == "wang@hospital.example.cn"
    assert ticket["qualified"], ticket["missing_fields"]
    assert [t["bpmn_id"] for t in ticket["open_tasks"]] == ["classify"]  # the desk classifies it as any call
    with app.app_context():
        assert db.session.query(Attachment).count() == 2
        assert db.session.query(OutboxMail).filter_by(kind="customer_accepted").one().to_addr == account
    assert number in customer.page("/portal/")
    with app.app_context():
        pdf = db.session.query(Attachment).filter_by(filename="screen.pdf").one().id
    download = customer.client.get(f"/portal/tickets/{number}/files/{pdf}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert customer.client.get(f"/portal/tickets/{number}/files/{pdf + 99}").status_code == 404


def test_a_refused_file_means_no_ticket(app, customer, account):
    customer.login(account)
    customer.page("/portal/new")
    res = customer.post("/portal/new", {"type": "incident", "title": "x", "description": "y",
                                        "files": [(io.BytesIO(b"MZ\x90\x00binary"), "tool.exe")]},
                        content_type="multipart/form-data")
    assert res.status_code == 422 and "tool.exe" not in res.get_data(as_text=True).split("<form")[0]
    with app.app_context():
        assert db.session.query(Ticket).count() == 0


def test_the_form_says_what_is_missing(customer, account):
    customer.login(account)
    customer.page("/portal/new")
    res = customer.post("/portal/new", {"type": "incident", "title": "", "description": ""})
    assert res.status_code == 422 and res.get_data(as_text=True).count("error-message") == 2


def test_customers_see_only_their_own_tickets(app, client, customer, account, api):
    other = api.new_ticket(email="li@hospital.example.cn", phone="13900000000")["number"]
    customer.login(account)
    mine = customer.submit()
    listing = customer.page("/portal/")
    assert mine in listing and other not in listing
    assert client.get(f"/portal/tickets/{other}").status_code == 404
    assert client.get(f"/portal/tickets/{other}/files/1").status_code == 404


def test_customers_stay_out_of_the_staff_desk_and_api(client, customer, account):
    customer.login(account)
    for path in ("/inbox", "/tickets", "/tickets/new"):
        res = client.get(path)
        assert res.status_code == 302 and res.headers["Location"].endswith("/portal/"), path
    token = client.post("/api/tokens", json={"username": account, "password": "s3cret-pw"}).get_json()["token"]
    assert client.get("/api/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_staff_cannot_sign_in_to_the_portal(customer):
    res = customer.login("agent1", "demo")
    assert res.status_code == 401


def test_reply_and_rate(app, customer, account, api):
    customer.login(account)
    number = customer.submit()
    customer.page(f"/portal/tickets/{number}")
    res = customer.post(f"/portal/tickets/{number}/reply", {"text": "补充：只有 A4 纸盒卡纸"})
    assert res.status_code == 302
    assert "只有 A4 纸盒卡纸" in customer.page(f"/portal/tickets/{number}")
    html = customer.page(f"/portal/tickets/{number}")
    assert 'id="rate"' not in html  # nothing to rate yet
    api.complete("agent1", number, "classify", category="desktop", impact="low", urgency="low")
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="清理搓纸轮")
    html = customer.page(f"/portal/tickets/{number}")
    assert 'id="rate"' in html and "清理搓纸轮" in html
    res = customer.post(f"/portal/tickets/{number}/rate", {"solved": "yes", "satisfaction": "very_satisfied",
                                                            "comment": "很快"})
    assert res.status_code == 302
    ticket = api.ticket(number)
    assert ticket["satisfaction"] == "very_satisfied"
    assert [t["bpmn_id"] for t in ticket["open_tasks"]] == ["close"]  # the callback is done: on to the lead
    again = customer.post(f"/portal/tickets/{number}/rate", {"solved": "yes", "satisfaction": "dissatisfied"})
    assert again.status_code == 409
    with app.app_context():
        assert db.session.query(TicketNote).filter_by(internal=False).count() == 1


def test_not_solved_sends_it_back(customer, account, api):
    customer.login(account)
    number = customer.submit()
    api.complete("agent1", number, "classify", category="desktop", impact="low", urgency="low")
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="重启")
    customer.page(f"/portal/tickets/{number}")
    customer.post(f"/portal/tickets/{number}/rate", {"solved": "no", "satisfaction": "dissatisfied"})
    ticket = api.ticket(number)
    assert ticket["status"] == "open" and ticket["reopened"] == 1
    assert [t["bpmn_id"] for t in ticket["open_tasks"]] == ["online_fix"]  # back to whoever resolved it
    assert "退回处理人员重新处理" in customer.page(f"/portal/tickets/{number}")


def test_a_dissatisfied_rating_goes_to_the_leads_callback_review(customer, account, api):
    customer.login(account)
    number = customer.submit()
    api.complete("agent1", number, "classify", category="desktop", impact="low", urgency="low")
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="重启")
    html = customer.page(f"/portal/tickets/{number}")
    assert html.count('name="satisfaction"') == 4  # the callback form's four levels (issue 8)
    res = customer.post(f"/portal/tickets/{number}/rate", {"solved": "yes", "satisfaction": "dissatisfied",
                                                            "comment": "等了太久"})
    assert res.status_code == 302
    ticket = api.ticket(number)
    assert [t["bpmn_id"] for t in ticket["open_tasks"]] == ["callback_review"]  # the lead decides, as on the phone
    assert ticket["satisfaction"] == "dissatisfied" and ticket["callback_attempts"] == 1
    html = customer.page(f"/portal/tickets/{number}")
    assert "组长将查看您的评价" in html and 'id="rate"' not in html


def test_a_rating_needs_both_answers(customer, account, api):
    customer.login(account)
    number = customer.submit()
    api.complete("agent1", number, "classify", category="desktop", impact="low", urgency="low")
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="重启")
    customer.page(f"/portal/tickets/{number}")
    res = customer.post(f"/portal/tickets/{number}/rate", {"solved": "yes", "satisfaction": "so-so"})
    assert res.status_code == 422
    assert [t["bpmn_id"] for t in api.ticket(number)["open_tasks"]] == ["callback"]


def test_lookup_by_number_and_phone(app, client, customer, api):
    number = api.new_ticket(phone="138-0000-0000")["number"]
    customer.page("/portal/lookup")
    res = customer.post("/portal/lookup", {"number": number.lower(), "phone": "13800000000"})
    assert res.status_code == 200 and number in res.get_data(as_text=True)
    assert 'id="reply"' not in res.get_data(as_text=True)
    wrong = customer.post("/portal/lookup", {"number": number, "phone": "13800000001"})
    assert wrong.status_code == 404 and number not in wrong.get_data(as_text=True).split("<form")[0]


def test_lookups_are_throttled(app, customer, api):
    number = api.new_ticket(phone="13800000000")["number"]
    customer.page("/portal/lookup")
    codes = [customer.post("/portal/lookup", {"number": f"INC-20261124-{i:04d}", "phone": "13800000000"}).status_code
             for i in range(10)]
    assert set(codes) == {404}
    assert customer.post("/portal/lookup", {"number": number, "phone": "13800000000"}).status_code == 429
    with app.app_context():
        assert db.session.query(Inbound).filter_by(channel="lookup").count() == 10


def test_a_customer_is_throttled(app, customer, account):
    app.config["DESK_PORTAL_RATE"] = 2
    customer.login(account)
    customer.submit()
    customer.submit(title="第二个问题")
    customer.page("/portal/new")
    res = customer.post("/portal/new", {"type": "incident", "title": "第三个", "description": "..."})
    assert res.status_code == 429
    with app.app_context():
        assert db.session.query(Ticket).count() == 2
