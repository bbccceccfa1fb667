"""The customer signs the on-site service record on a phone-sized screen, in a real browser."""

from __future__ import annotations

import re

import pytest

from .test_desk_in_browser import Person

pytestmark = pytest.mark.browser


def test_customer_signs_on_the_canvas(server, new_page):
    desk = Person(new_page(), server)
    desk.login("agent1")
    number = desk.register(title="服务器硬盘告警", description="存储服务器硬盘亮黄灯", reporter_name="王工",
                           organisation="市人民医院信息科", phone="13800000000")
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

    canvas = phone.locator("canvas[data-signature]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + 40)
    phone.mouse.down()
    for step in range(1, 12):
        phone.mouse.move(box["x"] + 20 + step * 25, box["y"] + 40 + (step % 3) * 30)
    phone.mouse.up()
    phone.fill('[name="signer_name"]', "王工")
    phone.fill('[name="signer_phone"]', "13800000000")
    phone.get_by_role("button", name="确认并签字").click()
    phone.wait_for_selector("img.signature")
    assert "已由 王工 签字" in phone.content()
    assert phone.evaluate("document.querySelector('img.signature').naturalWidth") == 600
    assert phone.errors == []
