"""API tokens expire: api_token.expires_at

Before, a token worked for ever. Tokens issued before this revision get 30 days
from the upgrade (the default life of a new one), so no script stops at once.

Revision ID: i12e0001
Revises: i12d0001
Create Date: 2026-12-03 18:30:00
"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'i12e0001'
down_revision = 'i12d0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token') as batch:
        batch.add_column(sa.Column('expires_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    token = sa.table('api_token', sa.column('expires_at', engine.db.UTCDateTime(timezone=True)))
    op.execute(token.update().values(expires_at=datetime.now(timezone.utc) + timedelta(days=30)))
    with op.batch_alter_table('api_token') as batch:
        batch.alter_column('expires_at', existing_type=engine.db.UTCDateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('api_token') as batch:
        batch.drop_column('expires_at')
