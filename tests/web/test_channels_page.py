"""The desk's channels page: the quarantine, and letting a held mail in once its sender is known;
fax and other manual channels are recorded as chosen on the intake screen."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from engine.desk import customers
from engine.models import Inbound, Ticket
from engine.runtime import mailin
from webforms.extensions import db


def held_mail(app, tmp_path) -> int:
    message = EmailMessage()
    message["From"] = "孙主任 <sun@newclient.example.cn>"
    message["Subject"] = "会议室投影仪无法开机"
    message["Message-ID"] = "<held-1@newclient.example.cn>"
    message.set_content("三楼会议室投影仪按电源键无反应。")
    with app.app_context():
        row = mailin.receive(db.session, message.as_bytes(), store=tmp_path)
        db.session.commit()
        assert row.outcome == "quarantined"
        return row.id


def test_the_quarantine_lists_held_mail_and_lets_it_in_once_the_sender_is_known(app, desk, tmp_path):
    held = held_mail(app, tmp_path)
    desk.login("agent1")
    page = desk.text("/channels/")
    assert "sun@newclient.example.cn" in page and "会议室投影仪无法开机" in page
    refused = desk.post(f"/channels/{held}/release", follow_redirects=True)
    assert "发件人不在客户档案中" in refused.get_data(as_text=True)  # still a stranger: nothing changes
    with app.app_context():
        assert db.session.query(Ticket).count() == 0
        customers.create(db.session, {"name": "新客户公司", "contacts": [
            {"name": "孙主任", "phone": "13600000000", "email": "sun@newclient.example.cn"}]}, actor="agent1")
        db.session.commit()
    res = desk.post(f"/channels/{held}/release")
    assert res.status_code == 302 and "/tickets/" in res.headers["Location"]
    with app.app_context():
        ticket = db.session.query(Ticket).one()
        assert ticket.channel == "email" and ticket.reporter_name == "孙主任" and ticket.organisation == "新客户公司"
        assert db.session.get(Inbound, held).outcome == "released"
    assert "sun@newclient.example.cn" not in desk.text("/channels/")  # no longer in the quarantine


def test_engineers_do_not_see_the_channels_page(desk):
    desk.login("eng1")
    assert desk.get("/channels/").status_code == 403


@pytest.mark.parametrize("channel", ["fax", "phone", "web"])
def test_manual_channels_are_recorded_as_chosen(app, desk, channel):
    desk.login("agent1")
    number = desk.new_ticket(channel=channel)
    with app.app_context():
        assert db.session.query(Ticket).filter_by(number=number).one().channel == channel
