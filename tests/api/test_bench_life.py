"""``desk bench http`` drives ticket lives through the API; its life must be one the desk process accepts
to the end (issue 8 added the PM's and the desk's confirmations after a back-line fix)."""

from webforms.bench import INTAKE, LIFE


def test_the_bench_ticket_life_runs_to_close(api):
    res = api.post("agent1", "/api/tickets", json=INTAKE)
    assert res.status_code == 201, res.get_json()
    number = res.get_json()["number"]
    for username, bpmn_id, data in LIFE:
        api.complete(username, number, bpmn_id, **data)
    assert api.ticket(number)["status"] == "closed"
