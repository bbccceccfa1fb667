"""issue 12: a back-line reader's tickets from indexes alone

task_candidate.ticket_id, so the tickets offered to a person or their group need no
join to human_task; (assignee, id), (pm_group, id) on ticket and (assignee, ticket_id)
on human_task in place of the single-column indexes, so the tickets they hold, their
project's and those of the tasks they held are read from the index, not from the rows.

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

# (old index, new index, table, its columns, the old one's columns)
WIDER = (
    ('ix_ticket_assignee', 'ix_ticket_assignee_id', 'ticket', ['assignee', 'id'], ['assignee']),
    ('ix_ticket_pm_group', 'ix_ticket_pm_group_id', 'ticket', ['pm_group', 'id'], ['pm_group']),
    ('ix_human_task_assignee', 'ix_human_task_assignee_ticket', 'human_task', ['assignee', 'ticket_id'], ['assignee']),
)


def upgrade():
    with op.batch_alter_table('task_candidate') as batch:
        batch.add_column(sa.Column('ticket_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_task_candidate_ticket_id_ticket'), 'ticket', ['ticket_id'], ['id'],
                                 ondelete='CASCADE')
    # the rows of open, unheld tasks only: as many as the open group work
    op.execute("UPDATE task_candidate SET ticket_id = (SELECT human_task.ticket_id FROM human_task "
               "WHERE human_task.id = task_candidate.task_id)")
    for old, new, table, columns, _ in WIDER:
        op.create_index(new, table, columns, unique=False)
        op.drop_index(old, table_name=table)


def downgrade():
    for old, new, table, _, columns in WIDER:
        op.create_index(old, table, columns, unique=False)
        op.drop_index(new, table_name=table)
    with op.batch_alter_table('task_candidate') as batch:
        batch.drop_constraint(batch.f('fk_task_candidate_ticket_id_ticket'), type_='foreignkey')
        batch.drop_column('ticket_id')
