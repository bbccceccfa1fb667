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
