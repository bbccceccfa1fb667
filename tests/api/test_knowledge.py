"""The knowledge base through the API: drafts from closed tickets, review, versions, Chinese search, use on tickets."""

from __future__ import annotations

CLASSIFY = {"category": "network", "impact": "medium", "urgency": "medium"}

SWITCH = {"title": "核心交换机端口频繁 down", "symptom": "三楼机房核心交换机 Gi0/1 端口反复断开，全楼网络时断时续",
          "cause": "光模块老化", "solution": "更换光模块并清洁光纤接头", "category": "network",
          "device_model": "H3C S5560", "tags": ["交换机", "光模块"]}
PRINTER = {"title": "打印机卡纸", "symptom": "办公室打印机每次打印都卡纸", "solution": "清理搓纸轮", "category": "desktop"}
HIS = {"title": "HIS 系统登录缓慢", "symptom": "医生站登录 HIS 要等一分钟", "solution": "清理数据库会话，重建索引",
       "tags": ["数据库"]}


def published(api, body) -> dict:
    res = api.post("agent1", "/api/kb", json=body)
    assert res.status_code == 201, res.get_json()
    article = res.get_json()
    assert api.post("lead1", f"/api/kb/{article['id']}/publish").status_code == 200
    return article


def closed_with_kb(api) -> str:
    number = api.new_ticket(device_model="H3C S5560")["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="远程重启端口后恢复，建议更换光模块")
    api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="satisfied")
    api.complete("lead1", number, "close", summary="端口故障，已恢复", to_kb=True)
    return number


def test_closing_with_to_kb_makes_a_draft_for_review(api):
    number = closed_with_kb(api)
    drafts = api.get("lead1", "/api/kb?status=draft").get_json()["items"]
    assert len(drafts) == 1 and drafts[0]["status"] == "draft" and drafts[0]["title"] == "核心交换机端口故障"
    article = api.get("lead1", f"/api/kb/{drafts[0]['id']}").get_json()
    assert "三楼机房" in article["symptom"] and "光模块" in article["solution"] and "端口故障" in article["solution"]
    assert article["category"] == "network" and article["device_model"] == "H3C S5560"
    assert article["submitted_by"] == "lead1" and article["submitted_at"]
    assert article["source_ticket_id"] and article["versions"][0]["version"] == 1
    assert api.get("agent1", "/api/kb?q=交换机").get_json()["items"] == []  # not published yet
    assert any(h["action"] == "kb_submit" for h in api.ticket(number)["history"])


def test_closing_without_to_kb_makes_nothing(api):
    number = api.new_ticket()["number"]
    api.complete("agent1", number, "classify", **CLASSIFY)
    api.complete("agent1", number, "online_fix", outcome="resolved", solution="重启")
    api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="satisfied")
    api.complete("lead1", number, "close", summary="ok", to_kb=False)
    assert api.get("lead1", "/api/kb?status=draft").get_json()["total"] == 0


def test_only_leads_and_process_owners_publish(api):
    article = api.post("eng1", "/api/kb", json=SWITCH).get_json()
    assert api.post("agent1", f"/api/kb/{article['id']}/publish").status_code == 403
    assert api.post("admin1", f"/api/kb/{article['id']}/publish").status_code == 403
    res = api.post("owner1", f"/api/kb/{article['id']}/publish", json={"valid_until": "2027-12-31"})
    assert res.status_code == 200 and res.get_json()["status"] == "published"
    assert res.get_json()["reviewed_by"] == "owner1" and res.get_json()["valid_until"] == "2027-12-31"
    res = api.post("lead1", f"/api/kb/{article['id']}/publish")
    assert res.status_code == 409 and res.get_json()["by"] == "owner1"
    assert api.post("lead1", "/api/kb/9999/publish").status_code == 404


def test_chinese_search_best_first(api):
    switch, printer, his = published(api, SWITCH), published(api, PRINTER), published(api, HIS)
    res = api.get("agent1", "/api/kb?q=交换机端口断开").get_json()
    assert [i["id"] for i in res["items"]][0] == switch["id"]
    assert set(res["items"][0]) >= {"id", "title", "status"} and res["items"][0]["status"] == "published"
    assert [i["id"] for i in api.get("agent1", "/api/kb?q=打印卡纸").get_json()["items"]] == [printer["id"]]
    assert [i["id"] for i in api.get("agent1", "/api/kb?q=his登录很慢").get_json()["items"]][0] == his["id"]
    # the title counts more than the body: 光模块 is in the switch article's body and tags, 数据库 only in HIS's tags
    assert api.get("agent1", "/api/kb?q=数据库").get_json()["items"][0]["id"] == his["id"]
    assert api.get("agent1", "/api/kb?q=量子计算").get_json()["total"] == 0
    assert api.get("agent1", "/api/kb").get_json()["total"] == 3
    assert api.get("agent1", "/api/kb?status=bogus").status_code == 422


def test_substring_fallback_finds_words_the_segmenter_split_otherwise(api):
    article = published(api, {"title": "医生站无法打开电子病历", "solution": "重装插件"})
    assert api.get("agent1", "/api/kb?q=子病历").get_json()["items"][0]["id"] == article["id"]


def test_edits_make_versions_and_send_a_published_article_back_to_review(api):
    article = api.post("eng1", "/api/kb", json=SWITCH).get_json()

    def put(user, body):
        return api.client.put(f"/api/kb/{article['id']}", json=body, headers={"Authorization": f"Bearer {api.token(user)}"})

    res = put("eng1", {"cause": "光模块老化，接头有灰尘"})
    assert res.status_code == 200 and res.get_json()["version"] == 2
    assert put("agent1", {"cause": "x"}).status_code == 403  # not the author
    assert put("eng1", {"title": ""}).status_code == 422
    api.post("lead1", f"/api/kb/{article['id']}/publish")
    assert put("eng1", {"cause": "y"}).status_code == 403  # published: only reviewers edit
    res = put("lead1", {"tags": "交换机, 光模块，端口"})
    assert res.get_json()["status"] == "published" and res.get_json()["tags"] == ["交换机", "光模块", "端口"]
    versions = api.get("agent1", f"/api/kb/{article['id']}").get_json()["versions"]
    assert [(v["version"], v["edited_by"]) for v in versions] == [(3, "lead1"), (2, "eng1"), (1, "eng1")]
    assert versions[1]["cause"] == "光模块老化，接头有灰尘"


def test_bad_articles_are_422(api):
    for body in ({}, {"title": 5}, {"title": "t", "tags": 7}, {"title": "t", "valid_until": "soon"}, {"title": "x" * 301}):
        res = api.post("agent1", "/api/kb", json=body)
        assert res.status_code == 422 and res.get_json()["fields"], body
    assert api.get("lead1", "/api/kb?status=all").get_json()["total"] == 0


def test_using_an_article_is_recorded_on_the_ticket(api):
    article = published(api, SWITCH)
    number = api.new_ticket()["number"]
    hits = api.get("agent1", f"/api/tickets/{number}/kb").get_json()["items"]
    assert hits and hits[0]["id"] == article["id"]
    res = api.post("agent1", f"/api/kb/{article['id']}/use", json={"ticket": number, "bpmn_id": "online_fix"})
    assert res.status_code == 201
    ticket = api.ticket(number)
    assert ticket["kb_used"] == [article["id"]]
    use = [h for h in ticket["history"] if h["action"] == "kb_use"][0]
    assert use["actor"] == "agent1" and use["bpmn_id"] == "online_fix" and use["data"]["article_id"] == article["id"]
    assert api.post("agent1", f"/api/kb/{article['id']}/use", json={}).status_code == 422
    draft = api.post("agent1", "/api/kb", json=PRINTER).get_json()
    assert api.post("agent1", f"/api/kb/{draft['id']}/use", json={"ticket": number}).status_code == 422


def test_articles_past_their_valid_date_are_not_suggested(api):
    article = api.post("agent1", "/api/kb", json={**SWITCH, "valid_until": "2020-01-01"}).get_json()
    api.post("lead1", f"/api/kb/{article['id']}/publish")
    number = api.new_ticket()["number"]
    assert api.get("agent1", f"/api/tickets/{number}/kb").get_json()["items"] == []
    assert api.get("agent1", "/api/kb?q=交换机").get_json()["total"] == 1  # still found by a search
