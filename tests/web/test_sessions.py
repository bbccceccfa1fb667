"""Issue 11, sessions: no fallback secret key, the cookie's flags, and sign-out ending every copy of the cookie."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ON_POSTGRES
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from engine.desk import users
from webforms import create_app, sessions
from webforms.cli import main
from webforms.extensions import db

# keys a desk could have been signed with before: the old fallback, and the usual guesses
OLD_KEYS = ["dev-change-me", "dev", "change-me", "secret", "changeme", "development"]


def forged(key: str, payload: dict) -> str:
    """A session cookie for ``payload`` signed as Flask signs one with ``key``."""
    signer = Flask("forger")
    signer.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(payload)


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def signed_in(client, path: str = "/processes/") -> bool:
    res = client.get(path)
    assert res.status_code in (200, 302), res.status_code
    return res.status_code == 200


@pytest.fixture
def instance(tmp_path, monkeypatch) -> Path:
    """An instance folder of the test's own and no SECRET_KEY in the environment."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("DESK_INSTANCE_PATH", str(folder))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    return folder


@pytest.fixture
def production(app, instance):
    """The test's database served as in production: the key comes from the instance folder."""
    assert sessions.ensure_key(instance)
    built = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True})
    yield built
    with built.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_app_refuses_to_start_without_a_key(instance):
    with pytest.raises(sessions.MissingSecretKey) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "desk init" in str(refused.value) and "SECRET_KEY" in str(refused.value)
    with pytest.raises(sessions.MissingSecretKey):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": ""})


def test_commands_other_than_init_say_what_to_do_without_a_key(instance, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite'}"}
    for command in (["versions"], ["worker"], ["serve"], ["user", "password", "agent1", "--password", "x"]):
        result = CliRunner().invoke(main, command, env=env)
        assert result.exit_code == 1 and "desk init" in result.output and "Traceback" not in result.output, command


@pytest.mark.skipif(ON_POSTGRES, reason="desk init builds its own SQLite database")
def test_desk_init_makes_a_private_key_once_and_every_command_uses_it(instance, tmp_path, monkeypatch):
    runner = CliRunner()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}"}
    first = runner.invoke(main, ["init", "--no-deploy"], env=env, catch_exceptions=False)
    assert first.exit_code == 0 and "secret key: made" in first.output, first.output
    key_file = instance / "secret_key"
    key = key_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = runner.invoke(main, ["init", "--no-deploy"], env=env, catch_exceptions=False)
    assert again.exit_code == 0 and "secret key" not in again.output
    assert key_file.read_text().strip() == key  # kept, never replaced (that would sign everyone out)
    assert runner.invoke(main, ["versions"], env=env, catch_exceptions=False).exit_code == 0
    assert create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]}).secret_key == key
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")  # the environment wins
    assert create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]}).secret_key == "from-the-environment"


@pytest.mark.skipif(ON_POSTGRES, reason="desk init builds its own SQLite database")
def test_desk_init_makes_no_key_when_the_environment_has_one(instance, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}", "SECRET_KEY": "from-the-environment"}
    result = CliRunner().invoke(main, ["init", "--no-deploy"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and not (instance / "secret_key").exists()


def test_a_cookie_forged_with_an_old_default_key_opens_nothing(production):
    with production.app_context():
        admin = users.get_user(db.session, "admin1")
        payload = {"_user_id": str(admin.id), "_fresh": True, sessions.NONCE: admin.session_nonce}
    client = production.test_client()
    for key in OLD_KEYS:
        client.set_cookie("session", forged(key, payload))
        res = client.get("/processes/")
        assert res.status_code == 302 and res.headers["Location"].startswith("/login"), key
        assert client.get("/api/tasks").status_code == 401
    # the same cookie signed with the instance's key does open the page: the forgery above was a fair one
    client.set_cookie("session", forged(production.secret_key, payload))
    assert signed_in(client)
    # signed with the right key but from before the nonce (an older session): signed out
    client.set_cookie("session", forged(production.secret_key, {"_user_id": str(admin.id), "_fresh": True}))
    assert not signed_in(client)


def test_the_session_cookie_is_lax_http_only_and_secure_over_https(client):
    plain = client.get("/login").headers["Set-Cookie"]
    assert "SameSite=Lax" in plain and "HttpOnly" in plain and "Secure" not in plain
    secure = client.get("/login", base_url="https://desk.example").headers["Set-Cookie"]
    assert "Secure" in secure and "SameSite=Lax" in secure


def test_x_forwarded_proto_counts_only_behind_a_configured_proxy(app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    assert "Secure" not in app.test_client().get("/login", headers=forwarded).headers["Set-Cookie"]
    proxied = create_app({**app.config, "DESK_PROXY_HOPS": 1})
    assert "Secure" in proxied.test_client().get("/login", headers=forwarded).headers["Set-Cookie"]
    with proxied.app_context():
        db.engine.dispose()


def test_a_copied_cookie_stops_working_at_sign_out(app, desk):
    desk.login("admin1")
    thief = app.test_client()
    thief.set_cookie("session", session_cookie(desk.client))
    assert signed_in(thief)
    desk.post("/logout")
    assert not signed_in(thief) and not signed_in(desk.client)
    desk.login("admin1")  # signing in again works, with a cookie of its own
    assert signed_in(desk.client) and not signed_in(thief)


def test_a_new_password_ends_every_session(app, desk):
    desk.login("agent1")
    assert signed_in(desk.client, "/inbox")
    result = CliRunner().invoke(main, ["user", "password", "agent1", "--password", "n3w-pass"],
                                env={"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}, catch_exceptions=False)
    assert result.exit_code == 0 and "sessions have ended" in result.output, result.output
    assert not signed_in(desk.client, "/inbox")
    assert desk.login("agent1").request.path == "/login"  # the old password no longer works
    assert desk.login("agent1", "n3w-pass").request.path == "/inbox"


def test_a_new_password_revokes_the_users_api_tokens_and_no_one_elses(app, client):
    """A token bought with a leaked password must not outlive the password."""
    def token(username, password="demo"):
        res = client.post("/api/tokens", json={"username": username, "password": password})
        assert res.status_code == 201, res.get_json()
        return {"Authorization": f"Bearer {res.get_json()['token']}"}

    agent_tokens, others = [token("agent1"), token("agent1")], token("lead1")
    assert all(client.get("/api/tasks", headers=h).status_code == 200 for h in agent_tokens + [others])
    result = CliRunner().invoke(main, ["user", "password", "agent1", "--password", "n3w-pass"],
                                env={"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}, catch_exceptions=False)
    assert result.exit_code == 0 and "2 API token(s) revoked" in result.output, result.output
    assert [client.get("/api/tasks", headers=h).status_code for h in agent_tokens] == [401, 401]
    assert client.get("/api/tasks", headers=others).status_code == 200
    assert client.get("/api/tasks", headers=token("agent1", "n3w-pass")).status_code == 200


def test_the_portal_sign_out_ends_copies_too(app, client):
    from engine.desk import accounts, customers

    with app.app_context():
        customers.create(db.session, {"name": "市第一中学", "contacts": [
            {"name": "赵老师", "phone": "13700000000", "email": "zhao@school.example.cn"}]}, actor="tests")
        accounts.add_account(db.session, "zhao@school.example.cn", "s3cret-pw")
        db.session.commit()
    page = client.get("/portal/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    res = client.post("/portal/login", data={"email": "zhao@school.example.cn", "password": "s3cret-pw",
                                             "csrf_token": token})
    assert res.status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", session_cookie(client))
    assert thief.get("/portal/").status_code == 200
    page = client.get("/portal/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/portal/logout", data={"csrf_token": token})
    assert thief.get("/portal/").status_code == 302
