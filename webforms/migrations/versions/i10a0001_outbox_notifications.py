"""issue 10: outbox mail, mail templates, notification preferences, SLA escalation records

Revision ID: i10a0001
Revises: i14a0004
Create Date: 2026-12-02 16:50:00

"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = 'i10a0001'
down_revision = 'i14a0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('to_addr', sa.String(length=200), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('claimed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('sent_at', engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_outbox_mail_ticket_id_ticket'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mail')),
    )
    op.create_index('ix_outbox_mail_status_next', 'outbox_mail', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_outbox_mail_ticket_id'), 'outbox_mail', ['ticket_id'], unique=False)
    op.create_table(
        'mail_template',
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_by', sa.String(length=80), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('kind', name=op.f('pk_mail_template')),
    )
    op.create_table(
        'notification_preference',
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('in_app', sa.Boolean(), nullable=False),
        sa.Column('email', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('username', 'kind', name=op.f('pk_notification_preference')),
    )
    op.create_table(
        'sla_escalation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('clock', sa.String(length=30), nullable=False),
        sa.Column('level', sa.String(length=20), nullable=False),
        sa.Column('at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_sla_escalation_ticket_id_ticket'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_escalation')),
        sa.UniqueConstraint('ticket_id', 'clock', 'level', name=op.f('uq_sla_escalation_ticket_id')),
    )
    op.create_index(op.f('ix_sla_escalation_ticket_id'), 'sla_escalation', ['ticket_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_sla_escalation_ticket_id'), table_name='sla_escalation')
    op.drop_table('sla_escalation')
    op.drop_table('notification_preference')
    op.drop_table('mail_template')
    op.drop_index(op.f('ix_outbox_mail_ticket_id'), table_name='outbox_mail')
    op.drop_index('ix_outbox_mail_status_next', table_name='outbox_mail')
    op.drop_table('outbox_mail')
