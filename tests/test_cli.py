"""The desk command: init, deploy, versions, user add, bench."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ON_POSTGRES

from webforms.cli import main

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="the CLI tests make their own SQLite databases")


@pytest.fixture
def desk(tmp_path):
    runner = CliRunner()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


def test_init_deploys_and_creates_demo_users(desk):
    result = desk("init", "--demo")
    assert result.exit_code == 0, result.output
    assert "deployed service_desk v1" in result.output
    assert "demo users: 10 created" in result.output  # issue 10 adds the desk manager mgr1
    again = desk("init", "--demo")
    assert again.exit_code == 0 and "deployed" not in again.output  # nothing changed, nothing new


def test_init_demo_adds_a_portal_customer_and_an_alert_source_once(desk):
    result = desk("init", "--demo")
    assert "demo portal account: customer@example.cn (password: demo)" in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("demo alert source demo-monitoring")]
    assert "token alrt_" in line
    again = desk("init", "--demo")
    assert again.exit_code == 0 and "demo alert source" not in again.output and "portal account" not in again.output
    assert "demo-monitoring" in desk("alert-source", "list").output


def test_deploy_unchanged_then_changed(desk, tmp_path):
    desk("init")
    result = desk("deploy", str(ROOT / "bpmn"), str(ROOT / "rules"))
    assert result.exit_code == 0 and "nothing changed" in result.output
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for folder in ("bpmn", "rules"):
        for f in (ROOT / folder).glob("*.*"):
            (bundle / f.name).write_bytes(f.read_bytes())
    sla = bundle / "sla.dmn"
    sla.write_text(sla.read_text(encoding="utf-8").replace("SLA目标", "SLA 目标值", 1), encoding="utf-8")
    result = desk("deploy", str(bundle), "--note", "SLA 调整")
    assert result.exit_code == 0, result.output
    assert "deployed service_desk v2" in result.output
    listing = desk("versions", "service_desk").output
    assert "v1" in listing and "v2" in listing and "SLA 调整" in listing


def test_deploy_refuses_a_bad_bundle_with_the_element(desk, tmp_path):
    desk("init")
    bad = tmp_path / "bad.bpmn"
    bad.write_text((ROOT / "bpmn" / "service_desk.bpmn").read_text(encoding="utf-8").replace(
        'camunda:decisionRef="priority"', 'camunda:decisionRef="nope"'), encoding="utf-8")
    result = desk("deploy", str(bad), str(ROOT / "bpmn" / "resolution.bpmn"), str(ROOT / "bpmn" / "complaint.bpmn"),
                  str(ROOT / "rules"))
    assert result.exit_code == 1
    assert "nope" in result.output


def test_user_add(desk):
    desk("init")
    result = desk("user", "add", "eng9", "--role", "engineer", "--name", "新工程师", input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    assert "eng9" in result.output
    result = desk("user", "add", "eng9", "--role", "engineer", input="x\nx\n")
    assert result.exit_code == 1 and "已存在" in result.output


def test_bench_prints_its_figures(desk):
    result = desk("bench", "--completions", "12")
    assert result.exit_code == 0, result.output
    assert "ms" in result.output and "%" in result.output


def test_serve_settles_the_heap_before_gunicorn_forks():
    """What start-up built is frozen out of collections, and the first generation waits for 20,000 objects."""
    import gc

    from webforms import cli

    threshold = gc.get_threshold()
    try:
        cli._settle_heap()
        assert gc.get_threshold() == cli.GC_THRESHOLD == (20_000, 20, 20)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
