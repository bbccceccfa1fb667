"""Hostile diagrams are refused when uploaded, on every way in (issue 11).

DOCTYPE/ENTITY declarations (XXE, billion laughs, external DTDs) and files that are
not UTF-8 (UTF-16, UTF-32, EBCDIC, broken bytes) are a 422 with a message naming the
file, for a draft uploaded on the processes page, a draft saved from the modeler and a
bundle deployed through the API; nothing is kept.
"""

from __future__ import annotations

import codecs
import io
import json

import pytest
from sqlalchemy import func, select

from engine.models import Draft, ProcessVersion
from webforms.extensions import db

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="probe" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
BODY = GOOD.split("?>", 1)[1]
LOL = "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10 if i else "lol"}">' for i in range(10))

HOSTILE_XML = {
    "xxe": '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + BODY.format(name="&x;"),
    "billion_laughs": f'<?xml version="1.0"?><!DOCTYPE d [{LOL}]>' + BODY.format(name="&l9;"),
    "external_dtd": '<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">' + BODY.format(name="x"),
    "parameter_entity": '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
                        + BODY.format(name="x"),
    "lowercase_doctype": '<?xml version="1.0"?><!doctype d>' + BODY.format(name="x"),
}  # fmt: skip
HOSTILE_BYTES = {
    "utf16_bom": codecs.BOM_UTF16_LE + GOOD.format(name="探针").encode("utf-16-le"),
    "utf16_no_bom": GOOD.format(name="x").replace("UTF-8", "UTF-16").encode("utf-16-be"),
    "utf16_with_doctype": ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x "y">]>'
                           + BODY.format(name="&x;")).encode("utf-16"),
    "utf32": GOOD.format(name="x").encode("utf-32"),
    "ebcdic": GOOD.format(name="x").replace("UTF-8", "IBM037").encode("cp037"),
    "latin1_bytes": GOOD.format(name="caf\xe9").encode("latin-1"),
    "nul_bytes": GOOD.format(name="a\x00b").encode(),
}  # fmt: skip
HOSTILE = {**{k: v.encode() for k, v in HOSTILE_XML.items()}, **HOSTILE_BYTES}


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Draft)),
                db.session.scalar(select(func.count()).select_from(ProcessVersion)))


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_draft_upload_refuses_hostile_files(desk, app, case):
    desk.login("owner1")
    before = counts(app)
    upload = {"files": [(io.BytesIO(HOSTILE[case]), "probe.bpmn")], "name": "x", "csrf_token": desk.token}
    res = desk.client.post("/processes/drafts/upload", data=upload, content_type="multipart/form-data")
    page = res.get_data(as_text=True)
    assert res.status_code == 422, page[:2000]
    assert "probe.bpmn" in page
    assert "root:" not in page and "lollol" not in page
    assert counts(app) == before


@pytest.mark.parametrize("case", sorted(HOSTILE_XML))
def test_saving_a_draft_from_the_modeler_refuses_declarations(desk, app, case):
    desk.login("owner1")
    upload = {"files": [(io.BytesIO(GOOD.format(name="ok").encode()), "probe.bpmn")], "csrf_token": desk.token}
    res = desk.client.post("/processes/drafts/upload", data=upload, content_type="multipart/form-data")
    assert res.status_code == 302
    draft_id = int(res.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    res = desk.client.post(f"/processes/drafts/{draft_id}/files", data=json.dumps({"files": {"probe.bpmn": HOSTILE_XML[case]}}),
                           content_type="application/json", headers={"X-CSRFToken": desk.token, "Accept": "application/json"})
    assert res.status_code == 422, res.get_data(as_text=True)[:2000]
    assert "DOCTYPE" in res.get_json()["problems"][0]["message"]
    with app.app_context():
        assert "ok" in db.session.get(Draft, draft_id).files["probe.bpmn"]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_deploying_through_the_api_refuses_hostile_files(app, api, case):
    before = counts(app)
    res = api.client.post("/api/definitions", data={"files": [(io.BytesIO(HOSTILE[case]), "probe.bpmn")]},
                          content_type="multipart/form-data", headers={"Authorization": f"Bearer {api.token('admin1')}"})
    body = res.get_json()
    assert res.status_code == 422, body
    assert body["problems"][0]["file"] == "probe.bpmn"
    assert "root:" not in str(body) and "lollol" not in str(body)
    assert counts(app) == before


@pytest.mark.parametrize("content", [b"\xff\xfe{\x00}\x00", b"\xc3\x28", b"{\x00}"])
def test_a_label_table_that_is_not_utf8_is_a_422(app, api, content):
    files = [(io.BytesIO(GOOD.format(name="x").encode()), "probe.bpmn"), (io.BytesIO(content), "labels.en.json")]
    res = api.client.post("/api/definitions", data={"files": files}, content_type="multipart/form-data",
                          headers={"Authorization": f"Bearer {api.token('admin1')}"})
    assert res.status_code == 422, res.get_json()
    assert "labels.en.json" in res.get_json()["message"]
