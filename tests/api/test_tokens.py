"""API tokens expire, say when they were last used, and their owner can list and revoke them."""

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from engine.models import ApiToken, User
from webforms.extensions import db

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def thirty_days(app):
    """The desk's own setting (conftest gives other tests ten years: they travel months ahead)."""
    app.config["DESK_API_TOKEN_DAYS"] = 30


def test_the_desk_gives_a_token_thirty_days_unless_told_otherwise(monkeypatch, tmp_path):
    from webforms import create_app

    uri = f"sqlite:///{tmp_path / 'd.sqlite'}"
    monkeypatch.delenv("DESK_API_TOKEN_DAYS", raising=False)
    assert create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "x"}).config["DESK_API_TOKEN_DAYS"] == 30
    monkeypatch.setenv("DESK_API_TOKEN_DAYS", "7")
    assert create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "x"}).config["DESK_API_TOKEN_DAYS"] == 7
    for wrong in ("0", "3651"):
        monkeypatch.setenv("DESK_API_TOKEN_DAYS", wrong)
        with pytest.raises(RuntimeError, match="1 to 3650 days"):
            create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "x"})


def _token(client, username="agent1", **extra):
    return client.post("/api/tokens", json={"username": username, "password": "demo", **extra})


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _rows(app, username="agent1") -> list[ApiToken]:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        rows = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))
        db.session.remove()
        return rows


def test_a_token_works_for_thirty_days_and_not_a_moment_longer(client):
    with time_machine.travel(T0, tick=False) as clock:
        res = _token(client)
        assert res.status_code == 201
        body = res.get_json()
        assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(days=30)
        headers = _auth(body["token"])
        clock.move_to(T0 + timedelta(days=30) - timedelta(seconds=1))
        assert client.get("/api/me", headers=headers).status_code == 200
        clock.move_to(T0 + timedelta(days=30))
        res = client.get("/api/me", headers=headers)
        assert res.status_code == 401
        assert "expired" in res.get_json()["message"]
        res = client.get("/api/me", headers=_auth("not-a-token"))
        assert res.status_code == 401 and "invalid token" in res.get_json()["message"]


def test_a_shorter_life_can_be_asked_for_and_a_longer_one_only_where_the_desk_allows(app, client):
    with time_machine.travel(T0, tick=False) as clock:
        body = _token(client, expires_in_days=2).get_json()
        assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(days=2)
        clock.move_to(T0 + timedelta(days=2))
        assert client.get("/api/me", headers=_auth(body["token"])).status_code == 401

        before = [r.id for r in _rows(app)]
        for bad in (31, 0, -1, "5", 2.5, True):
            res = _token(client, expires_in_days=bad)
            assert res.status_code == 422, bad
            assert "expires_in_days" in res.get_json()["fields"], bad
        assert [r.id for r in _rows(app)] == before  # a refused request issued nothing, cleared nothing
        body = _token(client, expires_in_days=None).get_json()  # null: the default
        assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(days=32)

        app.config["DESK_API_TOKEN_DAYS"] = 90
        body = _token(client, expires_in_days=90).get_json()
        assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(days=92)  # the clock moved 2 days
        default = _token(client).get_json()
        assert datetime.fromisoformat(default["expires_at"]) == T0 + timedelta(days=92)


def test_last_used_is_kept_to_ten_minutes_even_for_reads_and_refused_calls(app, client):
    with time_machine.travel(T0, tick=False) as clock:
        token = _token(client).get_json()["token"]
        assert _rows(app)[0].last_used_at is None
        clock.move_to(T0 + timedelta(minutes=1))
        assert client.get("/api/me", headers=_auth(token)).status_code == 200  # a read: nothing else commits
        assert _rows(app)[0].last_used_at == T0 + timedelta(minutes=1)
        clock.move_to(T0 + timedelta(minutes=10, seconds=59))
        client.get("/api/me", headers=_auth(token))
        assert _rows(app)[0].last_used_at == T0 + timedelta(minutes=1)  # within ten minutes: not written again
        clock.move_to(T0 + timedelta(minutes=11))
        res = client.post("/api/tickets", headers=_auth(token), json={"title": ""})  # refused, rolled back
        assert res.status_code == 422
        assert _rows(app)[0].last_used_at == T0 + timedelta(minutes=11)


def test_the_owner_lists_their_tokens_and_revokes_one_and_no_one_elses(app, client):
    with time_machine.travel(T0, tick=False) as clock:
        first = _token(client, expires_in_days=1).get_json()["token"]
        clock.move_to(T0 + timedelta(hours=1))
        second = _token(client).get_json()["token"]
        others = _token(client, "pm1").get_json()["token"]
        client.get("/api/me", headers=_auth(first))

        items = client.get("/api/tokens", headers=_auth(second)).get_json()["items"]
        assert [i["current"] for i in items] == [True, False]  # the newest first
        assert items[1]["last_used_at"] == (T0 + timedelta(hours=1)).isoformat()
        assert "token" not in items[0] and "token_hash" not in items[0]
        first_id = items[1]["id"]
        pm_id = client.get("/api/tokens", headers=_auth(others)).get_json()["items"][0]["id"]

        assert client.delete(f"/api/tokens/{pm_id}", headers=_auth(second)).status_code == 404
        assert client.get("/api/me", headers=_auth(others)).status_code == 200
        res = client.delete(f"/api/tokens/{first_id}", headers=_auth(second))
        assert res.status_code == 204 and res.data == b""
        assert client.get("/api/me", headers=_auth(first)).status_code == 401
        assert client.delete(f"/api/tokens/{first_id}", headers=_auth(second)).status_code == 404
        current = client.get("/api/tokens", headers=_auth(second)).get_json()["items"][0]["id"]
        assert client.delete(f"/api/tokens/{current}", headers=_auth(second)).status_code == 204  # a sign-out
        assert client.get("/api/tokens", headers=_auth(second)).status_code == 401


def test_expired_tokens_are_neither_listed_nor_kept_once_a_new_one_is_issued(app, client):
    with time_machine.travel(T0, tick=False) as clock:
        _token(client, expires_in_days=1)
        _token(client, expires_in_days=3)
        _token(client, "pm1", expires_in_days=1)
        clock.move_to(T0 + timedelta(days=2))
        fresh = _token(client).get_json()["token"]
        assert len(client.get("/api/tokens", headers=_auth(fresh)).get_json()["items"]) == 2
        assert len(_rows(app)) == 2  # the expired one is gone
        assert len(_rows(app, "pm1")) == 1  # another user's are theirs to clear
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 3
            db.session.remove()


def test_an_admin_lists_and_revokes_a_users_tokens_from_the_command_line(app, client):
    from click.testing import CliRunner

    from webforms.cli import main

    def desk(*args):
        return CliRunner().invoke(main, ["user", "tokens", *args],
                                  env={"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}, catch_exceptions=False)

    with time_machine.travel(T0, tick=False):
        tokens = [_token(client).get_json()["token"] for _ in range(3)]
        kept = _token(client, "pm1").get_json()["token"]
        client.get("/api/me", headers=_auth(tokens[0]))
        ids = [r.id for r in _rows(app)]
        listing = desk("agent1")
        assert listing.exit_code == 0
        lines = listing.output.splitlines()[1:]
        assert [int(line.split()[0]) for line in lines] == ids[::-1]
        assert lines[-1].split()[1:] == ["2026-12-03", "02:00", "2027-01-02", "02:00", "2026-12-03", "02:00"]
        assert lines[0].endswith("-")  # never used

        result = desk("agent1", "--revoke", str(ids[1]))
        assert result.exit_code == 0 and "1 API token(s) of agent1 revoked" in result.output
        assert [client.get("/api/me", headers=_auth(t)).status_code for t in tokens] == [200, 401, 200]
        pm_id = _rows(app, "pm1")[0].id
        result = desk("agent1", "--revoke", str(pm_id))  # not agent1's: refused, nothing revoked
        assert result.exit_code != 0 and f"no token {pm_id}" in result.output
        assert client.get("/api/me", headers=_auth(kept)).status_code == 200
        result = desk("agent1", "--revoke-all")
        assert result.exit_code == 0 and "2 API token(s) of agent1 revoked" in result.output
        assert [client.get("/api/me", headers=_auth(t)).status_code for t in tokens] == [401, 401, 401]
        assert client.get("/api/me", headers=_auth(kept)).status_code == 200
        assert desk("nobody").exit_code != 0
