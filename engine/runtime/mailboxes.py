"""The two doors mail comes in by: an IMAP mailbox the desk polls, and the desk's own SMTP server.

Each mail is taken in its own transaction (``mailin.receive``, committed here, the
caller of the write path), so one bad mail never holds back the others. IMAP: a mail
is marked \\Seen only after its transaction committed; a crash in between means the
mail is read again next time and recognised by its Message-ID (ignored as a
duplicate), never a second ticket. SMTP: the server answers 250 only after the
commit, 451 (try again later) when the database failed, and 552 for a mail over the
size limit before any of it is stored.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ..desk import channels
from . import mailin

log = logging.getLogger(__name__)


@dataclass
class ImapSettings:
    """Where the desk's mailbox is: ``DESK_IMAP_HOST``, ``_PORT``, ``_TLS`` (ssl/starttls/none), ``_USER``,
    ``_PASSWORD``, ``_FOLDER``."""

    host: str = ""
    port: int = 993
    tls: str = "ssl"
    user: str = ""
    password: str = ""
    folder: str = "INBOX"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: dict | None = None) -> ImapSettings:
        env = os.environ if env is None else env
        tls = (env.get("DESK_IMAP_TLS") or "ssl").strip().lower()
        tls = tls if tls in ("ssl", "starttls") else ""
        return cls(
            host=(env.get("DESK_IMAP_HOST") or "").strip(),
            port=int(env.get("DESK_IMAP_PORT") or (993 if tls == "ssl" else 143)),
            tls=tls,
            user=env.get("DESK_IMAP_USER") or "",
            password=env.get("DESK_IMAP_PASSWORD") or "",
            folder=env.get("DESK_IMAP_FOLDER") or "INBOX",
        )


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    if settings.tls == "ssl":
        client = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=ssl.create_default_context(),
                                   timeout=settings.timeout)
    else:
        client = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
        if settings.tls == "starttls":
            client.starttls(ssl_context=ssl.create_default_context())
    try:
        client.login(settings.user, settings.password)
    except imaplib.IMAP4.error:
        client.shutdown()
        raise
    return client


def _size(response) -> int:
    text = b" ".join(part if isinstance(part, bytes) else part[0] for part in response if part)
    digits = text.split(b"RFC822.SIZE", 1)[-1].strip().split(b")")[0].split()[0] if b"RFC822.SIZE" in text else b"0"
    return int(digits)


def _body(response) -> bytes:
    return next((part[1] for part in response if isinstance(part, tuple)), b"")


def fetch(
    settings: ImapSettings,
    session_factory: Callable[[], Session],
    *,
    store: Path,
    max_attachment_bytes: int,
    rate_limit: int = mailin.RATE_LIMIT,
    max_mail: int = mailin.MAX_MAIL,
) -> dict[str, int]:
    """Take every unseen mail of the folder in; returns counts by outcome (and ``failed``).

    A mail over ``max_mail`` is not downloaded: its headers are quarantined, so the desk sees who sent what.
    """
    counts = {channels.ACCEPTED: 0, channels.IGNORED: 0, channels.QUARANTINED: 0, "failed": 0}
    client = _connect(settings)
    try:
        status, _ = client.select(settings.folder)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {settings.folder}")
        _, found = client.uid("SEARCH", None, "UNSEEN")
        for uid in (found[0] or b"").split():
            outcome = _take_one(client, uid, session_factory, store=store, max_attachment_bytes=max_attachment_bytes,
                                rate_limit=rate_limit, max_mail=max_mail)
            counts[outcome] += 1
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return counts


def _take_one(client, uid: bytes, session_factory, *, store: Path, max_attachment_bytes: int, rate_limit: int,
              max_mail: int) -> str:
    _, response = client.uid("FETCH", uid, "(RFC822.SIZE)")
    too_large = _size(response) > max_mail
    _, response = client.uid("FETCH", uid, "(BODY.PEEK[HEADER])" if too_large else "(BODY.PEEK[])")
    raw = _body(response)
    session = session_factory()
    try:
        if too_large:
            message = mailin.parse(raw)
            row = channels.record(session, mailin.CHANNEL, sender=mailin.sender_of(message),
                                  subject=str(message.get("Subject", "")), outcome=channels.QUARANTINED,
                                  reason=f"邮件超过 {max_mail // 1024} KB / mail too large", payload=raw)
        else:
            row = mailin.receive(session, raw, store=store, max_attachment_bytes=max_attachment_bytes,
                                 rate_limit=rate_limit)
        outcome = row.outcome
        session.commit()
    except Exception:  # one bad mail must not stop the others; it stays unseen for the next round
        session.rollback()
        log.exception("mail %s could not be taken in", uid)
        return "failed"
    finally:
        session.close()
    client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    return outcome


class DeskSmtpHandler:
    """aiosmtpd handler: mail for the desk's addresses is taken in, one transaction per mail."""

    def __init__(self, session_factory: Callable[[], Session], *, store: Path, max_attachment_bytes: int,
                 addresses: set[str] | None = None, rate_limit: int = mailin.RATE_LIMIT) -> None:
        self.session_factory = session_factory
        self.store = store
        self.max_attachment_bytes = max_attachment_bytes
        self.addresses = {a.lower() for a in addresses or ()}
        self.rate_limit = rate_limit

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.addresses and address.lower() not in self.addresses:
            return "550 5.1.1 not a service desk address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(None, self.take, raw, envelope.mail_from or "")
        except Exception:
            log.exception("mail from %s could not be taken in", envelope.mail_from)
            return "451 4.3.0 the service desk could not store the mail; try again later"
        return f"250 OK {outcome}"

    def take(self, raw: bytes, envelope_from: str) -> str:
        session = self.session_factory()
        try:
            row = mailin.receive(session, raw, store=self.store, envelope_from=envelope_from,
                                 max_attachment_bytes=self.max_attachment_bytes, rate_limit=self.rate_limit)
            outcome = row.outcome
            session.commit()
            return outcome
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()


def smtp_server(handler: DeskSmtpHandler, *, host: str = "127.0.0.1", port: int = 2525, max_bytes: int = mailin.MAX_MAIL):
    """An aiosmtpd controller (a thread with its own loop); ``start()`` it, ``stop()`` it.

    A mail over ``max_bytes`` is refused during DATA (552) before anything is stored.
    """
    from aiosmtpd.controller import Controller

    return Controller(handler, hostname=host, port=port, data_size_limit=max_bytes)
