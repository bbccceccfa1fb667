"""``desk bench report`` builds its own data in a schema of its own and leaves nothing behind."""

import pytest
from conftest import DATABASE_URL, ON_POSTGRES
from sqlalchemy import create_engine, text

from engine.reporting import bench


@pytest.mark.skipif(not ON_POSTGRES, reason="the report benchmark runs on PostgreSQL")
def test_bench_report_runs_and_cleans_up():
    lines = bench.run(DATABASE_URL, tickets=3000, months=3, repeat=1)
    assert "3,000 tickets" in lines[0] and "tickets accepted" in lines[1] and " ms" in lines[2]
    engine = create_engine(DATABASE_URL)
    with engine.connect() as conn:
        assert conn.scalar(text("select count(*) from information_schema.schemata where schema_name = :s"),
                           {"s": bench.SCHEMA}) == 0
    engine.dispose()


def test_bench_report_refuses_sqlite():
    assert "PostgreSQL" in bench.run("sqlite://", tickets=10)[0]
