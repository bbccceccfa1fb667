"""A ticket's whole life through the pages only, as each person at the desk does their part."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


class Person:
    """Someone at a desk: one browser page, signed in as one user at a time."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base

    def login(self, username: str) -> None:
        page = self.page
        page.goto(self.base + "/login")
        if "/login" not in page.url:  # still signed in as someone else
            page.get_by_role("button", name="退出").click()
            page.wait_for_url("**/login")
        page.fill("#username", username)
        page.fill("#password", "demo")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/inbox")

    def register(self, **fields) -> str:
        """Take a call on the intake screen; returns the new ticket's number."""
        page = self.page
        page.get_by_role("link", name="新建工单").click()
        page.wait_for_url("**/tickets/new")
        self.choose("type", fields.pop("type", "incident"))
        for name, value in fields.items():
            page.fill(f'[name="{name}"]', value)
        page.get_by_role("button", name="登记工单").click()
        page.wait_for_url(re.compile(r".*/(tickets/[A-Z]+-\d{8}-\d{4}|tasks/\d+)$"))
        if "/tasks/" in page.url:  # the registrant goes straight on to classify the call
            return page.locator(".summary-head a.mono").inner_text().strip()
        return page.url.rsplit("/", 1)[1]

    def open_task(self, number: str, bpmn_id: str) -> None:
        page = self.page
        page.goto(self.base + "/inbox?scope=group")
        row = page.locator(f'tr[data-bpmn="{bpmn_id}"]', has_text=number)
        row.get_by_role("link", name="打开").click()
        page.wait_for_url(re.compile(r".*/tasks/\d+$"))

    def choose(self, name: str, value: str) -> None:
        self.page.locator(f'label.choice:has(input[name="{name}"][value="{value}"])').click()

    def select(self, name: str, value: str) -> None:
        self.page.select_option(f'select[name="{name}"]', value)

    def fill(self, name: str, text: str) -> None:
        self.page.fill(f'[name="{name}"]', text)

    def complete(self) -> None:
        """Submit the form: the page goes on to the person's next step of the case, else to the ticket."""
        before = self.page.url
        self.page.get_by_role("button", name="提交完成").click()
        self.page.wait_for_url(lambda url: url != before and re.search(r"/(tasks/\d+|tickets/[A-Z]+-[\d-]+)$", url))
        assert "已完成" in self.page.locator(".flash-success").inner_text()


def marked(page, file: str, marker: str) -> set[str]:
    selector = f'.diagram[data-file="{file}"] g.{marker}'
    return set(page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.elementId)"))


def test_a_ticket_from_call_to_close(server, new_page, output):
    desk = Person(new_page(), server)
    page = desk.page

    # 服务台 takes the call
    desk.login("agent1")
    number = desk.register(
        reporter_name="王工", organisation="市人民医院信息科", phone="13800000000", email="wang@example.cn",
        title="核心交换机端口故障", description="三楼机房核心交换机 Gi0/1 端口频繁 down",
        occurred_at="2026-11-23T08:30",
    )  # fmt: skip
    assert number.startswith("INC-")
    desk.open_task(number, "classify")
    assert "王工您好" in page.locator(".instructions").inner_text()  # the standard phrase, filled in
    desk.select("category", "network")
    desk.choose("impact", "high")
    desk.choose("urgency", "medium")
    page.screenshot(path=str(output / "task-form.png"))
    desk.complete()

    page.goto(server + "/inbox?scope=group")
    page.wait_for_selector("time.countdown")
    assert re.search(r"剩余 \d", page.locator('tr[data-bpmn="online_fix"]', has_text=number).inner_text())
    page.screenshot(path=str(output / "inbox.png"))

    desk.open_task(number, "online_fix")
    desk.choose("outcome", "dispatch")
    desk.fill("solution", "远程排查无果，需要到场")
    desk.complete()

    # the project manager sends an engineer
    desk.login("pm1")
    desk.open_task(number, "pm_assign")
    desk.select("engineer", "eng1")
    desk.fill("pm_note", "请尽快到场")
    desk.complete()

    # the engineer escalates to tech support
    desk.login("eng1")
    desk.open_task(number, "engineer")
    desk.choose("outcome", "escalate")
    desk.fill("solution", "疑似光模块硬件故障")
    desk.complete()

    # tech support solves it
    desk.login("ts1")
    desk.open_task(number, "tech_support")
    desk.choose("outcome", "resolved")
    desk.fill("solution", "更换光模块后端口恢复")
    desk.complete()

    # the project manager confirms it is done, then the desk
    desk.login("pm1")
    desk.open_task(number, "pm_confirm")
    desk.choose("pm_confirmed", "confirmed")
    desk.complete()
    desk.login("agent1")
    desk.open_task(number, "desk_confirm")
    desk.choose("desk_confirmed", "confirmed")
    desk.complete()

    # the desk calls the customer back
    desk.login("agent1")
    desk.open_task(number, "callback")
    desk.choose("reached", "true")
    desk.choose("solved", "true")
    desk.choose("satisfaction", "satisfied")
    desk.fill("comment", "客户确认已恢复")
    desk.complete()

    # the lead closes it
    desk.login("lead1")
    desk.open_task(number, "close")
    desk.fill("summary", "光模块老化导致端口频繁 down，已更换")
    desk.choose("to_kb", "true")
    desk.complete()

    page.goto(f"{server}/tickets/{number}")
    page.wait_for_selector('body[data-diagram-ready="true"]')
    assert page.locator(".status-closed").count() == 1
    timeline = page.locator(".timeline").inner_text()
    for step in ("受理登记", "分类定级", "在线解决", "项目经理派单", "工程师处理", "技术支持处理", "回访", "关闭工单"):
        assert step in timeline, step
    for person in ("王小服", "张经理", "刘工", "赵技术", "李组长"):
        assert person in timeline, person
    assert "更换光模块后端口恢复" in timeline and "满意" in timeline

    desk_done = marked(page, "service_desk.bpmn", "path-done")
    assert {"intake", "classify", "resolution", "callback", "close"} <= desk_done
    assert "complaint_handling" not in desk_done
    assert {"Flow_start_to_intake", "Flow_type_other", "Flow_solved", "Flow_merge_close_to_close"} <= marked(
        page, "service_desk.bpmn", "path-taken"
    )
    work_done = marked(page, "resolution.bpmn", "path-done")
    assert {"online_fix", "pm_assign", "engineer", "tech_support"} <= work_done
    assert "vendor_result" not in work_done
    taken = marked(page, "resolution.bpmn", "path-taken")
    assert {"Flow_dispatch", "Flow_escalate", "Flow_tech_resolved"} <= taken
    assert not {"Flow_online_resolved", "Flow_vendor", "Flow_return_to_pm"} & taken
    assert marked(page, "service_desk.bpmn", "path-current") == set()
    page.screenshot(path=str(output / "ticket.png"))
    page.screenshot(path=str(output / "ticket-full.png"), full_page=True)
    assert page.errors == []


def test_the_current_step_is_highlighted(server, new_page):
    desk = Person(new_page(), server)
    desk.login("agent1")
    number = desk.register(title="打印机无法打印", description="财务部打印机卡纸", reporter_name="钱会计",
                           organisation="财务部", phone="010-12345678")
    desk.page.goto(f"{server}/tickets/{number}")
    desk.page.wait_for_selector('body[data-diagram-ready="true"]')
    assert marked(desk.page, "service_desk.bpmn", "path-current") == {"classify"}
    assert {"start", "intake", "accept"} <= marked(desk.page, "service_desk.bpmn", "path-done")
    assert number in desk.page.locator(".ticket-head").inner_text()


def test_missing_required_field_shows_the_error_and_keeps_the_input(server, new_page):
    desk = Person(new_page(), server)
    desk.login("agent1")
    number = desk.register(title="邮件无法发送", description="Outlook 报错 0x800CCC0E")
    desk.open_task(number, "classify")
    page = desk.page

    def submit_unchecked() -> None:
        page.eval_on_selector("#task-form", "form => form.noValidate = true")  # as a browser that checks nothing
        with page.expect_navigation():
            page.get_by_role("button", name="提交完成").click()

    desk.select("category", "application")
    submit_unchecked()
    assert page.locator(".field.has-error").count() == 2
    assert "必填" in page.locator('[data-field="impact"] .error').inner_text()
    assert page.input_value('select[name="category"]') == "application"
    desk.choose("impact", "low")
    submit_unchecked()
    assert page.is_checked('input[name="impact"][value="low"]')
    assert page.input_value('select[name="category"]') == "application"
    assert page.locator(".field.has-error").count() == 1
    assert "必填" in page.locator('[data-field="urgency"] .error').inner_text()


def test_the_second_person_is_told_who_was_first(server, new_page):
    first, second = Person(new_page(), server), Person(new_page(), server)
    first.login("agent1")
    number = first.register(title="VPN 无法连接", description="出差员工无法连接 VPN", type="request")
    second.login("admin1")  # the classification is agent1's now; an admin may step in
    first.open_task(number, "classify")
    second.open_task(number, "classify")
    for person in (first, second):
        person.select("category", "network")
        person.choose("impact", "low")
        person.choose("urgency", "low")
    first.complete()
    second.page.get_by_role("button", name="提交完成").click()
    message = second.page.locator(".conflict").inner_text()
    assert re.search(r"该任务已由 王小服 于 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d 完成", message), message


def test_intake_lookup_fills_the_caller(server, new_page):
    desk = Person(new_page(), server)
    desk.login("agent1")
    desk.register(title="网络中断", description="整层断网", reporter_name="孙主任", organisation="市第三中学信息中心",
                  phone="13911112222", email="sun@school.cn")
    page = desk.page
    page.get_by_role("link", name="新建工单").click()
    page.wait_for_selector(".check-bad")
    page.locator('[name="organisation"]').press_sequentially("市第三", delay=30)
    page.locator(".suggestion", has_text="孙主任").click()
    assert page.input_value('[name="reporter_name"]') == "孙主任"
    assert page.input_value('[name="phone"]') == "13911112222"
    assert page.input_value('[name="email"]') == "sun@school.cn"
    page.fill('[name="description"]', "打印机离线")
    page.fill('[name="occurred_at"]', "2026-11-23T09:00")
    page.locator('[name="description"]').dispatch_event("input")
    page.wait_for_selector(".check-good")
