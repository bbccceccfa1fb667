"""Pages for notification choices, the admins' mail templates and the outbox."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import MailTemplate, NotificationPreference
from webforms.extensions import db


def test_a_user_turns_off_assignment_mail(app, desk):
    desk.login("eng1")
    page = desk.text("/notifications/preferences")
    assert "任务指派" in page and "eng1@desk.local" in page
    res = desk.post("/notifications/preferences", {"assigned.in_app": "on", "sla_warning.in_app": "on",
                                                    "sla_warning.email": "on"})
    assert res.status_code == 302
    with app.app_context():
        rows = {r.kind: (r.in_app, r.email) for r in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.username == "eng1"))}
    assert rows == {"assigned": (True, False), "sla_warning": (True, True), "sla_breach": (False, False)}
    assert 'name="assigned.email" aria-label' in desk.text("/notifications/preferences")


def test_an_admin_edits_and_resets_a_template(app, desk):
    desk.login("agent1")
    assert desk.get("/notifications/templates").status_code == 403
    desk.login("admin1")
    listing = desk.text("/notifications/templates")
    assert "受理通知（客户）" in listing and "内置" in listing
    page = desk.text("/notifications/templates/customer_accepted")
    assert "{{ number }}" in page and "INC-20261123-0001" in page  # the variables and a preview
    bad = desk.post("/notifications/templates/customer_accepted", {"subject": "{{ number", "body": "x"})
    assert bad.status_code == 422 and "模板错误" in bad.get_data(as_text=True)
    ok = desk.post("/notifications/templates/customer_accepted",
                   {"action": "save", "subject": "回执 {{ number }}", "body": "工单号 {{ number }}"})
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.get(MailTemplate, "customer_accepted").updated_by == "admin1"
    desk.post("/notifications/templates/customer_accepted", {"action": "reset"})
    with app.app_context():
        assert db.session.get(MailTemplate, "customer_accepted") is None
    assert desk.get("/notifications/templates/nonsense").status_code == 404


def test_the_outbox_lists_queued_mail(api, desk):
    number = api.new_ticket(email="wang@example.cn")["number"]
    desk.login("admin1")
    page = desk.text("/notifications/outbox?status=pending")
    assert "wang@example.cn" in page and number in page
    assert "wang@example.cn" not in desk.text("/notifications/outbox?status=sent")


def test_an_admin_sets_the_mail_server_which_wins_over_the_environment(app, desk):
    from engine.desk import outbox

    env = {"DESK_SMTP_HOST": "env.example.cn", "DESK_MAIL_FROM": "env@example.cn"}
    with app.app_context():
        assert outbox.current_settings(db.session, env).host == "env.example.cn"
    desk.login("admin1")
    bad = desk.post("/notifications/outbox", {"host": "mail.example.cn", "port": "99999", "tls": "x", "sender": "y"})
    assert bad.status_code == 422 and "65535" in bad.get_data(as_text=True)
    ok = desk.post("/notifications/outbox", {"host": "mail.example.cn", "port": "587", "tls": "starttls",
                                             "sender": "desk@example.cn"})
    assert ok.status_code == 302
    with app.app_context():
        settings = outbox.current_settings(db.session, env)
    assert (settings.host, settings.port, settings.tls, settings.sender) == ("mail.example.cn", 587, "starttls",
                                                                             "desk@example.cn")
    desk.post("/notifications/outbox", {"host": "", "port": "25", "tls": "", "sender": ""})
    with app.app_context():
        assert outbox.current_settings(db.session, env).host == "env.example.cn"
