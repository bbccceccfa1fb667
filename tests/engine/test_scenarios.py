"""Process tests: the shipped scenarios pass, and each kind of failure says where it went wrong."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import ROOT, bundle

from engine.authoring import scenarios

SHIPPED = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "bpmn").glob("*" + scenarios.SUFFIX)}
DESK = json.loads(SHIPPED["service_desk.scenarios.json"])
PATHS = {
    "online fix", "PM → engineer → solved", "engineer returns → another engineer", "engineer → tech support → vendor",
    "callback not reached → retry", "callback not solved → back to the same resolver", "consultation", "complaint",
    "emergency with SLA timers firing",
}  # fmt: skip


def files_with(desk_scenarios: list[dict]) -> dict:
    files = {name: content.decode() for name, content in bundle().items()}
    files["service_desk.scenarios.json"] = json.dumps(desk_scenarios, ensure_ascii=False)
    return files


def one(name_part: str) -> dict:
    return copy.deepcopy(next(s for s in DESK if name_part in s["name"]))


def run_one(scenario: dict) -> dict:
    report = scenarios.run_here(files_with([scenario]))
    assert report["count"] == 1
    return report["results"][0]


def test_the_shipped_scenarios_cover_every_path_and_pass():
    assert {s["name"].split(" / ", 1)[1] for s in DESK} >= PATHS
    files = {**{n: c.decode() for n, c in bundle().items()}, **SHIPPED}
    report = scenarios.run_here(files)
    assert report["problems"] == []
    failed = [(r["name"], r["difference"]) for r in report["results"] if not r["passed"]]
    assert failed == []
    assert report["passed"] and report["count"] >= len(PATHS) + 5
    assert {r["process"] for r in report["results"]} == {"service_desk", "ticket_resolution", "complaint"}


def test_the_emergency_scenario_records_every_sla_event():
    result = run_one(one("emergency"))
    assert result["passed"], result["difference"]
    assert ["response", "breach"] in result["sla_events"] and ["resolution", "breach"] in result["sla_events"]
    assert result["data"]["priority"] == "P1"


def test_run_uses_a_child_process_and_gives_the_same_report():
    report = scenarios.run(files_with([one("online fix")]))
    assert report["passed"] and report["count"] == 1
    assert report["results"][0]["path"] == ["intake", "classify", "online_fix", "callback", "close"]


def test_a_wrong_path_names_the_first_step_that_differs():
    scenario = one("online fix")
    scenario["expect"]["path"][2] = "pm_assign"
    result = run_one(scenario)
    assert not result["passed"]
    assert result["difference"].startswith("路径第 3 步应为 pm_assign，实际为 online_fix / path step 3: expected pm_assign, got online_fix")


def test_a_path_that_stops_early_or_runs_on_is_reported():
    scenario = one("online fix")
    scenario["expect"]["path"].append("close")
    assert "路径在第 5 步后结束" in run_one(scenario)["difference"]
    scenario = one("online fix")
    scenario["expect"]["path"].pop()
    assert "路径多出第 5 步 close" in run_one(scenario)["difference"]


def test_a_task_that_is_not_ready_stops_the_scenario():
    scenario = one("online fix")
    scenario["steps"][2] = {"task": "engineer", "data": {"outcome": "resolved"}}
    result = run_one(scenario)
    assert "第 3 步：任务 engineer 不在待办中（待办：online_fix）" in result["difference"]
    assert "/ step 3: task engineer is not ready" in result["difference"]
    assert result["ready"] == ["online_fix"]


def test_form_data_is_validated_like_a_real_submission():
    scenario = one("online fix")
    scenario["steps"][2]["data"] = {"outcome": "fixed it"}
    result = run_one(scenario)
    assert "online_fix 表单无效" in result["difference"] and "form invalid: outcome" in result["difference"]


def test_a_step_by_someone_else_than_the_assignee_fails():
    scenario = one("same resolver")
    reopened = next(i for i, s in enumerate(scenario["steps"]) if s.get("task") == "engineer" and i > 5)
    scenario["steps"][reopened]["user"] = "eng2"
    result = run_one(scenario)
    assert "任务 engineer 分配给 eng1，不是 eng2" in result["difference"]


def test_with_a_users_map_roles_and_user_pickers_are_checked():
    scenario = one("PM → engineer")
    scenario["steps"][3]["user"] = "eng1"  # pm_assign by an engineer
    assert "eng1 没有任务 pm_assign 的角色（pm_infra）" in run_one(scenario)["difference"]
    scenario = one("PM → engineer")
    scenario["steps"][3]["data"]["engineer"] = "pm1"
    assert "engineer: pm1 不是 engineer 角色的用户" in run_one(scenario)["difference"]


def test_data_completion_and_sla_expectations_are_compared():
    scenario = one("online fix")
    scenario["expect"]["data"]["priority"] = "P1"
    assert "数据 priority 应为 'P1'，实际为 'P4'" in run_one(scenario)["difference"]
    scenario = one("online fix")
    scenario["expect"]["data"]["no_such_key"] = 1
    assert "数据缺少 no_such_key" in run_one(scenario)["difference"]
    scenario = one("online fix")
    scenario["steps"].pop()
    assert "流程应已结束，但仍在进行" in run_one(scenario)["difference"]
    scenario = one("online fix")
    scenario["expect"]["sla_events"] = [["response", "breach"]]
    assert "SLA 事件应为 [['response', 'breach']]，实际为 []" in run_one(scenario)["difference"]


def resolution_result(scenario: dict) -> dict:
    files = files_with([])
    files["ticket_resolution.scenarios.json"] = json.dumps([scenario])
    report = scenarios.run_here(files)
    return next(r for r in report["results"] if r["process"] == "ticket_resolution")


def test_a_script_failure_is_a_failed_step_not_a_crash():
    due = {"resolver": None, "response_warn_at": "2026-11-23T01:20:00+00:00", "response_due": "2026-11-23T01:30:00+00:00"}
    result = resolution_result({"name": "缺少数据 / data missing", "start": due,
                                "steps": [{"task": "online_fix", "data": {"outcome": "resolved"}}]})
    assert not result["passed"]
    assert result["difference"].startswith("第 1 步出错：脚本或表达式计算出错 / step 1 failed: ")
    assert "responded_at" in result["difference"]  # issue 8 renamed the clock's stop time


def test_a_process_that_cannot_start_says_so():
    result = resolution_result({"name": "没有时限 / no due times", "steps": []})
    assert not result["passed"] and result["difference"].startswith("启动失败：") and "/ the process did not start: " in result["difference"]


def test_a_scenario_file_for_an_unknown_process_fails():
    files = files_with([])
    files["ghost.scenarios.json"] = json.dumps([{"name": "x", "steps": []}])
    report = scenarios.run_here(files)
    assert not report["passed"]
    assert "流程 ghost 不在文件包中" in report["results"][0]["difference"]


def test_a_broken_bundle_is_reported_as_a_problem():
    files = files_with([one("online fix")])
    files["service_desk.bpmn"] = "<broken"
    report = scenarios.run_here(files)
    assert not report["passed"] and report["problems"] and report["results"] == []


def test_a_bundle_without_scenarios_passes_with_nothing_run():
    report = scenarios.run_here({n: c for n, c in bundle().items()})
    assert report == {"passed": True, "count": 0, "failed": 0, "results": [], "problems": []}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "场景文件不是有效的 JSON"),
        ('{"name": "x"}', "场景文件应为列表"),
        ('[{"steps": []}]', "缺少名称"),
        ('[{"name": "x", "start": []}]', "start 应为对象"),
        ('[{"name": "x", "steps": {}}]', "steps 应为列表"),
        ('[{"name": "x", "steps": [{"task": "a", "advance": "PT1M"}]}]', "第 1 步应为 task 或 advance"),
        ('[{"name": "x", "steps": [{"what": 1}]}]', "第 1 步应为 task 或 advance"),
        ('[{"name": "x", "steps": [{"advance": "soon"}]}]', "advance 不是 ISO 8601 时长"),
        ('[{"name": "x", "steps": [{"task": "a", "data": []}]}]', "data 应为对象"),
        ('[{"name": "x", "expect": {"color": "red"}}]', "expect 只能包含"),
    ],
)
def test_scenario_file_mistakes_are_explained(content, message):
    with pytest.raises(ValueError) as info:
        scenarios.parse_file(content)
    assert message in str(info.value) and " / " in str(info.value)


def test_scenario_files_are_found_by_process_key():
    assert scenarios.scenario_files({"bpmn/service_desk.scenarios.json": "", "a.bpmn": ""}) == {
        "service_desk": "bpmn/service_desk.scenarios.json"
    }


# --------------------------------------------------------------------------- desk test-process


def test_desk_test_process_passes_on_the_shipped_bundle():
    from click.testing import CliRunner

    from webforms.cli import main

    result = CliRunner().invoke(main, ["test-process"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "通过 PASS  service_desk: 突发事件：SLA 计时器触发" in result.output
    count = sum(len(json.loads(SHIPPED[name])) for name in SHIPPED if name.endswith(".scenarios.json"))
    assert f"{count}/{count} scenarios passed" in result.output


def test_desk_test_process_exits_1_on_a_failing_scenario_or_an_error(tmp_path):
    from click.testing import CliRunner

    from webforms.cli import main

    for name, content in bundle().items():
        (tmp_path / name).write_bytes(content)
    scenario = one("online fix")
    scenario["expect"]["path"][-1] = "callback"
    (tmp_path / "service_desk.scenarios.json").write_text(json.dumps([scenario], ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["test-process", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "失败 FAIL  service_desk: 在线解决 / online fix" in result.output
    assert "路径第 5 步应为 callback，实际为 close" in result.output and "0/1 scenarios passed" in result.output

    (tmp_path / "service_desk.scenarios.json").unlink()
    bpmn = tmp_path / "service_desk.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('camunda:candidateGroups="lead"', 'camunda:candidateGroups="wizard"'),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["test-process", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "错误 error  service_desk.bpmn:close: 候选组 wizard 不是已有角色" in result.output
