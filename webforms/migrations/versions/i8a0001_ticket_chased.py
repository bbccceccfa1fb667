"""ticket.chased: chase calls (催单) added to an open ticket instead of a duplicate

Revision ID: i8a0001
Revises: a1c0ffee0008
Create Date: 2026-12-02 17:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'i8a0001'
down_revision = 'a1c0ffee0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket') as batch:
        batch.add_column(sa.Column('chased', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('ticket') as batch:
        batch.drop_column('chased')
