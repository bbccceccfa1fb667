"""issue 12: task_candidate.ticket_id, so a back-line reader's offered tickets need no join to human_task

Revision ID: i12d0001
Revises: i12c0001
Create Date: 2026-12-03 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'i12d0001'
down_revision = 'i12c0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('task_candidate') as batch:
        batch.add_column(sa.Column('ticket_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_task_candidate_ticket_id_ticket'), 'ticket', ['ticket_id'], ['id'],
                                 ondelete='CASCADE')
    # the rows of open, unheld tasks only: as many as the open group work
    op.execute("UPDATE task_candidate SET ticket_id = (SELECT human_task.ticket_id FROM human_task "
               "WHERE human_task.id = task_candidate.task_id)")


def downgrade():
    with op.batch_alter_table('task_candidate') as batch:
        batch.drop_constraint(batch.f('fk_task_candidate_ticket_id_ticket'), type_='foreignkey')
        batch.drop_column('ticket_id')
