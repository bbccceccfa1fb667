"""The customer portal in Chromium: a customer signs in, submits a request with a file, replies,
and rates the fix; someone without an account looks the ticket up by number and phone."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def call(base: str, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as res:
        return json.loads(res.read())


def staff_token(base: str, username: str) -> str:
    return call(base, "/api/tokens", {"username": username, "password": "demo"})["token"]


def complete(base: str, token: str, number: str, bpmn_id: str, **data) -> None:
    request = urllib.request.Request(f"{base}/api/tasks?scope=group&ticket={number}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as res:
        task = next(t for t in json.loads(res.read())["items"] if t["bpmn_id"] == bpmn_id)
    call(base, f"/api/tasks/{task['id']}/complete", {"data": data}, token)


def test_a_customer_uses_the_portal(server, new_page, output):
    agent = staff_token(server, "agent1")
    call(server, "/api/customers", {"name": "市第二中学", "contacts": [
        {"name": "赵老师", "phone": "13712345678", "email": "zhao@school.example.cn"}]}, agent)
    password = call(server, "/api/portal-accounts", {"email": "zhao@school.example.cn"}, agent)["password"]

    page = new_page()
    page.goto(server + "/portal/")
    page.wait_for_url("**/portal/login**")
    page.fill("#email", "zhao@school.example.cn")
    page.fill("#password", password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/portal/")
    page.get_by_role("link", name="提交服务请求").click()
    page.locator('label.choice:has(input[value="request"])').click()
    page.fill("#title", "机房空调需要检修")
    page.fill("#description", "二楼机房空调温度偏高，请安排检修。")
    page.set_input_files("#files", files=[{"name": "温度记录.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.screenshot(path=str(output / "portal-new.png"), full_page=True)
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r".*/portal/tickets/SR-\d{8}-\d{4}$"))
    number = page.url.rsplit("/", 1)[1]
    assert "机房空调需要检修" in page.content() and "温度记录.pdf" in page.content()
    assert page.locator("[data-status]").inner_text() == "处理中"

    page.fill('textarea[name="text"]', "补充：下午三点后温度最高")
    page.get_by_role("button", name="发送回复").click()
    page.wait_for_url(f"**/portal/tickets/{number}")
    assert page.locator("[data-reply]").filter(has_text="下午三点后温度最高").count() == 1

    complete(server, agent, number, "classify", category="other", impact="low", urgency="medium")
    complete(server, agent, number, "online_fix", outcome="resolved", solution="已清洗空调滤网")
    page.reload()
    assert page.locator("[data-status]").inner_text() == "已解决"
    page.locator('#rate label.choice:has(input[name="solved"][value="yes"])').click()
    page.locator('#rate label.choice:has(input[value="very_satisfied"])').click()
    page.fill("#comment", "响应很快")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_url(f"**/portal/tickets/{number}")
    assert page.locator("[data-rating]").inner_text() == "非常满意"
    page.screenshot(path=str(output / "portal-ticket.png"), full_page=True)
    page.goto(server + "/portal/")
    assert page.locator(f'tr[data-number="{number}"]').count() == 1
    assert page.errors == []

    visitor = new_page()
    visitor.goto(server + "/portal/lookup")
    visitor.fill("#number", number)
    visitor.fill("#phone", "137 1234 5678")
    visitor.get_by_role("button", name="查询").click()
    assert visitor.locator("[data-status]").inner_text() == "已解决"
    assert visitor.locator("#reply").count() == 0 and visitor.locator("#rate").count() == 0
