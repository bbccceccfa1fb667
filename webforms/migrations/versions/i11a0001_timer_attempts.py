"""issue 11: process_instance.timer_attempts — firings started and not finished, so a killed worker cannot loop

Revision ID: i11a0001
Revises: i11c0001
Create Date: 2026-12-02 20:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'i11a0001'
down_revision = 'i11c0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('timer_attempts', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('timer_attempts')
