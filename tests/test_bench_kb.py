"""``desk bench kb`` runs end to end at a small size and prints its figures."""

from webforms.cli import main


def test_bench_kb_prints_search_times(runner):
    result = runner.invoke(main, ["bench", "kb", "--articles", "60", "--queries", "5"])
    assert result.exit_code == 0, result.output
    assert "60 articles" in result.output and "median" in result.output and "p95" in result.output
