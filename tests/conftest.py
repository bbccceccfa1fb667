"""Fixtures: ``app`` (a fresh database per test: roles, demo users, bundled processes
deployed), ``client``, ``runner``, ``db_session`` and ``api`` (JSON calls as a user).

SQLite (the default): the seeded database is built once per run and copied for
each test. PostgreSQL (``DATABASE_URL=postgresql+psycopg://…``): the schema is built
and seeded once per run, and each test starts from the seeded rows put back
(``_restore_postgres``); a test that changed the schema makes the next one build it afresh.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.authoring import versions
from engine.desk import users
from webforms import create_app
from webforms.cli import read_bundle
from webforms.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgresql")

# the CLI commands and servers the tests start build their app from the environment: a key of
# their own, so no test reads or writes the checkout's instance/secret_key
os.environ.setdefault("SECRET_KEY", "test")
users.set_hash_cost(2**4)  # scrypt at full cost makes every fixture slow; the algorithm is the same


def bundle() -> dict[str, bytes]:
    return read_bundle([str(ROOT / "bpmn"), str(ROOT / "rules")])


def seed() -> None:
    """Roles, demo users and the bundled processes, in the current app's database."""
    db.create_all()
    users.add_demo_users(db.session)
    versions.deploy(db.session, bundle(), user="tests", note="bundled")
    db.session.commit()


def _config(uri: str) -> dict:
    # tests travel months ahead with the tokens they fetched first; tests/api/test_tokens.py sets the desk's 30 days
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": True,
            "DESK_API_TOKEN_DAYS": 3650}


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "seed.sqlite"
    app = create_app(_config(f"sqlite:///{path}"))
    with app.app_context():
        seed()
        db.session.remove()
        db.engine.dispose()
    return path


# The public schema's tables, columns, indexes, constraints and triggers, as one string: equal
# to the one taken after seeding unless a test changed the schema (a bench rebuilds it, say).
# Never NULL, an empty schema included; PostgreSQL's own foreign-key triggers are left out,
# as their names hold oids that change with every build.
_SCHEMA_FINGERPRINT = """
SELECT (SELECT count(*) || ':' || coalesce(sum(hashtext(concat_ws(':', c.relname, c.relkind, a.attname, a.atttypid, a.attnotnull))), 0)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = 'public')
 || ' ' || (SELECT count(*) || ':' || coalesce(sum(hashtext(concat_ws(':', k.conname, k.contype))), 0)
              FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = 'public')
 || ' ' || (SELECT count(*) || ':' || coalesce(sum(hashtext(t.tgname::text)), 0)
              FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND NOT t.tgisinternal)
"""


@pytest.fixture(scope="session")
def seeded_postgres() -> dict:
    """What ``_restore_postgres`` puts back, filled by its first call: the schema's fingerprint, rows, sequences."""
    return {}


def _restore_postgres(app, seeded: dict) -> None:
    """The database as ``seed()`` left it, for one test.

    Dropping, creating and seeding the schema took ~0.6–1 s a test, most of the
    PostgreSQL pass. The seed is a few dozen rows: deleting every table's rows and
    inserting those again, with each sequence where seeding left it, gives the next
    test the same rows and the same ids in ~50 ms. The schema is built again when its
    fingerprint differs from the seeded one's.
    """
    with app.app_context():
        with db.engine.begin() as conn:
            # an empty dict: nothing seeded yet this run, whatever the database holds
            if seeded and conn.exec_driver_sql(_SCHEMA_FINGERPRINT).scalar() == seeded["fingerprint"]:
                tables = db.metadata.sorted_tables
                conn.exec_driver_sql("; ".join(f'DELETE FROM "{table.name}"' for table in reversed(tables)))
                for table in tables:
                    if seeded["rows"][table.name]:
                        conn.execute(table.insert(), seeded["rows"][table.name])
                if seeded["sequences"]:
                    conn.exec_driver_sql("SELECT " + ", ".join(
                        f"setval('{name}', {last or 1}, {'false' if last is None else 'true'})"
                        for name, last in seeded["sequences"]))
                return
        db.drop_all()
        seed()
        conn = db.session.connection()
        seeded["rows"] = {table.name: [row._asdict() for row in conn.execute(select(table))]
                          for table in db.metadata.sorted_tables}
        seeded["sequences"] = conn.exec_driver_sql(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value"
            " FROM pg_sequences WHERE schemaname = 'public'").all()
        seeded["fingerprint"] = conn.exec_driver_sql(_SCHEMA_FINGERPRINT).scalar()
        db.session.commit()
        db.session.remove()


@pytest.fixture
def app(request, tmp_path):
    if ON_POSTGRES:
        app = create_app(_config(DATABASE_URL))
        _restore_postgres(app, request.getfixturevalue("seeded_postgres"))
    else:
        path = tmp_path / "desk.sqlite"
        shutil.copy(request.getfixturevalue("seeded_sqlite"), path)
        app = create_app(_config(f"sqlite:///{path}"))
    app.config["DESK_ATTACHMENTS_DIR"] = str(tmp_path / "attachments")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db_session(app):
    with app.app_context():
        yield db.session


class Api:
    """JSON calls to /api as a named demo user (a bearer token per user, fetched once)."""

    def __init__(self, client) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            res = self.client.post("/api/tokens", json={"username": username, "password": "demo"})
            assert res.status_code == 201, res.get_json()
            self.tokens[username] = res.get_json()["token"]
        return self.tokens[username]

    def _headers(self, username: str) -> dict:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def get(self, username: str, path: str, **kwargs):
        return self.client.get(path, headers=self._headers(username), **kwargs)

    def post(self, username: str, path: str, json=None, **kwargs):
        return self.client.post(path, headers=self._headers(username), json=json, **kwargs)

    # the desk's usual moves, each asserting success
    def new_ticket(self, username: str = "agent1", **fields) -> dict:
        data = {
            "type": "incident", "channel": "phone", "title": "核心交换机端口故障",
            "description": "三楼机房核心交换机 Gi0/1 端口频繁 down", "reporter_name": "王工",
            "organisation": "市人民医院信息科", "phone": "13800000000", "email": "wang@example.cn",
            "occurred_at": "2026-11-23T08:30:00+08:00",
        }  # fmt: skip
        data.update(fields)
        res = self.post(username, "/api/tickets", json=data)
        assert res.status_code == 201, res.get_json()
        return res.get_json()

    def task(self, username: str, number: str, bpmn_id: str) -> dict:
        res = self.get(username, f"/api/tasks?scope=group&ticket={number}")
        assert res.status_code == 200, res.get_json()
        found = [t for t in res.get_json()["items"] if t["bpmn_id"] == bpmn_id]
        assert found, f"{username} sees no {bpmn_id} on {number}: {res.get_json()['items']}"
        return found[0]

    def complete(self, username: str, number: str, bpmn_id: str, **data) -> dict:
        task = self.task(username, number, bpmn_id)
        res = self.post(username, f"/api/tasks/{task['id']}/complete", json={"data": data})
        assert res.status_code == 200, res.get_json()
        return res.get_json()

    def confirm(self, number: str) -> None:
        """After a back-line fix: the project's PM confirms it is done, then the desk (001 §六 4)."""
        pm = {"pm_infra": "pm1", "pm_app": "pm2"}[self.ticket(number)["pm_group"]]
        self.complete(pm, number, "pm_confirm", pm_confirmed="confirmed")
        self.complete("agent1", number, "desk_confirm", desk_confirmed="confirmed")

    def dispatch(self, number: str, engineer: str = "eng1") -> None:
        """Send a registered ticket through pm1's project to ``engineer``, who may then read it (issue 11)."""
        self.complete("agent1", number, "classify", category="network", impact="medium", urgency="medium")
        self.complete("agent1", number, "online_fix", outcome="dispatch", solution="远程排查无果")
        self.complete("pm1", number, "pm_assign", engineer=engineer)

    def ticket(self, number: str, username: str = "lead1") -> dict:
        res = self.get(username, f"/api/tickets/{number}")
        assert res.status_code == 200, res.get_json()
        return res.get_json()


@pytest.fixture
def api(client) -> Api:
    return Api(client)
