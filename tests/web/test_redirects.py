"""Issue 11, open redirect: every ``next`` the desk follows stays on the site.

One table of hostile targets, tried on every route that takes a ``next``: the staff
and portal sign-in, the language switch, marking notifications read, claiming,
releasing and the inbox's bulk action. Each must land on the route's own default.
Form fields are sent as an attacker would write them on the wire (percent-encoded).
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest

from webforms.extensions import db
from webforms.redirects import safe_next

from .test_pages import task_id

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

HOSTILE = [
    "////evil.example", "///evil.example", "//evil.example", "//evil.example/inbox",
    "/\\evil.example", "/\\/evil.example", "\\\\evil.example", "\\/evil.example",
    "https://evil.example/", "HTTPS://evil.example", "http:evil.example", "https:/evil.example",
    "javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example", "inbox",
    "/\t/evil.example", "/\n/evil.example", "/\r\nSet-Cookie: stolen=1", "\r\n/inbox", " //evil.example",
    "/inbox\x00", "/\x0b/evil.example", "/ /evil.example", "%2F%2Fevil.example", "/" + "a" * 3000,
]
ENCODED = ["%2F%2Fevil.example", "%2F%5Cevil.example", "%2F%09%2Fevil.example", "%0D%0A%2Finbox"]  # raw on the wire


def wire(value: str) -> str:
    """A hostile value as it sits percent-encoded in a query string or form body."""
    return quote(value, safe="")


def hostile_on_the_wire() -> list[str]:
    return [wire(value) for value in HOSTILE] + ENCODED


def stays_here(location: str) -> bool:
    parts = urlsplit(location)
    return location.startswith("/") and not location.startswith("//") and "\\" not in location and not parts.netloc


def test_the_check_itself():
    for value in HOSTILE:
        assert safe_next(value, "/inbox") == "/inbox", value
    for value in ("/tickets?q=%E6%89%93%E5%8D%B0", "/tickets/INC-20261202-0001", "/inbox?scope=mine&sort=due",
                  "/knowledge/打印机", "/portal/"):
        assert safe_next(value, "/inbox") == value
    assert safe_next(None, "/inbox") == "/inbox" and safe_next("", "/inbox") == "/inbox"


class Browser:
    def __init__(self, client) -> None:
        self.client = client

    def token(self, path: str) -> str:
        return CSRF.search(self.client.get(path).get_data(as_text=True)).group(1)

    def post_raw(self, path: str, fields: dict[str, str], next_on_the_wire: str):
        """A form post whose ``next`` is given exactly as it travels (already percent-encoded)."""
        body = "&".join(f"{k}={quote(v, safe='')}" for k, v in fields.items()) + "&next=" + next_on_the_wire
        return self.client.post(path, data=body, content_type="application/x-www-form-urlencoded")

    def sign_in(self, username: str, next_on_the_wire: str, path: str = "/login", field: str = "username",
                password: str = "demo"):
        token = self.token(path)  # one CSRF token per session, good for every form
        self.client.post("/logout" if path == "/login" else "/portal/logout", data={"csrf_token": token})
        return self.client.post(f"{path}?next={next_on_the_wire}",
                                data={field: username, "password": password, "csrf_token": token})


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


def lands_home(res, raw: str, home: str) -> bool:
    """A hostile ``next`` leads to the safe default; one with a NUL character is refused as bad input
    before any route runs (issue 11's request check: a 422 that changes nothing)."""
    if "%00" in raw.lower():
        return res.status_code == 422 and "Location" not in res.headers
    return res.status_code == 302 and res.headers["Location"] == home


def test_staff_sign_in(browser):
    for raw in hostile_on_the_wire():
        res = browser.sign_in("agent1", raw)
        assert lands_home(res, raw, "/inbox"), (raw, res.headers.get("Location"))
    res = browser.sign_in("agent1", wire("/tickets?q=打印机"))
    assert res.headers["Location"].startswith("/tickets?q=") and stays_here(res.headers["Location"])  # a good one is kept


def test_portal_sign_in(app, browser):
    from engine.desk import accounts, customers

    with app.app_context():
        customers.create(db.session, {"name": "市第一中学", "contacts": [
            {"name": "赵老师", "phone": "13700000000", "email": "zhao@school.example.cn"}]}, actor="tests")
        accounts.add_account(db.session, "zhao@school.example.cn", "s3cret-pw")
        db.session.commit()
    for raw in hostile_on_the_wire():
        res = browser.sign_in("zhao@school.example.cn", raw, path="/portal/login", field="email", password="s3cret-pw")
        assert lands_home(res, raw, "/portal/"), (raw, res.headers.get("Location"))


def test_language_switch_and_notifications(desk, browser):
    desk.login("agent1")
    for raw in hostile_on_the_wire():
        res = browser.post_raw("/lang", {"lang": "zh_CN", "csrf_token": desk.token}, raw)
        assert lands_home(res, raw, "/inbox"), raw
        res = browser.post_raw("/notifications/read", {"ids": "all", "csrf_token": desk.token}, raw)
        assert lands_home(res, raw, "/notifications"), raw
    res = browser.post_raw("/lang", {"lang": "en", "csrf_token": desk.token}, wire("/tickets?q=x"))
    assert res.headers["Location"] == "/tickets?q=x"


def test_claim_release_and_bulk(desk, api, app, browser):
    number = api.new_ticket()["number"]
    tid = task_id(app, number, "classify")
    desk.login("agent1")
    browser.post_raw(f"/tasks/{tid}/unclaim", {"csrf_token": desk.token}, "")  # the registrant holds it; release
    for raw in hostile_on_the_wire():
        res = browser.post_raw(f"/tasks/{tid}/claim", {"csrf_token": desk.token}, raw)
        assert lands_home(res, raw, "/inbox?scope=mine"), raw
        res = browser.post_raw(f"/tasks/{tid}/unclaim", {"csrf_token": desk.token}, raw)
        assert lands_home(res, raw, "/inbox?scope=group"), raw
    desk.login("lead1")
    for raw in hostile_on_the_wire():
        res = browser.post_raw("/inbox/bulk", {"action": "claim", "task": str(tid), "csrf_token": desk.token}, raw)
        assert lands_home(res, raw, "/inbox?scope=all"), raw
