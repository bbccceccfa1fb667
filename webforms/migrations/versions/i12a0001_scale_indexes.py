"""issue 12: inbox and lists in SQL — task candidates, saved filters, list indexes, PostgreSQL trigram search

Revision ID: i12a0001
Revises: i15a0002
Create Date: 2026-12-02 16:40:00

"""
import sqlalchemy as sa
from alembic import op

import engine.db
from engine.models import POSTGRES_ONLY_DDL

revision = 'i12a0001'
down_revision = 'i15a0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'task_candidate',
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('code', sa.String(length=80), nullable=False),
        sa.Column('due_at', engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_task_candidate_task_id_human_task'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('task_id', 'kind', 'code', name=op.f('pk_task_candidate')),
    )
    op.create_index('ix_task_candidate_kind_code_due', 'task_candidate', ['kind', 'code', 'due_at', 'task_id'],
                    unique=False)
    op.create_table(
        'saved_filter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('page', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filter')),
        sa.UniqueConstraint('username', 'page', 'name', name=op.f('uq_saved_filter_username')),
    )
    op.create_index('ix_human_task_state_assignee_due', 'human_task', ['state', 'assignee', 'due_at'], unique=False)
    op.create_index('ix_notification_user_created', 'notification', ['username', 'created_at'], unique=False)
    op.create_index('ix_sla_clock_breached_ticket', 'sla_clock', ['breached', 'ticket_id'], unique=False)
    op.create_index('ix_ticket_assignee', 'ticket', ['assignee'], unique=False)
    # the candidates of the tasks open and unheld now, from the JSON lists on their rows
    bind = op.get_bind()
    human_task = sa.table('human_task', sa.column('id', sa.Integer), sa.column('state', sa.String),
                          sa.column('roles', sa.JSON), sa.column('candidate_users', sa.JSON),
                          sa.column('assignee', sa.String),
                          sa.column('due_at', engine.db.UTCDateTime(timezone=True)))
    candidate = sa.table('task_candidate', sa.column('task_id', sa.Integer), sa.column('kind', sa.String),
                         sa.column('code', sa.String), sa.column('due_at', engine.db.UTCDateTime(timezone=True)))
    rows = []
    for task_id, roles, users, due_at in bind.execute(
        sa.select(human_task.c.id, human_task.c.roles, human_task.c.candidate_users, human_task.c.due_at)
        .where(human_task.c.state == 'READY', human_task.c.assignee.is_(None))
    ):
        rows += [{'task_id': task_id, 'kind': 'role', 'code': c, 'due_at': due_at} for c in dict.fromkeys(roles or [])]
        rows += [{'task_id': task_id, 'kind': 'user', 'code': u, 'due_at': due_at} for u in dict.fromkeys(users or [])]
    if rows:
        op.bulk_insert(candidate, rows)
    if bind.dialect.name == 'postgresql':
        for statement in POSTGRES_ONLY_DDL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_ticket_number_prefix')
        op.execute('DROP INDEX IF EXISTS ix_ticket_search_trgm')
    op.drop_index('ix_ticket_assignee', table_name='ticket')
    op.drop_index('ix_sla_clock_breached_ticket', table_name='sla_clock')
    op.drop_index('ix_notification_user_created', table_name='notification')
    op.drop_index('ix_human_task_state_assignee_due', table_name='human_task')
    op.drop_table('saved_filter')
    op.drop_index('ix_task_candidate_kind_code_due', table_name='task_candidate')
    op.drop_table('task_candidate')
