"""issue 12: open tasks by ticket (partial index on READY human_task rows) for the lead's sorted list

Revision ID: i12c0001
Revises: i12b0001
Create Date: 2026-12-03 03:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'i12c0001'
down_revision = 'i12b0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_human_task_ready_ticket', 'human_task', ['ticket_id'],
                    postgresql_where=sa.text("state = 'READY'"), sqlite_where=sa.text("state = 'READY'"))


def downgrade():
    op.drop_index('ix_human_task_ready_ticket', table_name='human_task')
