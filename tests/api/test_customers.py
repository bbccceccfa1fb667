"""The customer archive through the API: create, search, and tickets linked at intake."""

from __future__ import annotations

HOSPITAL = {
    "name": "市人民医院信息科",
    "address": "人民路 1 号",
    "contacts": [{"name": "王工", "phone": "13800000000", "email": "wang@example.cn"},
                 {"name": "李主任", "phone": "13900000000", "email": ""}],
    "devices": [{"model": "H3C S5560", "serial": "SN-CORE-01"}],
}


def test_create_and_search(api):
    res = api.post("agent1", "/api/customers", json=HOSPITAL)
    assert res.status_code == 201, res.get_json()
    org = res.get_json()
    assert [c["name"] for c in org["contacts"]] == ["王工", "李主任"] and org["devices"][0]["serial"] == "SN-CORE-01"
    api.post("agent1", "/api/customers", json={"name": "市第一中学", "contacts": [{"name": "赵老师", "phone": "0571-1"}]})
    for q, expected in (("医院", ["市人民医院信息科"]), ("13900000000", ["市人民医院信息科"]), ("sn-core", ["市人民医院信息科"]),
                        ("赵老师", ["市第一中学"]), ("", ["市第一中学", "市人民医院信息科"])):
        found = api.get("eng1", f"/api/customers?q={q}").get_json()
        assert sorted(o["name"] for o in found["items"]) == sorted(expected), q
    one = api.get("agent1", "/api/customers?q=王工").get_json()["items"][0]
    assert one["contacts"] and one["devices"]
    assert api.get("agent1", f"/api/customers/{org['id']}").get_json()["name"] == "市人民医院信息科"


def test_only_desk_staff_add_customers(api):
    assert api.post("eng1", "/api/customers", json=HOSPITAL).status_code == 403
    assert api.post("lead1", "/api/customers", json=HOSPITAL).status_code == 201
    assert api.post("admin1", "/api/customers", json={"name": "另一家"}).status_code == 201


def test_bad_customers_are_422_with_fields_and_duplicates_409(api):
    cases = [
        ({}, "name"),
        ({"name": "x", "contacts": [{"phone": "1"}]}, "contacts.0.name"),
        ({"name": "x", "contacts": [{"name": "张三"}]}, "contacts.0.phone"),
        ({"name": "x", "contacts": [{"name": "张三", "email": "not-mail"}]}, "contacts.0.email"),
        ({"name": "x", "devices": [{"vendor": "H3C"}]}, "devices.0.model"),
        ({"name": "x", "devices": "many"}, "devices"),
        ({"name": "x", "devices": [{"model": "m", "warranty_until": "明年"}]}, "devices.0.warranty_until"),
        ({"name": 5}, "name"),
    ]
    for body, field in cases:
        res = api.post("agent1", "/api/customers", json=body)
        assert res.status_code == 422, body
        assert field in res.get_json()["fields"], (body, res.get_json())
    assert api.post("agent1", "/api/customers", json=[1]).status_code == 422
    assert api.get("agent1", "/api/customers").get_json()["total"] == 0
    assert api.post("agent1", "/api/customers", json=HOSPITAL).status_code == 201
    res = api.post("agent1", "/api/customers", json=HOSPITAL)
    assert res.status_code == 409 and "已在档案中" in res.get_json()["message"]


def test_intake_links_the_ticket_by_exact_match(api):
    org = api.post("agent1", "/api/customers", json=HOSPITAL).get_json()
    ticket = api.new_ticket(device_model="H3C S5560", device_serial="SN-CORE-01")
    assert ticket["organisation_id"] == org["id"]
    assert ticket["contact_id"] == org["contacts"][0]["id"]
    assert ticket["device_id"] == org["devices"][0]["id"]
    stranger = api.new_ticket(organisation="没见过的单位", phone="13911112222", email="")
    assert (stranger["organisation_id"], stranger["contact_id"], stranger["device_id"]) == (None, None, None)
    moved = api.new_ticket(organisation="另一家单位")  # 王工's phone, but an organisation the archive does not know
    assert (moved["organisation_id"], moved["contact_id"]) == (None, None)
    by_phone = api.new_ticket(organisation="")  # no organisation named: the known phone finds it
    assert (by_phone["organisation_id"], by_phone["contact_id"]) == (org["id"], org["contacts"][0]["id"])


def test_intake_takes_the_records_the_agent_picked(api):
    org = api.post("agent1", "/api/customers", json=HOSPITAL).get_json()
    li = org["contacts"][1]
    ticket = api.new_ticket(organisation_id=org["id"], contact_id=li["id"], reporter_name="李主任", phone="13900000000")
    assert (ticket["organisation_id"], ticket["contact_id"]) == (org["id"], li["id"])
    other = api.post("agent1", "/api/customers", json={"name": "市第一中学", "contacts": [{"name": "赵", "phone": "1"}]}).get_json()
    call = {"type": "incident", "channel": "phone", "title": "t", "description": "d"}
    res = api.post("agent1", "/api/tickets", json={**call, "organisation_id": other["id"], "contact_id": li["id"]})
    assert res.status_code == 422 and "contact_id" in res.get_json()["fields"]
    res = api.post("agent1", "/api/tickets", json={**call, "device_id": 999})
    assert res.status_code == 422 and "device_id" in res.get_json()["fields"]
    assert api.get("agent1", "/api/tickets").get_json()["total"] == 1  # the refused calls left nothing behind


def test_link_a_ticket_later(api):
    number = api.new_ticket(organisation="新单位")["number"]
    org = api.post("agent1", "/api/customers", json={"name": "新单位", "contacts": [{"name": "王工", "phone": "13800000000"}]}).get_json()
    res = api.post("agent1", f"/api/tickets/{number}/customer", json={"organisation_id": org["id"], "contact_id": org["contacts"][0]["id"]})
    assert res.status_code == 200 and res.get_json()["contact_id"] == org["contacts"][0]["id"]
    ticket = api.ticket(number)
    assert ticket["organisation_id"] == org["id"]
    assert ticket["history"][-1]["action"] == "customer_link"
    assert api.post("eng1", f"/api/tickets/{number}/customer", json={}).status_code == 403


def test_openapi_lists_the_new_resources(client):
    spec = client.get("/api/openapi.json").get_json()
    for path in ("/api/customers", "/api/kb", "/api/kb/{article_id}/publish", "/api/tickets/{number}/notes",
                 "/api/tickets/{number}/attachments", "/api/tickets/{number}/onsite", "/api/announcements"):
        assert path in spec["paths"], path
    assert "notes" in spec["components"]["schemas"]["TicketDetail"]["properties"]


def test_rename_an_organisation(api):
    org = api.post("agent1", "/api/customers", json=HOSPITAL).get_json()
    other = api.post("agent1", "/api/customers", json={"name": "市第一中学"}).get_json()
    put = lambda body, user="agent1": api.client.put(  # noqa: E731
        f"/api/customers/{org['id']}", json=body, headers={"Authorization": f"Bearer {api.token(user)}"})
    res = put({"name": "市人民医院", "address": "人民路 2 号"})
    assert res.status_code == 200 and res.get_json()["name"] == "市人民医院" and len(res.get_json()["contacts"]) == 2
    assert put({"name": other["name"]}).status_code == 409
    assert put({"name": ""}).status_code == 422
    assert put({"name": "x"}, user="eng1").status_code == 403
