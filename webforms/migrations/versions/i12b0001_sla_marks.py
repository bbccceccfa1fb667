"""issue 12: SLA events in SQL — process_instance.flow_timer_at, sla_clock.raises_on_breach

Revision ID: i12b0001
Revises: i12a0002
Create Date: 2026-12-02 20:50:00

Running instances get ``flow_timer_at = next_timer_at``: their next wake takes the
full step once, which stores the real value. Clocks start as "not known" (NULL),
so a breach takes the full step until the ticket is projected again.
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'i12b0001'
down_revision = 'i12a0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('flow_timer_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('sla_clock') as batch:
        batch.add_column(sa.Column('raises_on_breach', sa.Boolean(), nullable=True))
    op.execute("UPDATE process_instance SET flow_timer_at = next_timer_at WHERE status = 'running'")


def downgrade():
    with op.batch_alter_table('sla_clock') as batch:
        batch.drop_column('raises_on_breach')
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('flow_timer_at')
