"""The Alembic migrations build exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import ON_POSTGRES

from engine.db import Base
from webforms import create_app
from webforms.cli import upgrade_database
from webforms.extensions import db


@pytest.mark.skipif(ON_POSTGRES, reason="builds its own SQLite database")
def test_migrations_match_the_models(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}", "TESTING": True})
    with app.app_context():
        upgrade_database()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        db.engine.dispose()
    assert diff == []


@pytest.mark.skipif(ON_POSTGRES, reason="builds its own SQLite database")
def test_tokens_issued_before_expiry_existed_get_thirty_days_from_the_upgrade(tmp_path):
    from datetime import datetime, timedelta, timezone
    from pathlib import Path

    import time_machine
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    import webforms

    directory = str(Path(webforms.__file__).parent / "migrations")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}", "TESTING": True})
    at = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)
    with app.app_context():
        upgrade(directory=directory, revision="i12d0001")
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO user (username, display_name, email, password_hash, active, created_at, "
                                    "session_nonce) VALUES ('old', 'old', '', 'x', 1, '2025-01-01 00:00:00', 'n')"))
            connection.execute(text("INSERT INTO api_token (user_id, token_hash, created_at) "
                                    "SELECT id, 'h', '2025-01-01 00:00:00' FROM user WHERE username = 'old'"))
        with time_machine.travel(at, tick=False):
            upgrade(directory=directory)
        with db.engine.connect() as connection:
            expires = connection.execute(text("SELECT expires_at FROM api_token")).scalar_one()
        assert datetime.fromisoformat(str(expires)).replace(tzinfo=timezone.utc) == at + timedelta(days=30)
        downgrade(directory=directory, revision="i12d0001")
        upgrade(directory=directory)
        db.engine.dispose()
