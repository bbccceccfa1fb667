"""Page tests drive the desk as a browser would: a session cookie, CSRF tokens, form posts.

``desk`` is a signed-in page client (``desk.login("agent1")``); process steps the
test is not about go through the JSON API (the ``api`` fixture) to stay short.
The zh_CN catalog is compiled here when ``make translations`` has not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "webforms" / "translations"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as src:
                catalog = read_po(src)
            with mo.open("wb") as out:
                write_mo(out, catalog)


class Desk:
    """A browser-like client: signs in through the login page and posts forms with their CSRF token."""

    def __init__(self, client) -> None:
        self.client = client
        self.token: str | None = None

    def token_from(self, html: str) -> str:
        match = CSRF.search(html)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def login(self, username: str, password: str = "demo", *, follow: bool = True):
        self.client.post("/logout", data={"csrf_token": self.token or ""})
        page = self.client.get("/login")
        self.token = self.token_from(page.get_data(as_text=True))
        res = self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": self.token},
            follow_redirects=follow,
        )  # fmt: skip
        if res.status_code == 200 and "/login" not in res.request.path:
            self.token = self.token_from(res.get_data(as_text=True))
        return res

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        return self.client.post(path, data=data, **kwargs)

    def text(self, path: str, status: int = 200) -> str:
        res = self.get(path)
        assert res.status_code == status, (res.status_code, res.get_data(as_text=True)[:2000])
        return res.get_data(as_text=True)

    def new_ticket(self, **fields) -> str:
        """Register a call on the intake page; returns the new ticket's number."""
        data = {
            "type": "incident", "channel": "phone", "title": "核心交换机端口故障",
            "description": "三楼机房核心交换机 Gi0/1 端口频繁 down", "reporter_name": "王工",
            "organisation": "市人民医院信息科", "phone": "13800000000", "email": "wang@example.cn",
            "occurred_at": "2026-11-23T08:30",
        }  # fmt: skip
        data.update(fields)
        res = self.post("/tickets/new", data)
        assert res.status_code == 302, res.get_data(as_text=True)[:3000]
        location = res.headers["Location"]
        if location.startswith("/tasks/"):  # the registrant goes straight on to classify it
            location = re.search(r'href="(/tickets/[A-Z]+-\d{8}-\d{4})"', self.text(location)).group(1)
        return location.rsplit("/", 1)[1]


@pytest.fixture
def desk(client) -> Desk:
    return Desk(client)
