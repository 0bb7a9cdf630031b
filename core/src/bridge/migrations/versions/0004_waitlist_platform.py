"""waitlists per channel platform: the waitlist table gains the platform column

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:40:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.drop_constraint('uq_waitlist', type_='unique')
        batch_op.create_unique_constraint('uq_waitlist_platform', ['platform', 'region', 'email'])


def downgrade() -> None:
    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.drop_constraint('uq_waitlist_platform', type_='unique')
        batch_op.create_unique_constraint('uq_waitlist', ['region', 'email'])
        batch_op.drop_column('platform')
