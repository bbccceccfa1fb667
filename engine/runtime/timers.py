"""The timer worker: fires due timers through the one write path.

SpiffWorkflow fires nothing by itself; each instance stores ``next_timer_at``,
the earliest due timer. A worker claims one due instance at a time with
``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL: any number of workers on any
machines), fires it, commits, and when nothing is due sleeps until the next due
time, capped at ``max_sleep`` so a newly created earlier timer is seen quickly.
A worker killed mid-step loses nothing: its transaction rolls back and the
instance is still due for the next worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import EngineError
from ..models import InstanceStatus, ProcessInstance
from . import instances

log = logging.getLogger(__name__)


def claim_due(session: Session) -> int | None:
    """The id of one due instance, locked for this transaction, or None."""
    stmt = (
        select(ProcessInstance.id)
        .where(
            ProcessInstance.status == InstanceStatus.RUNNING,
            ProcessInstance.next_timer_at.is_not(None),
            ProcessInstance.next_timer_at <= now(),
        )
        .order_by(ProcessInstance.next_timer_at)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return session.scalar(stmt)


def seconds_until_next(session: Session, max_sleep: float) -> float:
    nxt = session.scalar(
        select(func.min(ProcessInstance.next_timer_at)).where(ProcessInstance.status == InstanceStatus.RUNNING)
    )
    if nxt is None:
        return max_sleep
    return max(0.0, min(max_sleep, (nxt - now()).total_seconds()))


def _mark_error(session_factory: Callable[[], Session], instance_id: int, message: str) -> None:
    """A timer whose step fails (a broken script) parks the instance instead of retrying forever."""
    with session_factory() as session, session.begin():
        instance = session.get(ProcessInstance, instance_id)
        if instance is not None:
            instance.status = InstanceStatus.ERROR
            instance.last_error = message
            instance.next_timer_at = None


def run_due(session_factory: Callable[[], Session], *, limit: int | None = None) -> int:
    """Fire due instances, one transaction each, until none is due; returns how many fired."""
    fired = 0
    while limit is None or fired < limit:
        instance_id = None
        try:
            with session_factory() as session, session.begin():
                instance_id = claim_due(session)
                if instance_id is None:
                    return fired
                instances.fire_timers(session, instance_id)
        except Exception as exc:  # a diagram's script can raise anything; the step rolled back
            if instance_id is None:
                raise
            message = exc.message if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
            log.warning("timer step failed for instance %s: %s", instance_id, message)
            _mark_error(session_factory, instance_id, message)
        fired += 1
    return fired


def work(
    session_factory: Callable[[], Session],
    stop: threading.Event,
    *,
    max_sleep: float = 1.0,
) -> None:
    """The worker loop: fire what is due, then sleep until the next due time (≤ max_sleep)."""
    while not stop.is_set():
        try:
            run_due(session_factory)
            with session_factory() as session, session.begin():
                pause = seconds_until_next(session, max_sleep)
        except Exception:  # keep the worker alive through a database hiccup
            log.exception("timer worker round failed")
            pause = max_sleep
        stop.wait(pause if pause > 0 else 0.01)
