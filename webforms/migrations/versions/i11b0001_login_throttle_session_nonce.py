"""login throttle per client and account; a session nonce per user (issue 11)

The account-wide lock (failed_logins, last_failed_at, locked_until) let anyone lock an
account out; failures are now counted per client and account in login_throttle.
session_nonce ends a user's sessions at sign-out and at a new password; existing
users start with '' (sessions signed in before the upgrade end once).

Revision ID: i11b0001
Revises: i12a0002
Create Date: 2026-12-02 20:40:00

"""
from alembic import op
import sqlalchemy as sa

import engine.db


# revision identifiers, used by Alembic.
revision = 'i11b0001'
down_revision = 'i12a0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('scope', 'client', 'account', name=op.f('pk_login_throttle'))
    )
    op.create_index(op.f('ix_login_throttle_last_failed_at'), 'login_throttle', ['last_failed_at'], unique=False)
    op.add_column('user', sa.Column('session_nonce', sa.String(length=32), server_default='', nullable=False))
    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): a batch copy of "user" would
    # drop the old table with foreign keys on, cascading to the rows that point at it
    op.drop_column('user', 'locked_until')
    op.drop_column('user', 'last_failed_at')
    op.drop_column('user', 'failed_logins')


def downgrade():
    op.add_column('user', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.add_column('user', sa.Column('last_failed_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('user', sa.Column('locked_until', engine.db.UTCDateTime(timezone=True), nullable=True))
    op.drop_column('user', 'session_nonce')
    op.drop_index(op.f('ix_login_throttle_last_failed_at'), table_name='login_throttle')
    op.drop_table('login_throttle')
