"""Notes, files and the customer archive on the staff pages."""

from __future__ import annotations

import io

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 30


def test_note_and_file_on_the_ticket_page(desk):
    desk.login("agent1")
    number = desk.new_ticket()
    res = desk.post(f"/tickets/{number}/notes", {"text": "客户已重启交换机", "visibility": "internal"})
    assert res.status_code == 303
    desk.post(f"/tickets/{number}/notes", {"text": "明早九点上门", "visibility": "reply"})
    res = desk.post(f"/tickets/{number}/attachments", {"file": (io.BytesIO(PNG), "端口截图.png")},
                    content_type="multipart/form-data")
    assert res.status_code == 303
    page = desk.text(f"/tickets/{number}")
    assert "客户已重启交换机" in page and "明早九点上门" in page
    assert "内部" in page and "回复客户" in page
    assert "端口截图.png" in page and "已附加文件" in page  # the file and its audit entry in the timeline
    link = page.split('href="/tickets/files/')[1].split('"')[0]
    res = desk.get(f"/tickets/files/{link}")
    assert res.status_code == 200 and res.data == PNG and res.headers["X-Content-Type-Options"] == "nosniff"


def test_bad_file_and_empty_note_are_refused_with_a_message(desk):
    desk.login("agent1")
    number = desk.new_ticket()
    res = desk.post(f"/tickets/{number}/attachments", {"file": (io.BytesIO(b"<html></html>"), "x.txt")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "文件未附加" in res.get_data(as_text=True)
    res = desk.post(f"/tickets/{number}/notes", {"text": " "}, follow_redirects=True)
    assert "备注未保存" in res.get_data(as_text=True)
    assert "暂无文件" in res.get_data(as_text=True)


def test_new_organisation_and_its_page(desk):
    desk.login("agent1")
    res = desk.post("/customers/new", {"name": "市人民医院信息科", "contact_name": "王工", "contact_phone": "13800000000",
                                       "device_model": "H3C S5560", "device_serial": "SN-1"})
    assert res.status_code == 302
    page = desk.text(res.headers["Location"])
    assert "市人民医院信息科" in page and "王工" in page and "SN-1" in page
    res = desk.post("/customers/new", {"name": "", "contact_name": "x"})
    assert res.status_code == 422 and "必填" in res.get_data(as_text=True)
    assert "市人民医院信息科" in desk.text("/customers?q=13800000000")
    assert "没有匹配的客户单位" in desk.text("/customers?q=无此单位")


def test_organisation_page_shows_tickets_complaints_and_sla_risks(desk, api):
    org = api.post("agent1", "/api/customers", json={"name": "市人民医院信息科",
                                                      "contacts": [{"name": "王工", "phone": "13800000000"}]}).get_json()
    number = api.new_ticket()["number"]
    complaint = api.new_ticket(type="complaint", title="工程师迟到")["number"]
    desk.login("lead1")
    page = desk.text(f"/customers/{org['id']}")
    assert number in page and complaint in page
    assert "没有临近或超过时限的工单" in page


def test_adding_contacts_devices_sites_contracts(desk, api):
    org = api.post("agent1", "/api/customers", json={"name": "市第一中学"}).get_json()
    desk.login("agent1")
    base = f"/customers/{org['id']}"
    assert desk.post(f"{base}/site", {"name": "东校区机房"}).status_code == 303
    assert desk.post(f"{base}/contact", {"name": "赵老师", "phone": "0571-1", "role": "信息中心主任"}).status_code == 303
    assert desk.post(f"{base}/device", {"model": "Dell R740", "serial": "CN-7", "warranty_until": "2027-06-30"}).status_code == 303
    assert desk.post(f"{base}/contract", {"sla_level": "金牌 7×24", "number": "HT-2026-01"}).status_code == 303
    res = desk.post(f"{base}/contact", {"name": "无电话"}, follow_redirects=True)
    assert "未添加" in res.get_data(as_text=True)
    detail = api.get("agent1", f"/api/customers/{org['id']}").get_json()
    assert [c["name"] for c in detail["contacts"]] == ["赵老师"]
    assert detail["devices"][0]["warranty_until"] == "2027-06-30"
    assert detail["sites"][0]["name"] == "东校区机房" and detail["contracts"][0]["sla_level"] == "金牌 7×24"
    desk.login("eng1")
    assert desk.post(f"{base}/site", {"name": "x"}).status_code == 403


def test_ticket_page_offers_to_add_what_is_new(desk, api):
    desk.login("agent1")
    number = desk.new_ticket(device_model="H3C S5560", device_serial="SN-9")
    page = desk.text(f"/tickets/{number}")
    assert "档案中没有" in page and "SN-9" in page
    res = desk.post(f"/customers/from-ticket/{number}")
    assert res.status_code == 303
    ticket = api.ticket(number)
    assert ticket["organisation_id"] and ticket["contact_id"] and ticket["device_id"]
    page = desk.text(f"/tickets/{number}")
    assert "档案中没有" not in page and "客户档案" in page
    # the next call from the same phone links by itself
    again = api.new_ticket()
    assert (again["organisation_id"], again["contact_id"]) == (ticket["organisation_id"], ticket["contact_id"])


def test_intake_fills_from_the_archive_and_links_what_was_picked(desk, api):
    org = api.post("agent1", "/api/customers", json={"name": "市人民医院信息科",
                                                      "contacts": [{"name": "李主任", "phone": "13900000000"}]}).get_json()
    desk.login("agent1")
    page = desk.text("/tickets/lookup?phone=139")
    assert "客户档案" in page and "李主任" in page and f'"contact_id": {org["contacts"][0]["id"]}' in page
    assert 'name="contact_id"' in desk.text("/tickets/new")
    number = desk.new_ticket(reporter_name="李主任", phone="13900000000", organisation_id=str(org["id"]),
                             contact_id=str(org["contacts"][0]["id"]))
    ticket = api.ticket(number)
    assert (ticket["organisation_id"], ticket["contact_id"]) == (org["id"], org["contacts"][0]["id"])
