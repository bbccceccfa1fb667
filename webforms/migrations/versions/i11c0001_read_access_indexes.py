"""audit_event (actor, ticket_id), ticket (pm_group): the tickets a person worked on and a project's, for issue 11's read access

Revision ID: i11c0001
Revises: i11b0001
Create Date: 2026-12-02 20:50:00

"""
from alembic import op

revision = 'i11c0001'
down_revision = 'i11b0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_audit_event_actor_ticket', 'audit_event', ['actor', 'ticket_id'])
    op.create_index('ix_ticket_pm_group', 'ticket', ['pm_group'])


def downgrade():
    op.drop_index('ix_ticket_pm_group', table_name='ticket')
    op.drop_index('ix_audit_event_actor_ticket', table_name='audit_event')
