"""Sending the outbox: mail rows written by steps, delivered over SMTP by the worker.

A step only writes an ``outbox_mail`` row (``notifications.queue_mail``), so a
slow or absent mail server never holds up a step. The worker (``desk worker``,
and the in-process worker of ``desk serve``) runs ``work`` in its own thread:

1. claim: in a short transaction, take due PENDING rows (PostgreSQL:
   ``FOR UPDATE SKIP LOCKED``, so several workers never take the same row),
   mark them SENDING and commit;
2. send each over SMTP, holding no lock and no transaction;
3. mark SENT, or PENDING again with ``next_attempt_at`` moved back by a growing
   delay (``backoff``), or FAILED after ``MAX_ATTEMPTS``.

Never sent twice: a row is claimed by exactly one worker, and a row left in
SENDING by a worker killed mid-send is *not* retried (the mail may have gone
out); after ``STALE_AFTER`` it is marked FAILED with that reason for a person
to look at.

Settings come from the outbox page (``mail_settings``, when it names a host) or
else from the environment: ``DESK_SMTP_HOST`` (no host: mail stays queued),
``DESK_SMTP_PORT`` (25), ``DESK_SMTP_TLS`` (``starttls``, ``ssl`` or off;
``1``/``true`` mean starttls), ``DESK_MAIL_FROM``, and optionally
``DESK_SMTP_USER`` / ``DESK_SMTP_PASSWORD`` (never stored in the database).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Invalid
from ..models import MailSettings, MailStatus, OutboxMail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
STALE_AFTER = timedelta(minutes=10)
BATCH = 20


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 25
    tls: str = ""  # "", "starttls" or "ssl"
    sender: str = "servicedesk@localhost"
    user: str = ""
    password: str = ""
    timeout: float = 15.0

    @classmethod
    def from_env(cls, env: dict | None = None) -> SmtpSettings:
        env = os.environ if env is None else env
        tls = (env.get("DESK_SMTP_TLS") or "").strip().lower()
        tls = {"1": "starttls", "true": "starttls", "yes": "starttls", "on": "starttls"}.get(tls, tls)
        if tls not in ("starttls", "ssl"):
            tls = ""
        port = env.get("DESK_SMTP_PORT") or ("465" if tls == "ssl" else "25")
        return cls(
            host=(env.get("DESK_SMTP_HOST") or "").strip(),
            port=int(port),
            tls=tls,
            sender=(env.get("DESK_MAIL_FROM") or cls.sender).strip(),
            user=env.get("DESK_SMTP_USER") or "",
            password=env.get("DESK_SMTP_PASSWORD") or "",
        )


def current_settings(session: Session, env: dict | None = None) -> SmtpSettings:
    """The admin's SMTP settings when they name a host, else the environment's (``DESK_SMTP_*``)."""
    from_env = SmtpSettings.from_env(env)
    row = session.get(MailSettings, 1)
    if row is None or not row.host:
        return from_env
    return SmtpSettings(host=row.host, port=row.port, tls=row.tls, sender=row.sender or from_env.sender,
                        user=from_env.user, password=from_env.password)


def save_settings(session: Session, values: dict, *, user) -> MailSettings:
    """Store the SMTP server from the outbox page; an empty host means "use the environment"."""
    host = (values.get("host") or "").strip()
    tls = (values.get("tls") or "").strip().lower()
    sender = (values.get("sender") or "").strip()
    fields: dict[str, list[str]] = {}
    try:
        port = int(values.get("port") or (465 if tls == "ssl" else 25))
        if not 0 < port < 65536:
            raise ValueError
    except (TypeError, ValueError):
        fields["port"] = ["端口应为 1–65535 / a port 1–65535"]
        port = 25
    if tls not in ("", "starttls", "ssl"):
        fields["tls"] = ["应为 starttls、ssl 或留空 / starttls, ssl or empty"]
    if sender and "@" not in sender:
        fields["sender"] = ["应为邮箱地址 / an e-mail address"]
    if fields:
        raise Invalid("邮件设置有误 / the mail settings have errors", fields=fields)
    row = session.get(MailSettings, 1) or MailSettings(id=1)
    row.host, row.port, row.tls, row.sender = host, port, tls, sender
    row.updated_by, row.updated_at = user.username, now()
    session.add(row)
    session.flush()
    return row


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at an hour: the delay after the n-th failed attempt."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def claim(session: Session, limit: int = BATCH) -> list[OutboxMail]:
    """Due PENDING rows, marked SENDING in the caller's transaction (commit before sending)."""
    at = now()
    stmt = (
        select(OutboxMail)
        .where(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at <= at)
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.scalars(stmt))
    for row in rows:
        row.status = MailStatus.SENDING
        row.claimed_at = at
        row.attempts = (row.attempts or 0) + 1
    return rows


def give_up_stale(session: Session) -> int:
    """Rows a killed worker left SENDING: failed, never re-sent (the mail may have gone)."""
    stale = list(session.scalars(
        select(OutboxMail).where(OutboxMail.status == MailStatus.SENDING, OutboxMail.claimed_at < now() - STALE_AFTER)
    ))
    for row in stale:
        row.status = MailStatus.FAILED
        row.last_error = "发送中断，为免重复不再重发 / interrupted while sending; not re-sent to avoid a duplicate"
    return len(stale)


def message(row: OutboxMail, settings: SmtpSettings) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = row.to_addr
    mail["Subject"] = row.subject
    mail["Date"] = formatdate(localtime=False)
    domain = settings.sender.rpartition("@")[2] or "desk.local"
    mail["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain=domain)
    mail["X-Desk-Kind"] = row.kind
    mail.set_content(row.body)
    return mail


def deliver(mails: list[EmailMessage], settings: SmtpSettings) -> list[str | None]:
    """Send over one SMTP connection; per mail None (sent) or the error text."""
    results: list[str | None] = []
    try:
        if settings.tls == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password)
            for mail in mails:
                try:
                    smtp.send_message(mail)
                    results.append(None)
                except smtplib.SMTPException as exc:
                    results.append(f"{type(exc).__name__}: {exc}")
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"
        results += [error] * (len(mails) - len(results))
    return results


def send_due(session_factory: Callable[[], Session], settings: SmtpSettings | None = None) -> dict[str, int]:
    """One round: claim, send, record. Returns counts {sent, retry, failed}."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    with session_factory() as session, session.begin():
        settings = settings or current_settings(session)
        if not settings.host:
            return counts
        counts["failed"] += give_up_stale(session)
        rows = claim(session)
        batch = [(row.id, row.attempts, message(row, settings)) for row in rows]
    if not batch:
        return counts
    results = deliver([mail for _id, _attempts, mail in batch], settings)
    with session_factory() as session, session.begin():
        for (row_id, attempts, _mail), error in zip(batch, results, strict=True):
            row = session.get(OutboxMail, row_id)
            at = now()
            if error is None:
                row.status, row.sent_at, row.last_error = MailStatus.SENT, at, None
                counts["sent"] += 1
            elif attempts >= MAX_ATTEMPTS:
                row.status, row.last_error = MailStatus.FAILED, error
                counts["failed"] += 1
            else:
                row.status, row.last_error, row.next_attempt_at = MailStatus.PENDING, error, at + backoff(attempts)
                counts["retry"] += 1
    if counts["retry"] or counts["failed"]:
        log.warning("outbox: %s", counts)
    return counts


def seconds_until_next(session: Session, max_sleep: float) -> float:
    nxt = session.scalar(select(func.min(OutboxMail.next_attempt_at)).where(OutboxMail.status == MailStatus.PENDING))
    if nxt is None:
        return max_sleep
    return max(0.0, min(max_sleep, (nxt - now()).total_seconds()))


def work(session_factory: Callable[[], Session], stop: threading.Event, *, max_sleep: float = 2.0,
         settings: SmtpSettings | None = None) -> None:
    """The sender loop, beside the timer loop: send what is due, sleep until the next (≤ max_sleep).

    Without ``settings`` each round reads the current ones (the outbox page, else the environment).
    """
    while not stop.is_set():
        try:
            send_due(session_factory, settings)
            with session_factory() as session, session.begin():
                pause = seconds_until_next(session, max_sleep)
        except Exception:  # keep sending through a database hiccup
            log.exception("outbox round failed")
            pause = max_sleep
        stop.wait(pause if pause > 0 else 0.05)


def start_thread(session_factory: Callable[[], Session], stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=work, args=(session_factory, stop), name="desk-outbox", daemon=True)
    thread.start()
    return thread
