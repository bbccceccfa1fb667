"""Issue 11, lockout abuse: failures slow the client that made them for that account, never the owner.

Five wrong passwords from a stranger used to lock admin1 out of the pages and the API
for a minute, again and again. Each test names its clients by address (REMOTE_ADDR)
and moves time with time-machine.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import time_machine

from engine.desk import throttle, users
from engine.errors import Forbidden
from engine.models import LoginThrottle
from webforms import create_app
from webforms.extensions import db

from .conftest import Desk

START = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def token(client, username: str, password: str, address: str):
    return client.post("/api/tokens", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def page_client(app, address: str) -> Desk:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Desk(client)


def test_a_stranger_cannot_lock_the_owner_out_of_the_api(client):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            assert token(client, "admin1", "guess", ATTACKER).status_code == 401
        refused = token(client, "admin1", "demo", ATTACKER)  # even the right password waits now
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert refused.get_json()["error"] == "too_many_attempts" and refused.get_json()["retry_after"] == 60
        assert "请 1 分钟后再试" in refused.get_json()["message"] and "try again in 1 minute" in refused.get_json()["message"]
        assert token(client, "admin1", "demo", OWNER).status_code == 201  # the owner, from their own machine


def test_each_further_failure_doubles_the_wait_up_to_a_quarter_of_an_hour(client):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(5):
            token(client, "admin1", "guess", ATTACKER)
        waits = []
        for _ in range(6):
            refused = token(client, "admin1", "guess", ATTACKER)
            assert refused.status_code == 429
            waits.append(int(refused.headers["Retry-After"]))
            traveller.shift(waits[-1] - 1)
            assert token(client, "admin1", "guess", ATTACKER).status_code == 429  # a second early
            traveller.shift(1)
            assert token(client, "admin1", "guess", ATTACKER).status_code == 401  # checked, wrong, counted
        assert waits == [60, 120, 240, 480, 900, 900]
        assert token(client, "admin1", "demo", OWNER).status_code == 201


def test_the_pages_slow_the_client_and_say_how_long(app):
    attacker, owner = page_client(app, ATTACKER), page_client(app, OWNER)
    with time_machine.travel(START, tick=False) as traveller:
        owner.login("admin1")
        assert owner.get("/processes/").status_code == 200
        for _ in range(5):
            assert attacker.login("admin1", "guess").status_code == 401
        refused = attacker.login("admin1")
        assert refused.status_code == 429 and "登录失败次数过多，请 1 分钟后再试" in refused.get_data(as_text=True)
        traveller.shift(30)
        assert "请 30 秒后再试" in attacker.login("admin1").get_data(as_text=True)
        assert owner.get("/processes/").status_code == 200  # still signed in
        owner.login("admin1")  # and can sign in again from their machine
        assert owner.get("/processes/").status_code == 200
        traveller.shift(31)
        assert attacker.login("admin1").request.path == "/inbox"  # the wait is over


def test_the_wait_is_told_in_english_on_english_pages(app):
    attacker = page_client(app, ATTACKER)
    page = attacker.get("/login").get_data(as_text=True)
    attacker.client.post("/lang", data={"lang": "en", "csrf_token": CSRF.search(page).group(1)})
    for _ in range(5):
        attacker.login("admin1", "guess")
    text = attacker.login("admin1").get_data(as_text=True)
    assert "too many failed sign-ins; try again in 1 minute" in text and "分钟" not in text


def test_an_unknown_account_is_slowed_the_same_way(client):
    """The throttle does not tell which usernames exist."""
    answers = {}
    for name in ("admin1", "nobody"):
        with time_machine.travel(START, tick=False):
            answers[name] = [(r.status_code, r.get_json()["message"])
                             for r in (token(client, name, "guess", ATTACKER) for _ in range(6))]
    assert answers["admin1"] == answers["nobody"]


def test_one_client_guessing_many_accounts_waits_for_all_of_them(client):
    with time_machine.travel(START, tick=False):
        for n in range(throttle.LIMITS[throttle.CLIENT]):
            assert token(client, f"user{n}", "guess", ATTACKER).status_code == 401
        assert token(client, "agent1", "demo", ATTACKER).status_code == 429
        assert token(client, "agent1", "demo", OWNER).status_code == 201


def test_signing_into_ones_own_account_does_not_clear_the_count_over_all_accounts(client):
    with time_machine.travel(START, tick=False):
        for n in range(throttle.LIMITS[throttle.CLIENT] - 1):
            token(client, f"user{n}", "guess", ATTACKER)
        assert token(client, "eng1", "demo", ATTACKER).status_code == 201  # the guesser's own account
        assert token(client, "user99", "guess", ATTACKER).status_code == 401
        assert token(client, "eng1", "demo", ATTACKER).status_code == 429


def test_a_success_forgets_that_accounts_failures(client):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            token(client, "agent1", "typo", OWNER)
        assert token(client, "agent1", "demo", OWNER).status_code == 201
        for _ in range(4):
            assert token(client, "agent1", "typo", OWNER).status_code == 401
        assert token(client, "agent1", "demo", OWNER).status_code == 201


def test_an_hour_without_failures_forgets_them(app, client):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(4):
            token(client, "agent1", "typo", ATTACKER)
        traveller.shift(timedelta(hours=1, seconds=1))
        for _ in range(4):
            assert token(client, "agent1", "typo", ATTACKER).status_code == 401
        traveller.shift(timedelta(hours=1, seconds=1))
        token(client, "agent1", "typo", OWNER)  # a failure elsewhere sweeps the rows nobody added to for an hour
        with app.app_context():
            assert {row.client for row in db.session.scalars(db.select(LoginThrottle))} == {OWNER}


def test_every_worker_sees_the_same_count(app, client):
    """The count is in the database: another gunicorn worker (another app on the same database) refuses too."""
    other = create_app({**app.config})
    try:
        with time_machine.travel(START, tick=False):
            for _ in range(5):
                token(client, "admin1", "guess", ATTACKER)
            assert token(other.test_client(), "admin1", "demo", ATTACKER).status_code == 429
    finally:
        with other.app_context():
            db.engine.dispose()


def test_the_portal_sign_in_is_throttled_too(app, client):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            page = client.get("/portal/login", environ_base={"REMOTE_ADDR": ATTACKER}).get_data(as_text=True)
            res = client.post("/portal/login", environ_base={"REMOTE_ADDR": ATTACKER}, data={
                "email": "someone@example.cn", "password": "guess", "csrf_token": CSRF.search(page).group(1)})
            assert res.status_code == 401
        page = client.get("/portal/login", environ_base={"REMOTE_ADDR": ATTACKER}).get_data(as_text=True)
        res = client.post("/portal/login", environ_base={"REMOTE_ADDR": ATTACKER}, data={
            "email": "someone@example.cn", "password": "guess", "csrf_token": CSRF.search(page).group(1)})
        assert res.status_code == 429 and "1 分钟" in res.get_data(as_text=True)


def test_behind_a_configured_proxy_the_forwarded_address_is_the_client(app):
    """With DESK_PROXY_HOPS every client counts as itself, not as the proxy."""
    proxied = create_app({**app.config, "DESK_PROXY_HOPS": 1})
    client = proxied.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    try:
        with time_machine.travel(START, tick=False):
            for _ in range(5):
                client.post("/api/tokens", json={"username": "admin1", "password": "guess"}, environ_base=proxy,
                            headers={"X-Forwarded-For": ATTACKER})
            answer = client.post("/api/tokens", json={"username": "admin1", "password": "demo"}, environ_base=proxy,
                                 headers={"X-Forwarded-For": OWNER})
            assert answer.status_code == 201
    finally:
        with proxied.app_context():
            db.engine.dispose()


def test_an_unknown_user_costs_as_much_as_a_wrong_password(app):
    """At full scrypt cost, a sign-in as nobody takes as long as a wrong password for a real user."""
    users.set_hash_cost(2**14)
    try:
        with app.app_context():
            users.add_user(db.session, "costly", "right", ["agent"])
            db.session.commit()

            def timed(username: str, n: int) -> float:
                started = time.perf_counter()
                try:
                    users.authenticate(db.session, username, "wrong", client=f"timing-{username}-{n}")
                except Forbidden:
                    pass
                return time.perf_counter() - started

            timed("nobody", -1)  # the first call makes the dummy hash at this cost
            pairs = [(timed("costly", n), timed("nobody", n)) for n in range(5)]  # interleaved: load hits both
            known, unknown = min(k for k, _ in pairs), min(u for _, u in pairs)
            db.session.rollback()
    finally:
        users.set_hash_cost(2**4)
    # the old dummy hash was made at 2**4 and cost a thousandth of a real check; a busy machine's noise stays
    # well inside a factor of four
    assert 0.25 < unknown / known < 4, (unknown, known)
