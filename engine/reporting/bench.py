"""``desk bench report``: one month's KPIs (and both scorecards) over a million tickets on PostgreSQL.

The target (issue 9) is ≤ 1 s for a month over 1,000,000 tickets. The benchmark builds its own
data in a throw-away schema of the given PostgreSQL database (``desk_bench_report``, dropped at
the end unless kept), so it never touches the desk's own tables: tickets spread evenly over
``months`` months with the mix a desk sees (P1 2 %, 40 % handed off, 95 % resolved, 85 % called
back, returns, unqualified records), half as many calls, then ``ANALYZE``, then the timed runs
of ``engine.reporting`` exactly as the pages and the API call it.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from ..db import Base
from . import kpis, periods, reports

SCHEMA = "desk_bench_report"
LAST_MONTH = date(2026, 12, 1)

TICKETS_SQL = """
INSERT INTO {schema}.ticket (number, instance_id, type, channel, title, description, reporter_name, organisation,
    phone, email, device_model, device_serial, occurred_at, category, impact, urgency, priority, project, pm_group,
    sla_calendar, status, stage, engineer, qualified, missing_fields, resolved_role, solution, vendor_case,
    satisfaction, reopened, summary, to_kb, complaint_about, created_by, accepted_at, responded_at, handoff_at,
    returned, resolved_at, callback_at, callback_attempts, closed_at, updated_at)
SELECT 'B-' || g, NULL,
    (ARRAY['incident','incident','incident','request','request','consultation','complaint'])[1 + (g % 7)],
    'phone', 'bench', '', '', 'org-' || (g % 200), '', '', '', '', acc - interval '5 minutes',
    (ARRAY['network','server','storage','desktop','software','account','printer','service'])[1 + (g % 8)],
    '', '', CASE WHEN r1 < 0.02 THEN 'P1' WHEN r1 < 0.12 THEN 'P2' WHEN r1 < 0.62 THEN 'P3' ELSE 'P4' END,
    '', '', '24x7', CASE WHEN r3 < 0.90 THEN 'closed' WHEN r3 < 0.95 THEN 'resolved' ELSE 'open' END, '',
    CASE WHEN r2 < 0.40 THEN 'eng' || (g % 30) END, r4 > 0.03, '[]',
    CASE WHEN r3 >= 0.95 THEN NULL WHEN r2 < 0.40 THEN 'engineer' ELSE 'agent' END, '', '',
    CASE WHEN r3 < 0.85 THEN (ARRAY['very_satisfied','satisfied','satisfied','basically_satisfied',
        'dissatisfied'])[1 + (g % 5)] END,
    0, '', false, NULL, 'bench', acc, acc + r5 * interval '20 minutes',
    CASE WHEN r2 < 0.40 THEN acc + r5 * interval '90 minutes' END,
    CASE WHEN r6 < 0.05 THEN 1 WHEN r6 < 0.06 THEN 2 ELSE 0 END,
    CASE WHEN r3 < 0.95 THEN acc + r6 * interval '48 hours' END,
    CASE WHEN r3 < 0.85 THEN acc + r6 * interval '48 hours' + r4 * interval '1 hour' END, 0,
    CASE WHEN r3 < 0.90 THEN acc + r6 * interval '48 hours' + r4 * interval '2 hours' END, acc
FROM (
    SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6,
           :start + (g::float8 / :n) * (:end - :start) AS acc
    FROM generate_series(1, :n) AS g
) AS spread
"""
CALLS_SQL = """
INSERT INTO {schema}.call (call_id, ring_at, answered_at, agent, caller, imported_by)
SELECT 'K-' || g, ring, CASE WHEN r < 0.97 THEN ring + (r * 30) * interval '1 second' END, 'agent1', '', 'bench'
FROM (SELECT g, random() AS r, :start + (g::float8 / :n) * (:end - :start) AS ring FROM generate_series(1, :n) AS g) c
"""


def _ms(values: list[float]) -> str:
    return f"best {min(values) * 1000:.0f} ms, median {statistics.median(values) * 1000:.0f} ms"


def run(url: str, *, tickets: int = 1_000_000, months: int = 36, repeat: int = 5, keep: bool = False) -> list[str]:
    """Build the data, time the month in the middle; returns the lines to print."""
    if not url.startswith("postgresql"):
        return ["desk bench report needs PostgreSQL: set DATABASE_URL=postgresql+psycopg://…"]
    engine = create_engine(url)
    span = periods.months_of(periods.month(LAST_MONTH.year, LAST_MONTH.month), at_least=months)
    start, end = span[0].start, span[-1].end
    middle = span[len(span) // 2]
    lines = []
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        translated = engine.execution_options(schema_translate_map={None: SCHEMA})
        started = time.perf_counter()
        with translated.begin() as conn:
            Base.metadata.create_all(conn)
            conn.execute(text(TICKETS_SQL.format(schema=SCHEMA)), {"n": tickets, "start": start, "end": end})
            conn.execute(text(CALLS_SQL.format(schema=SCHEMA)), {"n": tickets // 2, "start": start, "end": end})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"ANALYZE {SCHEMA}.ticket"))
            conn.execute(text(f"ANALYZE {SCHEMA}.call"))
        built = time.perf_counter() - started
        kpi_times, full_times = [], []
        with Session(translated) as session:
            for _ in range(repeat):
                started = time.perf_counter()
                figures = kpis.compute(session, middle)
                kpi_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                reports.kpi_report(session, middle)
                full_times.append(time.perf_counter() - started)
                session.rollback()
        accepted = figures["completeness_rate"]["denominator"]
        lines = [
            f"desk bench report: {tickets:,} tickets and {tickets // 2:,} calls over {len(span)} months "
            f"(PostgreSQL, schema {SCHEMA}, built in {built:.1f} s)",
            f"  month {middle.label}: {accepted:,} tickets accepted, {figures['timely_rate']['denominator']:,} closed",
            f"  one month's KPIs with breakdowns (engine.reporting.kpis.compute): {_ms(kpi_times)} over {repeat} runs",
            f"  the whole report, KPIs + both scorecards (GET /api/kpi):          {_ms(full_times)}",
            f"  target ≤ 1 s for 1,000,000 tickets: {'met' if min(full_times) <= 1 else 'NOT met'} at this size",
        ]
    finally:
        if not keep:
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()
    return lines
