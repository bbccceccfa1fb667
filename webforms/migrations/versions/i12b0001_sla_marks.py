"""issue 12: SLA events in SQL (process_instance.flow_timer_at, sla_clock.raises_on_breach); the lead's list by ticket columns (ticket.sla_due_at, partial indexes on open tickets)

Revision ID: i12b0001
Revises: i11a0001
Create Date: 2026-12-02 20:50:00

Running instances get ``flow_timer_at = next_timer_at``: their next wake takes the
full step once, which stores the real value. Clocks start as "not known" (NULL),
so a breach takes the full step until the ticket is projected again. Open tickets
get ``sla_due_at`` from their running clocks.
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'i12b0001'
down_revision = 'i11a0001'
branch_labels = None
depends_on = None

OPEN_SORT_COLUMNS = ('priority', 'sla_due_at', 'accepted_at', 'number')


def upgrade():
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('flow_timer_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('sla_clock') as batch:
        batch.add_column(sa.Column('raises_on_breach', sa.Boolean(), nullable=True))
    op.execute("UPDATE process_instance SET flow_timer_at = next_timer_at WHERE status = 'running'")
    with op.batch_alter_table('ticket') as batch:
        batch.add_column(sa.Column('sla_due_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE ticket SET sla_due_at = (SELECT min(c.due_at) FROM sla_clock c WHERE c.ticket_id = ticket.id "
               "AND c.stopped_at IS NULL) WHERE status <> 'closed'")
    for column in OPEN_SORT_COLUMNS:
        op.create_index(f'ix_ticket_open_{column}', 'ticket', [column, 'id'],
                        postgresql_where=sa.text("status <> 'closed'"), sqlite_where=sa.text("status <> 'closed'"))


def downgrade():
    for column in OPEN_SORT_COLUMNS:
        op.drop_index(f'ix_ticket_open_{column}', table_name='ticket')
    with op.batch_alter_table('ticket') as batch:
        batch.drop_column('sla_due_at')
    with op.batch_alter_table('sla_clock') as batch:
        batch.drop_column('raises_on_breach')
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('flow_timer_at')
