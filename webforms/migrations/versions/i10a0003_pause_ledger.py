"""issue 10: the pause ledger, which clocks a pause stops, paused seconds per SLA clock

Revision ID: i10a0003
Revises: i10a0002
Create Date: 2026-12-02 18:00:00

"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'i10a0003'
down_revision = 'i10a0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ticket_pause',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=120), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('started_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_by', sa.String(length=80), nullable=False),
        sa.Column('ended_at', engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('ended_by', sa.String(length=80), nullable=True),
        sa.Column('clocks', sa.JSON(), nullable=False),
        sa.Column('paused_minutes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_pause_ticket_id_ticket'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_pause')),
    )
    op.create_index(op.f('ix_ticket_pause_ticket_id'), 'ticket_pause', ['ticket_id'], unique=False)
    op.create_table(
        'sla_pause_rule',
        sa.Column('clock', sa.String(length=30), nullable=False),
        sa.Column('stops', sa.Boolean(), nullable=False),
        sa.Column('updated_by', sa.String(length=80), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('clock', name=op.f('pk_sla_pause_rule')),
    )
    with op.batch_alter_table('sla_clock') as batch:
        batch.add_column(sa.Column('paused_seconds', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('sla_clock') as batch:
        batch.drop_column('paused_seconds')
    op.drop_table('sla_pause_rule')
    op.drop_index(op.f('ix_ticket_pause_ticket_id'), table_name='ticket_pause')
    op.drop_table('ticket_pause')
