"""Mail in, through real servers: the desk's own SMTP server (aiosmtpd) and an IMAP mailbox (dovecot)."""

from __future__ import annotations

import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine.desk import customers
from engine.models import Attachment, Inbound, OutboxMail, Ticket, TicketNote
from engine.runtime import mailboxes
from webforms.cli import main
from webforms.extensions import db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def archive(app):
    """A customer organisation with one contact who writes to the desk."""
    with app.app_context():
        customers.create(db.session, {"name": "市人民医院信息科", "contacts": [
            {"name": "王工", "phone": "13800000000", "email": "Wang@Hospital.example.cn"}]}, actor="tests")
        db.session.commit()
        db.session.remove()


@pytest.fixture
def read(app):
    """Query in a session of its own, closed at once: SQLite's write lock stays free for the servers."""

    def query(stmt):
        with app.app_context():
            try:
                return list(db.session.scalars(stmt))
            finally:
                db.session.remove()

    return query


@contextmanager
def smtp_server(app, tmp_path, **kwargs):
    with app.app_context():
        factory = sessionmaker(bind=db.engine)
    handler = mailboxes.DeskSmtpHandler(factory, store=tmp_path / "files", max_attachment_bytes=1024 * 1024,
                                        **{k: v for k, v in kwargs.items() if k in ("addresses", "rate_limit")})
    port = free_port()
    server = mailboxes.smtp_server(handler, port=port, **{k: v for k, v in kwargs.items() if k == "max_bytes"})
    server.start()
    try:
        yield port
    finally:
        server.stop()


def mail(subject: str, body: str = "三楼打印机卡纸，无法打印。", sender: str = "王工 <wang@hospital.example.cn>",
         attachment: tuple[str, bytes] | None = None, **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "servicedesk@desk.example.cn"
    message["Subject"] = subject
    message["Date"] = "Tue, 24 Nov 2026 09:30:00 +0800"
    message["Message-ID"] = headers.pop("message_id", None) or f"<{abs(hash((subject, body, sender)))}@hospital.example.cn>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    if attachment:
        message.add_attachment(attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0])
    return message


def send(port: int, message: EmailMessage, envelope_from: str | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.send_message(message, from_addr=envelope_from)


def test_desk_mail_receive_takes_a_new_mail_into_a_ticket(app, api, archive, read, tmp_path):
    """The contract: ``desk mail-receive --port N`` accepts mail for the desk on 127.0.0.1:N."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "DESK_ATTACHMENTS_DIR": str(tmp_path / "files")}
    command = [sys.executable, "-m", "webforms.cli", "mail-receive", "--port", str(port)]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as server:
        try:
            assert "accepting mail" in server.stdout.readline()  # printed once the server listens
            send(port, mail("打印机无法打印", attachment=("error.pdf", PDF)))
        finally:
            server.terminate()
            server.communicate(timeout=30)
    [ticket] = read(select(Ticket))
    assert ticket.channel == "email" and ticket.type == "incident"
    assert ticket.title == "打印机无法打印" and "卡纸" in ticket.description
    assert ticket.reporter_name == "王工" and ticket.organisation == "市人民医院信息科"
    assert ticket.email == "wang@hospital.example.cn" and ticket.contact_id is not None
    assert ticket.qualified and ticket.occurred_at.isoformat() == "2026-11-24T01:30:00+00:00"
    assert ticket.created_by == "email:wang@hospital.example.cn"
    [file] = read(select(Attachment))
    assert file.filename == "error.pdf" and file.ticket_id == ticket.id
    assert (tmp_path / "files" / file.sha256[:2] / file.sha256).read_bytes() == PDF
    [ack] = read(select(OutboxMail).where(OutboxMail.ticket_id == ticket.id))
    assert ack.kind == "customer_accepted" and ack.to_addr == "wang@hospital.example.cn"
    assert ticket.number in ack.subject
    assert [t["bpmn_id"] for t in api.ticket(ticket.number)["open_tasks"]] == ["classify"]


def test_a_reply_naming_the_ticket_becomes_a_customer_reply(app, archive, read, tmp_path):
    with smtp_server(app, tmp_path) as port:
        send(port, mail("打印机无法打印"))
        [ticket] = read(select(Ticket))
        send(port, mail(f"Re: 【服务台】您的事件已受理，工单号 {ticket.number}", "换了硒鼓还是不行，附日志。",
                        attachment=("printer.log", "E-07 paper jam\n".encode())))
    assert len(read(select(Ticket))) == 1
    [note] = read(select(TicketNote).where(TicketNote.ticket_id == ticket.id))
    assert not note.internal and "换了硒鼓" in note.text and note.author == "email:wang@hospital.example.cn"
    assert [a.filename for a in read(select(Attachment))] == ["printer.log"]
    assert [r.reason for r in read(select(Inbound).order_by(Inbound.id))] == ["new", "reply"]


@pytest.mark.parametrize("headers, sender, envelope_from, reason", [
    ({"Auto_Submitted": "auto-replied"}, None, None, "Auto-Submitted"),
    ({"Precedence": "bulk"}, None, None, "Precedence"),
    ({"X_Autoreply": "yes"}, None, None, "X-Autoreply"),
    ({}, "Mail Delivery System <MAILER-DAEMON@hospital.example.cn>", "", "bounce"),
])  # fmt: skip
def test_auto_replies_and_bounces_are_ignored(app, archive, read, tmp_path, headers, sender, envelope_from, reason):
    message = mail("自动回复：打印机无法打印", **({"sender": sender} if sender else {}), **headers)
    with smtp_server(app, tmp_path) as port:
        send(port, message, envelope_from=envelope_from)
    assert read(select(Ticket)) == [] and read(select(OutboxMail)) == []
    [row] = read(select(Inbound))
    assert row.outcome == "ignored" and reason.lower() in row.reason.lower()


def test_unknown_senders_and_strangers_replying_are_quarantined(app, archive, read, tmp_path):
    with smtp_server(app, tmp_path) as port:
        send(port, mail("打印机无法打印"))
        [ticket] = read(select(Ticket))
        send(port, mail("我的电脑坏了", sender="someone@elsewhere.example.com"))
        send(port, mail(f"Re: {ticket.number} 关掉这个工单", sender="someone@elsewhere.example.com"))
    assert len(read(select(Ticket))) == 1 and read(select(TicketNote)) == []
    quarantined = read(select(Inbound).where(Inbound.outcome == "quarantined").order_by(Inbound.id))
    assert ["unknown sender" in quarantined[0].reason, "not the ticket's contact" in quarantined[1].reason] == [True, True]
    [payload, _] = read(select(Inbound.payload).where(Inbound.outcome == "quarantined").order_by(Inbound.id))
    assert b"elsewhere.example.com" in payload  # kept for a person to look at


def test_the_same_mail_twice_makes_one_ticket(app, archive, read, tmp_path):
    message = mail("打印机无法打印", message_id="<same-id@hospital.example.cn>")
    with smtp_server(app, tmp_path) as port:
        send(port, message)
        send(port, message)
    assert len(read(select(Ticket))) == 1
    assert [r.outcome for r in read(select(Inbound).order_by(Inbound.id))] == ["accepted", "ignored"]


def test_oversized_mail_is_refused_before_anything_is_stored(app, archive, read, tmp_path):
    with smtp_server(app, tmp_path, max_bytes=50_000) as port:
        with pytest.raises(smtplib.SMTPResponseException) as refused:
            send(port, mail("大附件", attachment=("big.pdf", PDF + b"0" * 100_000)))
    assert refused.value.smtp_code == 552
    assert read(select(Ticket)) == [] and read(select(Inbound)) == []


def test_a_sender_over_its_share_is_quarantined(app, archive, read, tmp_path):
    with smtp_server(app, tmp_path, rate_limit=2) as port:
        for i in range(3):
            send(port, mail(f"第 {i} 个问题"))
    assert len(read(select(Ticket))) == 2
    assert [r.outcome for r in read(select(Inbound).order_by(Inbound.id))] == ["accepted", "accepted", "quarantined"]


def test_mail_for_other_addresses_is_refused(app, archive, read, tmp_path):
    with smtp_server(app, tmp_path, addresses={"servicedesk@desk.example.cn"}) as port:
        message = mail("打印机无法打印")
        message.replace_header("To", "sales@desk.example.cn")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(port, message)
    assert read(select(Ticket)) == []


# --- IMAP: a real dovecot, configured in a temporary folder, on a free loopback port ----------------------


@pytest.fixture
def dovecot():
    """Debian's dovecot-imapd with its own config, a passwd-file user ``desk`` and a maildir in a temporary
    folder its own users may enter (pytest's tmp_path is private to the user running the tests)."""
    assert Path(DOVECOT).exists(), "dovecot is missing: .ci/run must install dovecot-imapd"
    root = Path(tempfile.mkdtemp(prefix="desk-dovecot-"))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True)
    as_root = os.geteuid() == 0
    me = pwd.getpwuid(os.geteuid()).pw_name
    internal, login = ("dovecot", "dovenull") if as_root else (me, me)
    mail_user = pwd.getpwnam("dovecot") if as_root else pwd.getpwuid(os.geteuid())
    for sub in ("mail", "home"):
        os.chown(root / sub, mail_user.pw_uid, mail_user.pw_gid)
    port = free_port()
    (root / "passwd").write_text("desk:{PLAIN}secret\n")
    config = root / "dovecot.conf"
    config.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    subprocess.run([DOVECOT, "-c", str(config)], check=True)  # returns once it listens, then runs in the background
    try:
        yield port
    finally:
        pid = int((root / "run" / "master.pid").read_text())
        os.kill(pid, 15)
        shutil.rmtree(root, ignore_errors=True)


def deliver(port: int, *messages: EmailMessage) -> None:
    import imaplib

    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("desk", "secret")
    for message in messages:
        client.append("INBOX", None, None, message.as_bytes())
    client.logout()


def unseen(port: int) -> int:
    import imaplib

    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("desk", "secret")
    client.select("INBOX")
    _, found = client.search(None, "UNSEEN")
    client.logout()
    return len(found[0].split())


def fetch(app, port: int, tmp_path):
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "DESK_IMAP_PASSWORD": "secret",
           "DESK_ATTACHMENTS_DIR": str(tmp_path / "files")}
    args = ["mail-fetch", "--host", "127.0.0.1", "--port", str(port), "--tls", "none", "--user", "desk"]
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_desk_mail_fetch_reads_an_imap_mailbox(app, archive, read, dovecot, tmp_path):
    deliver(dovecot, mail("打印机无法打印", attachment=("error.pdf", PDF)),
            mail("Out of office", Auto_Submitted="auto-replied"),
            mail("你好", sender="stranger@elsewhere.example.com"))
    assert unseen(dovecot) == 3
    result = fetch(app, dovecot, tmp_path)
    assert result.exit_code == 0, result.output
    assert "accepted=1 ignored=1 quarantined=1 failed=0" in result.output
    [ticket] = read(select(Ticket))
    assert ticket.channel == "email" and ticket.reporter_name == "王工"
    assert [a.filename for a in read(select(Attachment))] == ["error.pdf"]
    assert unseen(dovecot) == 0
    deliver(dovecot, mail(f"Re: {ticket.number}", "已经好了，谢谢"))
    assert "accepted=1 ignored=0" in fetch(app, dovecot, tmp_path).output
    assert len(read(select(Ticket))) == 1
    assert [n.text for n in read(select(TicketNote))] == ["已经好了，谢谢"]
    again = fetch(app, dovecot, tmp_path)  # nothing new: nothing done
    assert "accepted=0 ignored=0 quarantined=0 failed=0" in again.output


def test_desk_mail_fetch_says_when_the_mailbox_refuses(app, dovecot, tmp_path):
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "DESK_IMAP_PASSWORD": "wrong"}
    result = CliRunner().invoke(main, ["mail-fetch", "--host", "127.0.0.1", "--port", str(dovecot), "--tls", "none",
                                       "--user", "desk"], env=env)
    assert result.exit_code == 1 and "IMAP" in result.output


def test_an_oversized_mail_in_the_mailbox_is_quarantined_by_its_headers(app, archive, read, dovecot, tmp_path):
    deliver(dovecot, mail("扫描件", attachment=("scan.pdf", PDF + b"0" * 200_000)), mail("打印机无法打印"))
    with app.app_context():
        factory = sessionmaker(bind=db.engine)
    settings = mailboxes.ImapSettings(host="127.0.0.1", port=dovecot, tls="", user="desk", password="secret")
    counts = mailboxes.fetch(settings, factory, store=tmp_path / "files", max_attachment_bytes=1024 * 1024,
                             max_mail=100_000)
    assert counts == {"accepted": 1, "ignored": 0, "quarantined": 1, "failed": 0}
    [held] = read(select(Inbound).where(Inbound.outcome == "quarantined"))
    assert held.subject == "扫描件" and "too large" in held.reason and held.sender == "wang@hospital.example.cn"
    [payload] = read(select(Inbound.payload).where(Inbound.id == held.id))
    assert b"Subject:" in payload and len(payload) < 10_000  # the headers only
    assert [t.title for t in read(select(Ticket))] == ["打印机无法打印"]
    assert unseen(dovecot) == 0
