"""ticket: the timestamps the desk's rules measure (responded, hand-off, returns, callback) and what a complaint is about

Revision ID: a1c0ffee0008
Revises: ed973cb0c6d0
Create Date: 2026-12-02 16:45:00

"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'a1c0ffee0008'
down_revision = 'ed973cb0c6d0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket') as batch:
        batch.add_column(sa.Column('responded_at', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('handoff_at', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('returned', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('callback_at', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('callback_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('complaint_about', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('ticket') as batch:
        for column in ('complaint_about', 'callback_attempts', 'callback_at', 'returned', 'handoff_at', 'responded_at'):
            batch.drop_column(column)
