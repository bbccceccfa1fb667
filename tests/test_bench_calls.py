"""``desk bench calls``: a ticket life's statements and Python calls, counted on PostgreSQL."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import DATABASE_URL, ON_POSTGRES

from webforms.cli import main


def _bench_calls(url: str):
    return CliRunner().invoke(main, ["bench", "calls", "--url", url, "--lives", "1"], catch_exceptions=False)


def test_bench_calls_refuses_anything_but_postgresql(tmp_path):
    result = _bench_calls(f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert result.exit_code != 0 and "PostgreSQL" in result.output


@pytest.mark.skipif(not ON_POSTGRES, reason="it wipes and fills the PostgreSQL database of the PostgreSQL pass")
def test_bench_calls_counts_a_ticket_life_within_the_write_paths_budget():
    """The figures of a whole life (8 completions, their lists, a creation), clock pinned: a change
    that adds statements to the write path shows here (17.75 per completion when this was written)."""
    result = _bench_calls(DATABASE_URL)
    assert result.exit_code == 0, result.output
    figures = {kind: (float(stmts), int(calls.replace(",", ""))) for kind, stmts, calls in re.findall(
        r"^  (\w+) +\d+ requests: +([\d.]+) statements, +([\d,]+) Python calls each$", result.output, re.M)}
    assert set(figures) == {"create", "list", "complete"}, result.output
    assert figures["list"][0] == 2.0  # the narrowed list: the token and one statement
    per_completion = float(re.search(r"per completion .*: ([\d.]+) statements", result.output).group(1))
    assert 10 <= per_completion <= 18, result.output
    assert all(calls > 1_000 for _, calls in figures.values())
