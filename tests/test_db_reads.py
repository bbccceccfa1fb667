"""A PostgreSQL transaction that only read ends with COMMIT, so psycopg keeps its prepared statements (issue 12).

psycopg drops every prepared statement of a connection on each ROLLBACK; a request that
only read used to end that way, and no statement of the desk stayed prepared.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from conftest import ON_POSTGRES
from engine.db import reads_only
from engine.models import Role
from webforms.extensions import db


def test_only_select_show_and_a_plain_explain_count_as_reads():
    for statement in ("SELECT 1", "  select id FROM ticket FOR UPDATE", "(SELECT 1) UNION (SELECT 2)", "SHOW jit",
                      "EXPLAIN (FORMAT JSON) SELECT 1", "SELECT set_config('jit', 'off', true)"):
        assert reads_only(statement), statement
    for statement in ("UPDATE ticket SET title = ''", "INSERT INTO role VALUES ('x')", "DELETE FROM role",
                      "WITH gone AS (DELETE FROM role RETURNING code) SELECT * FROM gone", "SAVEPOINT sa_1",
                      "EXPLAIN ANALYZE DELETE FROM role", "LOCK TABLE role", ""):
        assert not reads_only(statement), statement


def _prepared(connection) -> int:
    return connection.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar()


@pytest.mark.skipif(not ON_POSTGRES, reason="psycopg's prepared statements: PostgreSQL")
def test_requests_that_only_read_keep_the_connections_prepared_statements(app, api):
    number = api.new_ticket()["number"]
    for _ in range(8):  # psycopg prepares a statement on its fifth run on a connection
        assert api.get("agent1", f"/api/tasks?scope=group&ticket={number}").status_code == 200
        assert api.get("agent1", f"/api/tickets/{number}").status_code == 200
    with app.app_context():
        pooled = db.engine.pool.checkedin()  # the requests' connections (a ticket number takes one of its own)
        connections = [db.engine.connect() for _ in range(pooled)]
        try:  # on the old code none: each GET's rollback deallocated them all
            assert all(_prepared(connection) >= 2 for connection in connections), [_prepared(c) for c in connections]
        finally:
            for connection in connections:
                connection.close()


@pytest.mark.skipif(not ON_POSTGRES, reason="the COMMIT of reads is PostgreSQL's")
def test_a_transaction_that_wrote_or_failed_still_rolls_back(app):
    with app.app_context():
        db.session.add(Role(code="temp", name="临时", name_en="temporary"))
        db.session.flush()
        db.session.remove()  # closed without a commit: rolled back
        assert db.session.scalar(select(func.count()).select_from(Role).where(Role.code == "temp")) == 0
        db.session.execute(text("UPDATE role SET name = 'x' WHERE code = 'agent'"))  # Core, no flush
        db.session.rollback()
        assert db.session.scalar(select(Role.name).where(Role.code == "agent")) != "x"
        db.session.execute(text("SELECT set_config('enable_hashjoin', 'off', true)"))  # reads: ends by COMMIT
        db.session.remove()
        assert db.session.execute(text("SHOW enable_hashjoin")).scalar() == "on"  # SET LOCAL ended with it
        with pytest.raises(Exception, match="division by zero"):
            db.session.execute(text("SELECT 1 / 0"))
        db.session.rollback()  # a failed transaction of reads rolls back
        assert db.session.execute(text("SELECT 2")).scalar() == 2
