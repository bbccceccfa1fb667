"""On-site service records (003) through the API: the visit, the backup rule, the customer's own signature."""

from __future__ import annotations

import base64
import struct
import zlib

ARRIVED = "2026-11-24T09:00:00+08:00"
LEFT = "2026-11-24T10:30:00+08:00"


def png_data_url(width: int = 4, height: int = 2) -> str:
    """A real (tiny) PNG as a canvas would send it."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\xff\xff\x00" * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def record(api, number, user="eng1", **fields):
    body = {"arrived_at": ARRIVED, "departed_at": LEFT, "work_done": "更换硬盘并重装系统", "parts": "SAS 硬盘 600G × 1",
            "risky_work": True, "backup_done": True, "backup_note": "D 盘资料已备份到移动硬盘"}
    body.update(fields)
    return api.post(user, f"/api/tickets/{number}/onsite", json=body)


SIGNATURE = {"signer_name": "王工", "signer_phone": "13800000000", "opinion": "满意"}


def test_record_sign_and_keep_the_signature_with_the_ticket(api):
    number = api.new_ticket()["number"]
    api.dispatch(number)  # eng1's ticket: eng1 may read it and write its record (issue 11)
    res = record(api, number)
    assert res.status_code == 201, res.get_json()
    rec = res.get_json()
    assert rec["engineer"] == "eng1" and rec["signed_at"] is None
    # risky work: the customer first confirms the backup (signature 1 of 2, "签字确认2处")
    res = api.post("eng1", f"/api/onsite/{rec['id']}/sign", json={**SIGNATURE, "signature": png_data_url()})
    assert res.status_code == 422 and "backup_confirmed" in res.get_json()["fields"]
    res = api.post("eng1", f"/api/onsite/{rec['id']}/confirm-backup", json={"signer_name": "王工", "signature": png_data_url()})
    assert res.status_code == 200 and res.get_json()["backup_signer_name"] == "王工" and res.get_json()["backup_confirmed_at"]
    assert api.post("eng1", f"/api/onsite/{rec['id']}/confirm-backup",
                    json={"signer_name": "王工", "signature": png_data_url()}).status_code == 409
    res = api.post("eng1", f"/api/onsite/{rec['id']}/sign", json={**SIGNATURE, "signature": png_data_url()})
    assert res.status_code == 200, res.get_json()
    signed = res.get_json()
    assert signed["signer_name"] == "王工" and signed["signer_phone"] == "13800000000" and signed["signed_at"]
    picture = api.get("eng1", signed["signature_url"])
    assert picture.status_code == 200 and picture.data.startswith(b"\x89PNG")
    ticket = api.ticket(number)
    assert ticket["onsite"][0]["signature_id"] == signed["signature_id"]
    assert [a["kind"] for a in ticket["attachments"]] == ["signature", "signature"]
    assert {"onsite_record", "onsite_backup_confirmed", "onsite_signed"} <= {h["action"] for h in ticket["history"]}
    res = api.post("eng1", f"/api/onsite/{rec['id']}/sign", json={**SIGNATURE, "signature": png_data_url()})
    assert res.status_code == 409  # signed is final
    res = api.client.put(f"/api/onsite/{rec['id']}", json={"work_done": "x", "arrived_at": ARRIVED},
                         headers={"Authorization": f"Bearer {api.token('eng1')}"})
    assert res.status_code == 409


def test_risky_work_cannot_be_signed_before_the_backup(api):
    number = api.new_ticket()["number"]
    api.dispatch(number)  # eng1's ticket: eng1 may read it and write its record (issue 11)
    rec = record(api, number, backup_done=False, backup_note="").get_json()
    res = api.post("eng1", f"/api/onsite/{rec['id']}/sign", json={**SIGNATURE, "signature": png_data_url()})
    assert res.status_code == 422 and "backup_done" in res.get_json()["fields"]
    res = api.client.put(f"/api/onsite/{rec['id']}", json={**{k: v for k, v in rec.items() if k in (
        "work_done", "parts", "risky_work", "backup_note")}, "arrived_at": ARRIVED, "departed_at": LEFT, "backup_done": True},
        headers={"Authorization": f"Bearer {api.token('eng1')}"})
    assert res.status_code == 200
    assert api.post("eng1", f"/api/onsite/{rec['id']}/confirm-backup",
                    json={"signer_name": "王工", "signature": png_data_url()}).status_code == 200
    # once confirmed, the backup fields stay as the customer signed them
    res = api.client.put(f"/api/onsite/{rec['id']}", json={"work_done": "更换硬盘", "arrived_at": ARRIVED, "departed_at": LEFT,
                                                            "risky_work": False, "backup_done": False},
                         headers={"Authorization": f"Bearer {api.token('eng1')}"})
    assert res.get_json()["risky_work"] is True and res.get_json()["backup_done"] is True
    assert api.post("eng1", f"/api/onsite/{rec['id']}/sign", json={**SIGNATURE, "signature": png_data_url()}).status_code == 200


def test_no_backup_confirmation_without_risky_work_or_by_the_engineer(api):
    number = api.new_ticket()["number"]
    api.dispatch(number)  # eng1's ticket: eng1 may read it and write its record (issue 11)
    plain = record(api, number, risky_work=False, backup_done=False).get_json()
    res = api.post("eng1", f"/api/onsite/{plain['id']}/confirm-backup", json={"signer_name": "王工", "signature": png_data_url()})
    assert res.status_code == 422 and "risky_work" in res.get_json()["fields"]
    assert api.post("eng1", f"/api/onsite/{plain['id']}/sign", json={**SIGNATURE, "signature": png_data_url()}).status_code == 200
    risky = record(api, number).get_json()
    res = api.post("eng1", f"/api/onsite/{risky['id']}/confirm-backup", json={"signer_name": "刘工", "signature": png_data_url()})
    assert res.status_code == 422 and "禁止代签" in res.get_json()["fields"]["signer_name"][0]


def test_nobody_signs_for_the_customer(api):
    number = api.new_ticket()["number"]
    api.dispatch(number)  # eng1's ticket: eng1 may read it and write its record (issue 11)
    rec = record(api, number, risky_work=False).get_json()
    sign = lambda body: api.post("eng1", f"/api/onsite/{rec['id']}/sign", json=body)  # noqa: E731
    assert "signer_phone" in sign({"signer_name": "王工", "signature": png_data_url()}).get_json()["fields"]
    assert "signer_name" in sign({"signer_phone": "1", "signature": png_data_url()}).get_json()["fields"]
    assert "signer_name" in sign({"signer_name": "eng1", "signer_phone": "1", "signature": png_data_url()}).get_json()["fields"]
    assert "signature" in sign({**SIGNATURE}).get_json()["fields"]
    assert "signature" in sign({**SIGNATURE, "signature": "data:image/png;base64,%%%"}).get_json()["fields"]
    fake = "data:image/png;base64," + base64.b64encode(b"%PDF-1.4 not a png").decode()
    assert "signature" in sign({**SIGNATURE, "signature": fake}).get_json()["fields"]
    assert api.ticket(number)["attachments"] == []


def test_bad_records_are_422_and_only_field_staff_write_them(api):
    number = api.new_ticket()["number"]
    api.dispatch(number)  # eng1's ticket: eng1 may read it and write its record (issue 11)
    assert record(api, number, user="agent1").status_code == 403
    for fields, key in (({"arrived_at": ""}, "arrived_at"), ({"arrived_at": "昨天"}, "arrived_at"),
                        ({"departed_at": "2026-11-24T08:00:00+08:00"}, "departed_at"), ({"work_done": ""}, "work_done"),
                        ({"risky_work": "maybe"}, "risky_work"), ({"parts": 5}, "parts")):
        res = record(api, number, **fields)
        assert res.status_code == 422 and key in res.get_json()["fields"], fields
    unsigned = record(api, number, departed_at=None, risky_work=False).get_json()
    res = api.post("eng1", f"/api/onsite/{unsigned['id']}/sign", json={**SIGNATURE, "signature": png_data_url()})
    assert "departed_at" in res.get_json()["fields"]
    assert len(api.ticket(number)["onsite"]) == 1
