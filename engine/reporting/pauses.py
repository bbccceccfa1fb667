"""SLA figures with and without pauses (挂起): what a month looks like when waiting on the customer counts.

The desk's rule is that time spent waiting for the customer or the vendor is not
the desk's: a paused clock's due moved by the paused working time, so
``stopped_at <= due_at`` is "on time, pauses excused" — plain SQL. The same clock
judged *with* the pauses counted against it needs the clock's calendar (working
minutes from start to stop against its target), so that half walks the clocks
of the period in Python; ``paused_seconds`` (kept per clock by the pause ledger)
is summed in SQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..desk import pauses
from ..models import SlaClock


def clock_report(session: Session, name: str, *, start: datetime, end: datetime) -> dict:
    """Clocks called ``name`` that stopped in [start, end): on time with pauses excused and counted, paused time.

    ``on_time_excused``   stopped by the (moved) due time: the desk's own figure
    ``on_time_counted``   working minutes from start to stop, pauses included, within the target
    ``paused_clocks``     how many of them were ever paused, ``paused_minutes`` in total
    """
    period = (SlaClock.name == name, SlaClock.stopped_at >= start, SlaClock.stopped_at < end)
    total, excused, paused, paused_seconds = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((SlaClock.stopped_at <= SlaClock.due_at, 1), else_=0)), 0),
            func.coalesce(func.sum(case((SlaClock.paused_seconds > 0, 1), else_=0)), 0),
            func.coalesce(func.sum(SlaClock.paused_seconds), 0),
        ).where(*period)
    ).one()
    counted = 0
    for clock in session.scalars(select(SlaClock).where(*period, SlaClock.minutes.is_not(None))):
        elapsed = pauses.elapsed_minutes(clock)
        if elapsed is not None and elapsed <= clock.minutes:
            counted += 1
    return {
        "clocks": total, "on_time_excused": excused, "on_time_counted": counted,
        "paused_clocks": paused, "paused_minutes": round(paused_seconds / 60, 2),
    }  # fmt: skip
