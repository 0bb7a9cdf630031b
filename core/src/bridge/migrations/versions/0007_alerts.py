"""alert_recipients and alert_states: who an organization's alerts go to, and which conditions
were alerted (deduplication until a condition clears)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'alert_recipients',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('emails', sa.JSON(), nullable=False),
        sa.Column('webhook_url', sa.Text(), nullable=True),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id']),
        sa.PrimaryKeyConstraint('org_id'),
    )
    op.create_table(
        'alert_states',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('sent_to', sa.JSON(), nullable=False),
        sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('claimed_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('first_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('cleared_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'key', name='uq_alert_key'),
    )
    with op.batch_alter_table('alert_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_states_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_states_org_id'))
    op.drop_table('alert_states')
    op.drop_table('alert_recipients')
