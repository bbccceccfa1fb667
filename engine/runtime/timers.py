"""The timer worker: fires due timers through the one write path.

SpiffWorkflow fires nothing by itself; each instance stores ``next_timer_at``,
the earliest due timer. A worker claims a batch of due instances with
``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL: any number of workers on any
machines), fires each, commits the batch once, and when nothing is due sleeps
until the next due time, capped at ``max_sleep`` so a newly created earlier
timer is seen quickly. A worker killed mid-batch loses nothing: its transaction
rolls back and the instances are still due for the next worker. (One instance
per transaction gave 78 firings/s in a burst of 1,000; ``desk bench timers``.)
Instances whose only due timers are SLA marks are woken together, in SQL
(``sla_marks.wake_batch``); the others take the full workflow step one by one.

A diagram's step cannot hold a worker or a row lock without limit: its code
runs under the sandbox's hard limits (``jail``), and on PostgreSQL every firing
transaction sets ``statement_timeout``, ``lock_timeout`` and
``idle_in_transaction_session_timeout``. A step that fails parks its instance
(``error``, the reason in ``last_error``) and the rest of the batch still fires.
And a worker killed in the middle of a firing (kill -9, out of memory) must not
re-fire the same step forever: each claim counts an attempt on the instance
(``timer_attempts``) in a short transaction committed *before* the firing and
leases it (``next_timer_at`` a minute ahead, so no other worker claims it
meanwhile); a finished firing resets the count, a killed worker's lease runs out
and the instance is due again, and one claimed with ``MAX_ATTEMPTS`` unfinished
attempts is parked instead of fired.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import EngineError
from ..models import InstanceStatus, ProcessInstance
from . import instances, sla_marks

log = logging.getLogger(__name__)


BATCH_SIZE = 50
MAX_ATTEMPTS = 3  # unfinished firings before an instance is parked
# PostgreSQL limits for each firing transaction, in milliseconds
STATEMENT_TIMEOUT_MS = 30_000
LOCK_TIMEOUT_MS = 10_000
IDLE_TIMEOUT_MS = 60_000
# how long a claimed instance stays out of other workers' claims before it is fired (a killed
# worker's claim runs out after this; a living worker holds the row lock while it fires)
LEASE = timedelta(seconds=60)

CRASHED = (
    "定时器已触发 {n} 次都未完成（工作进程可能在执行中被终止，如内存耗尽），已停止重试 / "
    "the timer was fired {n} times without finishing (the worker was probably killed mid-step, "
    "e.g. out of memory); not retried"
)


def limit_statements(session: Session) -> None:
    """On PostgreSQL, bound this transaction: no statement, lock wait or idle gap without limit.

    One round-trip: ``set_config(…, true)`` is ``SET LOCAL``, and this runs twice per batch.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT set_config('statement_timeout', :statement, true), set_config('lock_timeout', :lock, true), "
                 "set_config('idle_in_transaction_session_timeout', :idle, true)"),
            {"statement": str(STATEMENT_TIMEOUT_MS), "lock": str(LOCK_TIMEOUT_MS), "idle": str(IDLE_TIMEOUT_MS)},
        )


def _due():
    return (
        ProcessInstance.status == InstanceStatus.RUNNING,
        ProcessInstance.next_timer_at.is_not(None),
        ProcessInstance.next_timer_at <= now(),
    )


def claim_batch(session: Session, size: int = BATCH_SIZE) -> list[ProcessInstance]:
    """Up to ``size`` due instances, soonest due first, locked for this transaction.

    ``SKIP LOCKED`` (PostgreSQL) lets each worker take a different batch at once;
    SQLite's one writer at a time needs no lock.
    """
    stmt = select(ProcessInstance).where(*_due()).order_by(ProcessInstance.next_timer_at).limit(size)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def _claimed(session: Session, claims: dict[int, tuple]) -> list[ProcessInstance]:
    """The instances this worker claimed (``_claim_and_count``), locked again for the firing.

    One whose attempt count is no longer ours was taken over by another worker
    after our lease ran out (we were that slow): left to it.

    The lock waits rather than skips: another worker's ``claim_batch`` can hold one
    of our leased rows for a moment (its ``SKIP LOCKED`` scan locks a row before it
    rechecks that the row is due, and keeps the lock until its claim commits).
    Skipping it left the instance unfired until our lease ran out, a minute late.
    That worker never waits on us (it skips locked rows), so this cannot deadlock.
    """
    stmt = select(ProcessInstance).where(ProcessInstance.id.in_(claims), ProcessInstance.status == InstanceStatus.RUNNING)
    stmt = stmt.order_by(ProcessInstance.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    found = session.scalars(stmt.execution_options(populate_existing=True))
    return [instance for instance in found if instance.timer_attempts == claims[instance.id][1]]


def _claim_and_count(session_factory: Callable[[], Session], size: int) -> tuple[int, dict[int, tuple]]:
    """Claim a batch and count an attempt on each, committed before any firing.

    Each claimed instance is leased: its ``next_timer_at`` moves ``LEASE`` ahead,
    so no other worker claims it between this commit and the firing; a worker
    killed before it fires leaves the lease to run out, and then the instance is
    due again with the attempt counted. Those already at ``MAX_ATTEMPTS`` are
    parked here instead. Returns how many were claimed and, for those to fire,
    id → (the due time to restore, the attempt count that proves the claim ours).
    """
    with session_factory() as session, session.begin():
        limit_statements(session)
        claimed = claim_batch(session, size)
        claims = {}
        for instance in claimed:
            if (instance.timer_attempts or 0) >= MAX_ATTEMPTS:
                log.warning("instance %s: %s unfinished timer firings, parked", instance.id, instance.timer_attempts)
                _park(instance, CRASHED.format(n=instance.timer_attempts))
            else:
                instance.timer_attempts = (instance.timer_attempts or 0) + 1
                claims[instance.id] = (instance.next_timer_at, instance.timer_attempts)
                instance.next_timer_at = now() + LEASE
        return len(claimed), claims


def fire_batch(session: Session, claims: dict[int, tuple]) -> None:
    """Fire the leased instances of a claimed batch: their real due times back, the steps, the counts cleared.

    Those whose only due timers are SLA marks are woken together in SQL
    (``sla_marks.wake_batch``: a few statements for the whole batch); the others
    take the full step one by one (``instances.fire_locked``), their tickets and open task
    rows read for all of them at once (``instances.prefetch``).
    """
    claimed = _claimed(session, claims)
    for instance in claimed:
        instance.next_timer_at = claims[instance.id][0]
        instance.timer_attempts = 0  # written with the step (a step that fails rolls the batch back)
    woken = sla_marks.wake_batch(session, claimed)
    stepping = [instance for instance in claimed if instance.id not in woken]
    prefetched = instances.prefetch(session, stepping)
    for instance in stepping:
        instances.fire_locked(session, instance, prefetched=prefetched)


def seconds_until_next(session: Session, max_sleep: float) -> float:
    nxt = session.scalar(
        select(func.min(ProcessInstance.next_timer_at)).where(ProcessInstance.status == InstanceStatus.RUNNING)
    )
    if nxt is None:
        return max_sleep
    return max(0.0, min(max_sleep, (nxt - now()).total_seconds()))


def _park(instance: ProcessInstance, message: str) -> None:
    """A timer whose step fails (a broken script) parks the instance instead of retrying forever."""
    instance.status = InstanceStatus.ERROR
    instance.last_error = message
    instance.next_timer_at = None
    instance.timer_attempts = 0


def run_due(
    session_factory: Callable[[], Session], *, limit: int | None = None, batch: int = BATCH_SIZE
) -> int:
    """Fire due instances, a batch per transaction, until none is due; returns how many were handled.

    Exactly once: a batch's instances stay locked until its one commit. When one
    of them fails, the whole batch rolls back and its instances are fired again one
    transaction each (the old way), the failing one parked (``error``); failures
    are rare, so the common path carries no savepoint per instance. A worker
    killed mid-batch loses nothing and fires nothing twice: its transaction rolls
    back and the instances are still due for the next worker — with one more
    attempt counted, so a step that kills its worker every time is parked after
    ``MAX_ATTEMPTS``.
    """
    handled = 0
    while limit is None or handled < limit:
        size = batch if limit is None else min(batch, limit - handled)
        claimed, claims = _claim_and_count(session_factory, size)
        if not claimed:
            return handled
        fire_claimed(session_factory, claims)
        handled += claimed
    return handled


def fire_claimed(session_factory: Callable[[], Session], claims: dict[int, tuple]) -> None:
    """Fire a claimed batch in one transaction; if a step fails, each instance alone, the failing one parked."""
    try:
        with session_factory() as session, session.begin():
            limit_statements(session)
            fire_batch(session, claims)
    except Exception:  # one step failed (a diagram's script can raise anything): the batch rolled back
        for instance_id, claim in claims.items():  # again, one transaction each, the failing one parked
            _fire_alone(session_factory, instance_id, claim)


def _fire_alone(session_factory: Callable[[], Session], instance_id: int, claim: tuple) -> None:
    """Fire one claimed instance in its own transaction; if it fails, park it (``error``) in another."""
    try:
        with session_factory() as session, session.begin():
            limit_statements(session)
            fire_batch(session, {instance_id: claim})
    except Exception as exc:
        message = exc.message if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
        log.warning("timer step failed for instance %s: %s", instance_id, message)
        with session_factory() as session, session.begin():
            limit_statements(session)
            for instance in _claimed(session, {instance_id: claim}):
                _park(instance, message)


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
