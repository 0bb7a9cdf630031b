"""events.item indexed: the order page (and the product page) read one item's journal entries
among all of a store's, which grow with every run

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:45:00
"""

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_item'), ['item'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_item'))
