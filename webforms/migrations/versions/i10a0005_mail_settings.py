"""issue 10: the SMTP server an admin enters on the outbox page

Revision ID: i10a0005
Revises: i10a0004
Create Date: 2026-12-02 18:40:00

"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'i10a0005'
down_revision = 'i10a0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mail_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host', sa.String(length=200), nullable=False),
        sa.Column('port', sa.Integer(), nullable=False),
        sa.Column('tls', sa.String(length=10), nullable=False),
        sa.Column('sender', sa.String(length=200), nullable=False),
        sa.Column('updated_by', sa.String(length=80), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_settings')),
    )


def downgrade():
    op.drop_table('mail_settings')
