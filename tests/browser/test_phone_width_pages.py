"""The pages of issues 9 and 14 at a phone's 390 px: reports, customers, knowledge, on-site, announcements.

Engineers on site and leads away from their desk use phones (issue 13): no page may be
wider than the screen, lists are cards and forms one column. Screenshots go to
tmp/artefacts/ (not committed) for people to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import close_context
from .test_desk_in_browser import Person

pytestmark = pytest.mark.browser

ARTEFACTS = Path(__file__).resolve().parents[2] / "tmp" / "artefacts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def data(server, browser):
    """A knowledge article, an announcement and a ticket with an on-site record, made once for the module."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    try:
        lead = Person(context.new_page(), server)
        lead.login("lead1")
        page = lead.page
        page.goto(server + "/kb/new")
        page.fill('[name="title"]', "打印机反复卡纸，清理搓纸轮后仍然卡纸的处理办法")
        page.fill('[name="symptom"]', "办公室激光打印机每次打印都卡纸")
        page.fill('[name="solution"]', "清理搓纸轮并更换分页器")
        page.get_by_role("button", name="保存").click()
        page.wait_for_url(re.compile(r".*/kb/\d+$"))
        article = page.url
        page.goto(server + "/announcements")
        page.fill('[name="title"]', "本周六 22:00–24:00 核心网络割接，期间外网访问中断")
        page.fill('[name="body"]', "请各单位提前做好安排。")
        with page.expect_navigation():
            page.get_by_role("button", name="发布").click()
        number = lead.register(title="服务器硬盘告警", description="存储服务器硬盘亮黄灯", reporter_name="王工",
                               organisation="市人民医院信息科", phone="13800000000")
        page.goto(f"{server}/tickets/{number}")
        with page.expect_navigation():
            page.get_by_role("button", name="加入客户档案").click()
        page.goto(server + "/customers")
        customer = page.locator("a[href^='/customers/']").filter(has_text="市人民医院信息科").first.get_attribute("href")
        yield {"article": article.removeprefix(server), "number": number, "customer": customer}
    finally:
        close_context(context)


PAGES = [
    ("reports", "lead1", "/reports"),
    ("reports-scorecard", "lead1", "/reports/scorecard"),
    ("reports-tickets", "lead1", "/reports/tickets?kpi=timely_rate&part=denominator"),
    ("reports-import", "admin1", "/reports/import"),
    ("customers", "agent1", "/customers"),
    ("customers-new", "lead1", "/customers/new"),
    ("customer", "agent1", "{customer}"),
    ("knowledge", "agent1", "/kb"),
    ("knowledge-article", "agent1", "{article}"),
    ("knowledge-new", "lead1", "/kb/new"),
    ("announcements", "lead1", "/announcements"),
    ("ticket-notes-files", "agent1", "/tickets/{number}"),
    ("onsite-new", "lead1", "/onsite/new/{number}"),  # issue 11: a lead reads every ticket, eng1 only theirs
]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_new_pages_fit_a_phone(server, browser, data, lang):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    wide = []
    for name, user, path in PAGES:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        try:
            person = Person(context.new_page(), server)
            errors = []
            person.page.on("pageerror", lambda error: errors.append(str(error)))
            person.login(user)
            page = person.page
            if lang == "en":
                with page.expect_navigation():
                    page.eval_on_selector('button[name="lang"][value="en"]', "b => b.click()")
            response = page.goto(server + path.format(**data))
            assert response.status == 200, (name, response.status)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(ARTEFACTS / f"phone-{name}-{lang}.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"] + 1:
                wide.append((name, width))
            assert page.locator(".sidebar").evaluate("s => s.getBoundingClientRect().right") <= 0, name  # folded
            assert errors == [], (name, errors)
        finally:
            close_context(context)
    assert wide == []
