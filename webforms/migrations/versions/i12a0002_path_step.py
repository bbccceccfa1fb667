"""issue 12: path_step — the finished steps cut off a looping instance's workflow state

Revision ID: i12a0002
Revises: i12a0001
Create Date: 2026-12-02 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'i12a0002'
down_revision = 'i12a0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'path_step',
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('process', sa.String(length=120), nullable=False),
        sa.Column('element', sa.String(length=120), nullable=False),
        sa.Column('came_from', sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_path_step_instance_id_process_instance'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('instance_id', 'process', 'element', 'came_from', name=op.f('pk_path_step')),
    )


def downgrade():
    op.drop_table('path_step')
