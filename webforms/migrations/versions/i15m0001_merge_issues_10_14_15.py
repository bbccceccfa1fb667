"""merge the heads of issues 10 (outbox), 14 (notes, customers) and 15 (channels)

Revision ID: i15m0001
Revises: i10a0001, i14a0001, i15a0001
Create Date: 2026-12-02 16:40:00

"""

revision = 'i15m0001'
down_revision = ('i10a0001', 'i14a0001', 'i15a0001')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
