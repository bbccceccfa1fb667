"""The knowledge base pages: search, submit, review, and suggestions on the classify/online-fix forms."""

from __future__ import annotations

from web.test_pages import task_id

SWITCH = {"title": "核心交换机端口频繁 down", "symptom": "核心交换机端口反复断开", "solution": "更换光模块",
          "category": "network", "tags": "交换机,光模块"}


def test_submit_review_publish_and_find(desk):
    desk.login("eng1")
    res = desk.post("/kb/new", SWITCH)
    assert res.status_code == 302
    url = res.headers["Location"]
    page = desk.text(url)
    assert "待审核" in page and '/publish"' not in page  # an engineer may not publish: no button
    assert "没有匹配的文章" in desk.text("/kb?q=交换机")  # drafts are not found by everyone's search
    assert desk.post("/kb/new", {"title": ""}).status_code == 422
    desk.login("lead1")
    assert "核心交换机端口频繁 down" in desk.text("/kb?status=draft")
    res = desk.post(url + "/publish", {"valid_until": "2027-12-31"})
    assert res.status_code == 303
    page = desk.text(url)
    assert "已发布" in page and "2027-12-31" in page
    desk.login("agent1")
    assert "核心交换机端口频繁 down" in desk.text("/kb?q=交换机断开")
    assert desk.post(url + "/publish").status_code == 403


def test_edit_makes_a_new_version(desk):
    desk.login("eng1")
    url = desk.post("/kb/new", SWITCH).headers["Location"]
    res = desk.post(url + "/edit", {**SWITCH, "cause": "光模块老化"})
    assert res.status_code == 302
    page = desk.text(url)
    assert "光模块老化" in page and "v2" in page and "v1" in page


def test_task_forms_suggest_articles_and_record_their_use(desk, api):
    article = api.post("agent1", "/api/kb", json={**SWITCH, "tags": ["交换机"]}).get_json()
    api.post("lead1", f"/api/kb/{article['id']}/publish")
    number = api.new_ticket()["number"]
    desk.login("agent1")
    tid = task_id(desk.client.application, number, "classify")
    assert "kb-suggestions" in desk.text(f"/tasks/{tid}")
    hits = desk.text(f"/kb/suggest/{tid}")
    assert "核心交换机端口频繁 down" in hits and "有帮助" in hits
    res = desk.post(f"/kb/{article['id']}/use/{tid}", headers={"HX-Request": "true"})
    assert res.status_code == 200 and "已在本工单引用" in res.get_data(as_text=True)
    assert api.ticket(number)["kb_used"] == [article["id"]]
    assert "引用知识库文章" in desk.text(f"/tickets/{number}")
