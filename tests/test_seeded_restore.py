"""The PostgreSQL pass's fixture: each test starts from the seeded rows, whatever the test before it did."""

import pytest
from conftest import ON_POSTGRES, _restore_postgres
from sqlalchemy import func, select

from engine.desk import users
from engine.models import Role, User
from webforms.extensions import db

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the SQLite pass copies a seeded file instead")


def _state():
    """Every user and role as seeded, and the id the next user would get."""
    return (
        db.session.execute(select(User.id, User.username, User.password_hash).order_by(User.id)).all(),
        db.session.scalars(select(Role.code).order_by(Role.code)).all(),
        db.session.scalar(select(func.nextval("user_id_seq"))),
    )


def test_rows_and_ids_are_put_back_and_a_changed_schema_is_built_again(app, seeded_postgres):
    with app.app_context():
        seeded = _state()
        db.session.rollback()  # nextval is not undone: the restore must set the sequence back
        users.add_user(db.session, "visitor9", "secret-password", ["agent"], display_name="另一位")
        users.get_user(db.session, "owner1").password_hash = "changed"
        db.session.add(Role(code="night", name="夜班", name_en="Night shift"))
        db.session.commit()
        assert _state() != seeded
        db.session.remove()

    _restore_postgres(app, seeded_postgres)
    with app.app_context():
        assert _state() == seeded
        db.session.rollback()
        db.session.execute(db.text("ALTER TABLE role ADD COLUMN note TEXT"))
        db.session.commit()
        db.session.remove()

    _restore_postgres(app, seeded_postgres)  # the fingerprint differs: dropped, created and seeded again
    with app.app_context():
        columns = db.session.scalars(db.text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'role'")).all()
        assert "note" not in columns
        rebuilt = _state()  # seeded afresh: the same users, ids and roles; new salts in the hashes
        assert [(row.id, row.username) for row in rebuilt[0]] == [(row.id, row.username) for row in seeded[0]]
        assert rebuilt[1:] == seeded[1:]
        db.session.rollback()


def test_a_run_that_starts_on_an_empty_database_builds_it(app, seeded_postgres):
    """CI's database is empty when its first test starts; a bench may leave it so mid-run."""
    with app.app_context():
        db.drop_all()
        db.session.remove()

    fresh: dict = {}  # the first test of a run: nothing seeded yet
    _restore_postgres(app, fresh)
    with app.app_context():
        assert users.get_user(db.session, "owner1") is not None
        db.session.remove()
    assert fresh["fingerprint"] == seeded_postgres["fingerprint"]

    with app.app_context():
        db.drop_all()
        db.session.remove()
    _restore_postgres(app, seeded_postgres)  # mid-run: an empty schema's fingerprint is not the seeded one's
    with app.app_context():
        assert users.get_user(db.session, "owner1") is not None
        db.session.remove()
