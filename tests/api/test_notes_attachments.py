"""Notes and attachments on a ticket, through the API: stored, listed, audited, served safely."""

from __future__ import annotations

import io

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"


def upload(api, number, name, data, user="agent1"):
    return api.post(user, f"/api/tickets/{number}/attachments",
                    data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data", json=None)


def test_notes_internal_and_replies(api):
    number = api.new_ticket()["number"]
    api.dispatch(number)  # eng1's ticket (issue 11: an engineer writes on the tickets they work on)
    res = api.post("agent1", f"/api/tickets/{number}/notes", json={"text": "客户说重启过交换机", "internal": True})
    assert res.status_code == 201 and res.get_json()["internal"] is True
    res = api.post("eng1", f"/api/tickets/{number}/notes", json={"text": "已安排明早上门", "internal": False})
    assert res.status_code == 201
    res = api.post("eng1", f"/api/tickets/{number}/notes", json={"text": "默认是内部备注"})
    assert res.get_json()["internal"] is True
    ticket = api.ticket(number)
    assert [(n["author"], n["internal"]) for n in ticket["notes"]] == [("agent1", True), ("eng1", False), ("eng1", True)]
    notes_in_history = [h for h in ticket["history"] if h["action"] == "note"]
    assert [h["data"]["text"] for h in notes_in_history] == ["客户说重启过交换机", "已安排明早上门", "默认是内部备注"]


def test_bad_notes_are_422_and_change_nothing(api):
    number = api.new_ticket()["number"]
    for body in ({"text": "  "}, {"internal": True}, {"text": "x", "internal": "maybe"}, {"text": "x" * 10_001}):
        res = api.post("agent1", f"/api/tickets/{number}/notes", json=body)
        assert res.status_code == 422, body
        assert res.get_json()["fields"]
    assert api.post("agent1", f"/api/tickets/{number}/notes", json=["text"]).status_code == 422
    assert api.post("agent1", "/api/tickets/NOPE-1/notes", json={"text": "x"}).status_code == 404
    assert api.ticket(number)["notes"] == []


def test_attachment_is_stored_in_the_file_store_and_listed(api, app, tmp_path):
    number = api.new_ticket()["number"]
    res = upload(api, number, "screen shot.png", PNG)
    assert res.status_code == 201, res.get_json()
    info = res.get_json()
    assert info["filename"] == "screen shot.png" and info["content_type"] == "image/png" and info["size"] == len(PNG)
    from pathlib import Path

    store = Path(app.config["DESK_ATTACHMENTS_DIR"])
    assert (store / info["sha256"][:2] / info["sha256"]).read_bytes() == PNG
    ticket = api.ticket(number)
    assert [a["filename"] for a in ticket["attachments"]] == ["screen shot.png"]
    assert any(h["action"] == "attachment" and h["data"]["filename"] == "screen shot.png" for h in ticket["history"])


def test_images_are_shown_inline_everything_else_downloads_with_safe_headers(api):
    number = api.new_ticket()["number"]
    png = upload(api, number, "a.png", PNG).get_json()
    pdf = upload(api, number, "报告.pdf", PDF).get_json()
    log = upload(api, number, "switch.log", "2026-11-23 端口 down\n".encode()).get_json()
    res = api.get("agent1", png["url"])
    assert res.status_code == 200 and res.data == PNG
    assert res.headers["Content-Type"] == "image/png"
    assert res.headers["Content-Disposition"].startswith("inline")
    for row in (pdf, log):
        res = api.get("agent1", row["url"])
        assert res.status_code == 200
        assert res.headers["Content-Disposition"].startswith("attachment")
        assert res.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in res.headers["Content-Security-Policy"]
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf" in api.get("agent1", pdf["url"]).headers["Content-Disposition"]
    assert api.get("agent1", "/api/attachments/99999").status_code == 404


def test_type_is_checked_by_content_not_name(api):
    number = api.new_ticket()["number"]
    cases = [
        ("fake.png", PDF),  # a PDF calling itself a PNG
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("notes.txt", b"<!DOCTYPE html><html></html>"),  # markup dressed as text
        ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ("tool.exe", b"MZ\x90\x00"),
        ("binary.log", b"\x00\x01\x02\x03"),
        ("empty.txt", b""),
        ("noext", b"hello"),
    ]
    for name, data in cases:
        res = upload(api, number, name, data)
        assert res.status_code == 422, (name, res.get_json())
        assert "file" in res.get_json()["fields"]
    res = api.post("agent1", f"/api/tickets/{number}/attachments", data={}, content_type="multipart/form-data", json=None)
    assert res.status_code == 422
    assert api.ticket(number)["attachments"] == []


def test_size_limit_is_configured(api, app):
    app.config["DESK_ATTACHMENT_MAX_BYTES"] = 1000
    number = api.new_ticket()["number"]
    assert upload(api, number, "small.txt", b"a" * 1000).status_code == 201
    res = upload(api, number, "big.txt", b"a" * 1001)
    assert res.status_code == 422 and "MB" in res.get_json()["message"]


def test_file_names_lose_their_folders(api):
    number = api.new_ticket()["number"]
    res = upload(api, number, "../../etc/passwd.txt", b"root:x:0:0")
    assert res.status_code == 201 and res.get_json()["filename"] == "passwd.txt"
