"""issue 10: the admins' calendar: working hours per season, extra closed/working days

Revision ID: i10a0002
Revises: i10a0001
Create Date: 2026-12-02 17:40:00

"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'i10a0002'
down_revision = 'i10a0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'working_hours',
        sa.Column('calendar', sa.String(length=20), nullable=False),
        sa.Column('opens', sa.String(length=5), nullable=False),
        sa.Column('summer_closes', sa.String(length=5), nullable=False),
        sa.Column('winter_closes', sa.String(length=5), nullable=False),
        sa.Column('summer_start', sa.String(length=5), nullable=False),
        sa.Column('summer_end', sa.String(length=5), nullable=False),
        sa.Column('updated_by', sa.String(length=80), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('calendar', name=op.f('pk_working_hours')),
    )
    op.create_table(
        'calendar_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('working', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=120), nullable=False),
        sa.Column('updated_by', sa.String(length=80), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_day')),
    )


def downgrade():
    op.drop_table('calendar_day')
    op.drop_table('working_hours')
