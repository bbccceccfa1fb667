"""reporting: history tickets without an instance, KPI indexes on the ticket's moments, calls, scorecards

Revision ID: i9a0001
Revises: i8a0001
Create Date: 2026-12-02 17:00:00

"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'i9a0001'
down_revision = 'i8a0001'
branch_labels = None
depends_on = None

MOMENTS = ('accepted_at', 'closed_at', 'handoff_at', 'resolved_at', 'callback_at')


def upgrade():
    with op.batch_alter_table('ticket') as batch:
        batch.alter_column('instance_id', existing_type=sa.Integer(), nullable=True)
    for column in MOMENTS:
        op.create_index(f'ix_ticket_{column}', 'ticket', [column])
    op.create_table(
        'call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.String(length=64), nullable=False),
        sa.Column('ring_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('answered_at', engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('agent', sa.String(length=80), nullable=False),
        sa.Column('caller', sa.String(length=60), nullable=False),
        sa.Column('imported_by', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call')),
        sa.UniqueConstraint('call_id', name=op.f('uq_call_call_id')),
    )
    op.create_index(op.f('ix_call_ring_at'), 'call', ['ring_at'])
    items = op.create_table(
        'scorecard_item',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('card', sa.String(length=30), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('name_en', sa.String(length=120), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('per_event', sa.Float(), nullable=False),
        sa.Column('per_events', sa.Integer(), nullable=False),
        sa.Column('cap', sa.Float(), nullable=False),
        sa.Column('source', sa.String(length=30), nullable=False),
        sa.Column('bonus', sa.Boolean(), nullable=False),
        sa.Column('rule', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_item')),
    )
    op.create_table(
        'scorecard_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.String(length=40), nullable=False),
        sa.Column('happened_on', sa.Date(), nullable=False),
        sa.Column('ticket', sa.String(length=32), nullable=True),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.Column('evidence', sa.Text(), nullable=False),
        sa.Column('entered_by', sa.String(length=80), nullable=False),
        sa.Column('entered_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['scorecard_item.id'], name=op.f('fk_scorecard_entry_item_id_scorecard_item'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_entry')),
    )
    op.create_index(op.f('ix_scorecard_entry_item_id'), 'scorecard_entry', ['item_id'])
    op.create_index(op.f('ix_scorecard_entry_happened_on'), 'scorecard_entry', ['happened_on'])
    # the seeds' items (001 §7.3, §7.4), as they stood when the table was made; admins edit them from here
    from engine.reporting.scorecards import DEFAULT_ITEMS

    keys = ('id', 'card', 'name', 'name_en', 'points', 'per_event', 'per_events', 'cap', 'source', 'bonus', 'rule')
    op.bulk_insert(items, [{**dict(zip(keys, row)), 'position': i} for i, row in enumerate(DEFAULT_ITEMS)])


def downgrade():
    op.drop_table('scorecard_entry')
    op.drop_table('scorecard_item')
    op.drop_table('call')
    for column in MOMENTS:
        op.drop_index(f'ix_ticket_{column}', 'ticket')
    with op.batch_alter_table('ticket') as batch:
        batch.alter_column('instance_id', existing_type=sa.Integer(), nullable=False)
