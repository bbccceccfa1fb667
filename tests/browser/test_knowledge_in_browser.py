"""The classify form shows matching knowledge and records "this article helped", in a real browser."""

from __future__ import annotations

import re

import pytest

from .test_desk_in_browser import Person

pytestmark = pytest.mark.browser


def test_classify_form_suggests_and_records_an_article(server, new_page):
    lead = Person(new_page(), server)
    lead.login("lead1")
    page = lead.page
    page.goto(server + "/kb/new")
    page.fill('[name="title"]', "打印机反复卡纸")
    page.fill('[name="symptom"]', "办公室激光打印机每次打印都卡纸")
    page.fill('[name="solution"]', "清理搓纸轮并更换分页器")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/kb/\d+$"))
    page.get_by_role("button", name="发布").click()
    page.wait_for_selector("text=已发布。")

    agent = Person(new_page(), server)
    agent.login("agent1")
    number = agent.register(title="打印机卡纸", description="三楼打印机一直卡纸", reporter_name="赵老师",
                            organisation="市第一中学", phone="0571-88886666")
    agent.open_task(number, "classify")
    hits = agent.page.locator("#kb-suggestions")
    hits.get_by_text("打印机反复卡纸").wait_for()
    hits.get_by_role("button", name="这篇文章有帮助").click()
    hits.get_by_text("已在本工单引用").wait_for()
    agent.page.goto(f"{server}/tickets/{number}")
    assert "引用知识库文章" in agent.page.content()
    assert agent.page.errors == []
