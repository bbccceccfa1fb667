"""The on-site service record pages: write on the phone, sign, print."""

from __future__ import annotations

from api.test_onsite import png_data_url


def test_write_sign_and_print(desk, api):
    number = api.new_ticket()["number"]
    api.dispatch(number)  # eng1's ticket (issue 11)
    desk.login("eng1")
    assert "新建现场服务记录" in desk.text(f"/tickets/{number}")
    assert "工作内容" in desk.text(f"/onsite/new/{number}")
    res = desk.post(f"/onsite/new/{number}", {"arrived_at": "2026-11-24T09:00", "departed_at": "2026-11-24T10:30",
                                               "work_done": "更换硬盘", "parts": "硬盘 × 1", "risky_work": "on",
                                               "backup_note": "客户自行备份"})
    assert res.status_code == 302
    url = res.headers["Location"]
    page = desk.text(url)
    assert "data-signature" in page and "禁止代签" in page
    # risky work without the backup box ticked: refused with the reason
    res = desk.post(url + "/sign", {"signer_name": "王工", "signer_phone": "13800000000", "signature": png_data_url()})
    assert res.status_code == 422 and "须先备份数据" in res.get_data(as_text=True)
    record_id = url.rsplit("/", 1)[1]
    edit = desk.text(f"/onsite/{record_id}/edit")
    assert 'value="2026-11-24T09:00"' in edit
    desk.post(f"/onsite/{record_id}/edit", {"arrived_at": "2026-11-24T09:00", "departed_at": "2026-11-24T10:30",
                                            "work_done": "更换硬盘", "risky_work": "on", "backup_done": "on",
                                            "backup_note": "客户自行备份"})
    page = desk.text(url)
    assert "客户签字确认数据备份" in page and "客户自行备份" in page and "/confirm_backup" in page
    res = desk.post(url + "/confirm_backup", {"signer_name": "王工", "signature": png_data_url()})
    assert res.status_code == 302
    page = desk.text(url)
    assert "备份确认人" in page and "/sign" in page and "签字人电话" in page
    res = desk.post(url + "/sign", {"signer_name": "王工", "signer_phone": "13800000000", "opinion": "满意",
                                    "signature": png_data_url()})
    assert res.status_code == 302
    page = desk.text(url)
    assert "王工" in page and "13800000000" in page and page.count('class="signature"') == 2
    assert "data-signature" not in page
    printed = desk.text(url + "/print")
    assert "运维现场服务记录单" in printed and "更换硬盘" in printed and "王工" in printed and "sidebar" not in printed
    ticket = desk.text(f"/tickets/{number}")
    assert "王工 已签字" in ticket and "客户签字确认" in ticket


def test_empty_signature_and_proxy_signing_are_refused(desk, api):
    number = api.new_ticket()["number"]
    api.dispatch(number)  # eng1's ticket (issue 11)
    rec = api.post("eng1", f"/api/tickets/{number}/onsite", json={"arrived_at": "2026-11-24T09:00:00+08:00",
                   "departed_at": "2026-11-24T10:00:00+08:00", "work_done": "巡检"}).get_json()
    desk.login("eng1")
    res = desk.post(f"/onsite/{rec['id']}/sign", {"signer_name": "王工", "signer_phone": "1", "signature": ""})
    assert res.status_code == 422 and "请客户在屏幕上签名" in res.get_data(as_text=True)
    res = desk.post(f"/onsite/{rec['id']}/sign", {"signer_name": "刘工", "signer_phone": "1", "signature": png_data_url()})
    assert res.status_code == 422 and "禁止代签" in res.get_data(as_text=True)
    desk.login("agent1")
    assert desk.post(f"/onsite/{rec['id']}/sign", {"signer_name": "王工"}).status_code == 403
