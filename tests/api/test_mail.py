"""E-mail through the outbox to a real local SMTP server (aiosmtpd on a free loopback port)."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from engine.desk import outbox
from engine.models import MailStatus, Notification, OutboxMail
from webforms.extensions import db

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        message.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def to(self, addr: str) -> list:
        return [m for m in self.messages if addr in m.envelope_to]


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body(message) -> str:
    return message.get_payload(decode=True).decode("utf-8")


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.settings = outbox.SmtpSettings(host="127.0.0.1", port=port, sender="desk@example.cn")
    yield inbox
    controller.stop()


def send(app, settings) -> dict:
    with app.app_context():
        return outbox.send_due(sessionmaker(bind=db.engine), settings)


def rows(app, **where) -> list[OutboxMail]:
    with app.app_context():
        stmt = select(OutboxMail).order_by(OutboxMail.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(OutboxMail, key) == value)
        found = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return found


def test_customer_and_staff_mail_go_out_once(app, api, smtp):
    with time_machine.travel(T0, tick=False):
        number = api.new_ticket(email="wang@example.cn")["number"]
        api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
        api.complete("agent1", number, "online_fix", outcome="dispatch")
        api.complete("pm1", number, "pm_assign", engineer="eng1")
        assert send(app, smtp.settings)["sent"] == 2
        assert send(app, smtp.settings) == {"sent": 0, "retry": 0, "failed": 0}  # never twice
    accepted = smtp.to("wang@example.cn")
    assert len(accepted) == 1
    assert number in subject(accepted[0]) and "已受理" in subject(accepted[0])
    assert number in body(accepted[0])
    assert accepted[0]["From"] == "desk@example.cn"
    assigned = smtp.to("eng1@desk.local")
    assert len(assigned) == 1 and number in subject(assigned[0]) and "刘工" in body(assigned[0])
    assert all(r.status == MailStatus.SENT and r.attempts == 1 for r in rows(app))


def test_resolution_and_closure_reach_the_customer(app, api, smtp):
    with time_machine.travel(T0, tick=False):
        number = api.new_ticket(email="li@example.cn")["number"]
        api.complete("agent1", number, "classify", category="application", impact="low", urgency="low")
        api.complete("agent1", number, "online_fix", outcome="resolved", solution="重置密码")
        api.complete("agent1", number, "callback", reached=True, solved=True, satisfaction="satisfied")
        api.complete("lead1", number, "close", summary="已重置密码")
        send(app, smtp.settings)
    subjects = [subject(m) for m in smtp.to("li@example.cn")]
    assert len(subjects) == 3
    assert "已受理" in subjects[0] and "已解决" in subjects[1] and "已关闭" in subjects[2]
    assert "重置密码" in body(smtp.to("li@example.cn")[1])


def test_a_refused_connection_is_retried_with_backoff(app, api, smtp):
    down = outbox.SmtpSettings(host="127.0.0.1", port=free_port())
    with time_machine.travel(T0, tick=False) as clock:
        api.new_ticket(email="wang@example.cn")
        assert send(app, down) == {"sent": 0, "retry": 1, "failed": 0}
        [row] = rows(app)
        assert row.status == MailStatus.PENDING and row.attempts == 1 and row.last_error
        assert row.next_attempt_at == T0 + timedelta(seconds=30)
        clock.move_to(T0 + timedelta(seconds=20))
        assert send(app, smtp.settings)["sent"] == 0  # not due yet
        clock.move_to(T0 + timedelta(seconds=31))
        assert send(app, down)["retry"] == 1
        assert rows(app)[0].next_attempt_at == T0 + timedelta(seconds=31 + 60)
        clock.move_to(T0 + timedelta(minutes=5))
        assert send(app, smtp.settings)["sent"] == 1
    assert len(smtp.to("wang@example.cn")) == 1
    assert rows(app)[0].attempts == 3


def test_gives_up_after_the_last_attempt(app, api):
    down = outbox.SmtpSettings(host="127.0.0.1", port=free_port())
    with time_machine.travel(T0, tick=False) as clock:
        api.new_ticket(email="wang@example.cn")
        for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
            result = send(app, down)
            assert result == ({"sent": 0, "retry": 0, "failed": 1} if attempt == outbox.MAX_ATTEMPTS
                              else {"sent": 0, "retry": 1, "failed": 0})
            clock.shift(outbox.LONGEST_RETRY)
    assert rows(app)[0].status == MailStatus.FAILED


def test_a_mail_claimed_by_one_worker_is_not_taken_by_another(app, api, smtp):
    with time_machine.travel(T0, tick=False) as clock:
        api.new_ticket(email="wang@example.cn")
        with app.app_context():
            factory = sessionmaker(bind=db.engine)
            with factory() as session, session.begin():
                assert len(outbox.claim(session)) == 1  # this worker dies before sending
        assert send(app, smtp.settings)["sent"] == 0
        clock.shift(outbox.STALE_AFTER + timedelta(seconds=1))
        assert send(app, smtp.settings) == {"sent": 0, "retry": 0, "failed": 1}
    assert smtp.messages == []  # possibly sent by the dead worker: never sent again
    assert "interrupted" in rows(app)[0].last_error


def test_no_mail_without_a_host_and_none_queued_by_a_refused_step(app, api, smtp):
    assert send(app, outbox.SmtpSettings(host="")) == {"sent": 0, "retry": 0, "failed": 0}
    res = api.post("agent1", "/api/tickets", json={"type": "nonsense", "email": "x@example.cn"})
    assert res.status_code == 422
    assert rows(app) == []


def test_preferences_choose_the_channel(app, api, smtp):
    from engine.desk import notifications

    with app.app_context():
        notifications.set_preferences(db.session, "eng1", {"assigned": {"in_app": True, "email": False}})
        db.session.commit()
    with time_machine.travel(T0, tick=False):
        number = api.new_ticket()["number"]
        api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
        api.complete("agent1", number, "online_fix", outcome="dispatch")
        api.complete("pm1", number, "pm_assign", engineer="eng1")
    assert rows(app, username="eng1") == []
    with app.app_context():
        bells = db.session.scalar(select(func.count()).select_from(Notification)
                                  .where(Notification.username == "eng1", Notification.kind == "assigned"))
    assert bells == 1


def test_an_edited_template_is_used(app, api, smtp):
    from engine.desk import notifications, users

    with app.app_context():
        admin = users.get_user(db.session, "admin1")
        notifications.save_template(db.session, "customer_accepted", "受理回执 {{ number }}",
                                    "您好 {{ reporter_name }}，工单号：{{ number }}", user=admin)
        db.session.commit()
    with time_machine.travel(T0, tick=False):
        number = api.new_ticket(email="wang@example.cn")["number"]
        send(app, smtp.settings)
    [mail] = smtp.to("wang@example.cn")
    assert subject(mail) == f"受理回执 {number}"
    assert body(mail).strip() == f"您好 王工，工单号：{number}"


def test_a_broken_template_is_refused(db_session):
    from engine.desk import notifications, users
    from engine.errors import Invalid

    admin = users.get_user(db_session, "admin1")
    with pytest.raises(Invalid) as refused:
        notifications.save_template(db_session, "customer_closed", "{{ number ", "", user=admin)
    assert set(refused.value.fields) == {"subject", "body"}


def test_settings_from_the_environment():
    settings = outbox.SmtpSettings.from_env({"DESK_SMTP_HOST": "mail.example.cn", "DESK_SMTP_PORT": "587",
                                             "DESK_SMTP_TLS": "true", "DESK_MAIL_FROM": "desk@example.cn"})
    assert (settings.host, settings.port, settings.tls, settings.sender) == ("mail.example.cn", 587, "starttls",
                                                                             "desk@example.cn")
    assert outbox.SmtpSettings.from_env({"DESK_SMTP_TLS": "ssl"}).port == 465
    assert outbox.SmtpSettings.from_env({}).host == ""


@pytest.mark.postgres
@pytest.mark.skipif(not __import__("conftest").ON_POSTGRES, reason="SKIP LOCKED needs PostgreSQL")
def test_two_workers_never_claim_the_same_mail(app, api):
    for n in range(3):
        api.new_ticket(email=f"c{n}@example.cn")
    with app.app_context():
        factory = sessionmaker(bind=db.engine)
        with factory() as first, first.begin():
            taken = {m.id for m in outbox.claim(first, limit=2)}  # held, uncommitted: a worker mid-claim
            with factory() as second, second.begin():
                other = {m.id for m in outbox.claim(second, limit=10)}
            assert len(taken) == 2 and len(other) == 1 and taken.isdisjoint(other)


def test_the_worker_reads_the_settings_an_admin_saved(app, api, smtp):
    from engine.desk import users

    with app.app_context():
        outbox.save_settings(db.session, {"host": "127.0.0.1", "port": str(smtp.settings.port), "tls": "",
                                          "sender": "helpdesk@example.cn"}, user=users.get_user(db.session, "admin1"))
        db.session.commit()
    with time_machine.travel(T0, tick=False):
        api.new_ticket(email="wang@example.cn")
        with app.app_context():
            assert outbox.send_due(sessionmaker(bind=db.engine))["sent"] == 1  # no settings passed: the saved ones
    [mail] = smtp.to("wang@example.cn")
    assert mail["From"] == "helpdesk@example.cn"


def test_the_customer_hears_when_the_ticket_goes_to_tech_support(app, api):
    number = api.new_ticket(email="wang@example.cn")["number"]
    api.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
    api.complete("agent1", number, "online_fix", outcome="dispatch")
    api.complete("pm1", number, "pm_assign", engineer="eng1")
    api.complete("eng1", number, "engineer", outcome="escalate", solution="疑似硬件故障")
    mails = rows(app, to_addr="wang@example.cn")
    assert [m.kind for m in mails] == ["customer_accepted", "customer_escalated"]
    assert "已转技术支持" in mails[1].body and number in mails[1].subject
