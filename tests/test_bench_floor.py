"""``desk bench floor``: what a call costs the server before it does any work, through gunicorn."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import DATABASE_URL, ON_POSTGRES

from webforms.cli import main


def _bench_floor(url: str):
    return CliRunner().invoke(main, ["bench", "floor", "--url", url, "--seconds", "1", "--clients", "2",
                                     "--workers", "1", "--threads", "2"], catch_exceptions=False)


def test_bench_floor_refuses_anything_but_postgresql(tmp_path):
    result = _bench_floor(f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert result.exit_code != 0 and "PostgreSQL" in result.output


@pytest.mark.skipif(not ON_POSTGRES, reason="it wipes the PostgreSQL database of the PostgreSQL pass and serves it")
def test_bench_floor_prints_requests_and_server_cpu_for_each_call():
    result = _bench_floor(DATABASE_URL)
    assert result.exit_code == 0, result.output
    figures = dict((path, (float(rate), float(cpu))) for path, rate, cpu in re.findall(
        r"^  GET (\S+) +(\d+) requests/s +server CPU +([\d.]+) ms a request$", result.output, re.M))
    assert set(figures) == {"/api/me", "/api/openapi.json", "/plain", "/read"}, result.output  # the desk, then the stack
    assert all(rate > 0 and cpu > 0 for rate, cpu in figures.values()), result.output
