"""issue 10: the duty roster (shifts, assignments, swaps) and who was on duty when a ticket came in

Revision ID: i10a0004
Revises: i10a0003
Create Date: 2026-12-02 18:20:00

"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'i10a0004'
down_revision = 'i10a0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'duty_shift',
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('starts', sa.String(length=5), nullable=False),
        sa.Column('ends', sa.String(length=5), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_duty_shift')),
    )
    op.create_table(
        'duty_assignment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('shift_code', sa.String(length=20), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('rostered', sa.String(length=80), nullable=True),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['shift_code'], ['duty_shift.code'], name=op.f('fk_duty_assignment_shift_code_duty_shift'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_assignment')),
        sa.UniqueConstraint('day', 'shift_code', 'username', name=op.f('uq_duty_assignment_day')),
    )
    op.create_index(op.f('ix_duty_assignment_day'), 'duty_assignment', ['day'], unique=False)
    op.create_table(
        'duty_swap',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('from_user', sa.String(length=80), nullable=False),
        sa.Column('to_user', sa.String(length=80), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requested_by', sa.String(length=80), nullable=False),
        sa.Column('requested_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.String(length=80), nullable=True),
        sa.Column('decided_at', engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['assignment_id'], ['duty_assignment.id'],
                                name=op.f('fk_duty_swap_assignment_id_duty_assignment'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_swap')),
    )
    op.create_index(op.f('ix_duty_swap_assignment_id'), 'duty_swap', ['assignment_id'], unique=False)
    with op.batch_alter_table('ticket') as batch:
        batch.add_column(sa.Column('on_duty', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('ticket') as batch:
        batch.drop_column('on_duty')
    op.drop_index(op.f('ix_duty_swap_assignment_id'), table_name='duty_swap')
    op.drop_table('duty_swap')
    op.drop_index(op.f('ix_duty_assignment_day'), table_name='duty_assignment')
    op.drop_table('duty_assignment')
    op.drop_table('duty_shift')
