"""``desk bench floor`` and ``desk bench http``: what a call costs the server, and what a ticket life does, through gunicorn."""

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


@pytest.mark.skipif(not ON_POSTGRES, reason="it wipes the PostgreSQL database of the PostgreSQL pass and serves it")
def test_bench_http_prints_rates_latencies_and_where_a_completions_cpu_went():
    result = CliRunner().invoke(main, ["bench", "http", "--url", DATABASE_URL, "--small-open", "20", "--small-closed", "20",
                                       "--open", "40", "--closed", "40", "--seconds", "1", "--clients", "2",
                                       "--workers", "1", "--threads", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rates = [float(r) for r in re.findall(r"^  saturated \(2 clients\): +([\d.]+) completions/s", result.output, re.M)]
    assert len(rates) == 2 and all(r > 0 for r in rates), result.output  # the small set, then the large one
    assert len(re.findall(r"^  paced \(1 clients, [\d.]+/s ≈ half\): +complete p50 \d+ p95 \d+ p99 \d+ ms$",
                          result.output, re.M)) == 2, result.output
    cpu = re.findall(r"^  CPU a completion \(saturated\): server ([\d.]+) ms, PostgreSQL ([\d.]+) ms, these clients "
                     r"([\d.]+) ms, the rest ([\d.]+) ms; [\d.]+ of \d+ cores busy; 150/s would leave ([\d.]+) ms",
                     result.output, re.M)
    assert len(cpu) == 2, result.output
    for server, postgres, clients, _rest, budget in cpu:
        assert float(server) > 0 and float(postgres) > 0 and float(clients) > 0, result.output
        assert float(budget) > 0


@pytest.mark.skipif(not ON_POSTGRES, reason="it wipes the PostgreSQL database of the PostgreSQL pass")
@pytest.mark.parametrize(("bench", "first_line"), [("inbox", "engine inbox_page agent group"),
                                                   ("search", "find q=交换机 (Chinese substring, hits)")])
def test_bench_inbox_and_search_bracket_the_large_set_with_the_small_one(bench, first_line):
    result = CliRunner().invoke(main, ["bench", bench, "--url", DATABASE_URL, "--small-open", "20", "--small-closed", "20",
                                       "--open", "40", "--closed", "40", "--repeat", "3"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = re.findall(r"^  (.+?) +p50 +[\d.]+ p95 +[\d.]+ ms +p50 +[\d.]+ p95 +[\d.]+ ms +([\d.]+)×$", result.output, re.M)
    assert rows and rows[0][0] == first_line and all(float(ratio) > 0 for _line, ratio in rows), result.output
    assert re.search(r"\(3 runs each after an untimed round, the small set's before and after the large set's; "
                     r"data built in [\d.]+, [\d.]+ and [\d.]+ s\)$", result.output, re.M), result.output
