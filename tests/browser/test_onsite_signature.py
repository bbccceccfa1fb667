"""The customer signs the on-site service record on a phone-sized screen, in a real browser."""

from __future__ import annotations

import re

import pytest

from .test_desk_in_browser import Person
from .test_portal_in_browser import complete, staff_token

pytestmark = pytest.mark.browser


def draw(page) -> None:
    """A scribble across the signature box, as a finger would."""
    canvas = page.locator("canvas[data-signature]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 40 + (step % 3) * 30)
    page.mouse.up()


def test_customer_signs_on_the_canvas(server, new_page):
    desk = Person(new_page(), server)
    desk.login("agent1")
    number = desk.register(title="服务器硬盘告警", description="存储服务器硬盘亮黄灯", reporter_name="王工",
                           organisation="市人民医院信息科", phone="13800000000")
    agent = staff_token(server, "agent1")  # on to eng1 through the project's PM: eng1 reads it then (issue 11)
    complete(server, agent, number, "classify", category="network", impact="medium", urgency="medium")
    complete(server, agent, number, "online_fix", outcome="dispatch", solution="远程排查无果")
    complete(server, staff_token(server, "pm1"), number, "pm_assign", engineer="eng1")
    phone = new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    engineer = Person(phone, server)
    engineer.login("eng1")
    phone.goto(f"{server}/onsite/new/{number}")
    phone.fill('[name="arrived_at"]', "2026-11-24T09:00")
    phone.fill('[name="departed_at"]', "2026-11-24T10:30")
    phone.fill('[name="work_done"]', "更换故障硬盘，重建 RAID")
    phone.check('[name="risky_work"]')
    phone.check('[name="backup_done"]')
    phone.get_by_role("button", name="保存").click()
    phone.wait_for_url(re.compile(r".*/onsite/\d+$"))

    # signature 1 of 2: the customer confirms the backup before the risky work
    draw(phone)
    phone.fill('[name="signer_name"]', "王工")
    phone.get_by_role("button", name="确认已备份").click()
    phone.wait_for_selector("text=已签字确认数据备份")
    # signature 2 of 2: the visit is signed off
    draw(phone)
    phone.fill('[name="signer_name"]', "王工")
    phone.fill('[name="signer_phone"]', "13800000000")
    phone.get_by_role("button", name="确认并签字").click()
    phone.wait_for_selector("text=已由 王工 签字")
    # the text shows before the images have loaded: wait for both to finish (a broken one finishes at width 0)
    phone.wait_for_function("[...document.querySelectorAll('img.signature')].every(i => i.complete)")
    widths = phone.evaluate("[...document.querySelectorAll('img.signature')].map(i => i.naturalWidth)")
    assert widths == [600, 600]
    assert phone.errors == []
