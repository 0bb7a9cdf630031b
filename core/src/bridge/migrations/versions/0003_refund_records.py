"""refund records: returns, refunds and line cancellations

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'refund_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel_store_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('remote_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('channel_order_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('ecommerce_order_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('channel_status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('result_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('amount', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('restocked', sa.Boolean(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['channel_store_id'], ['stores.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel_store_id', 'kind', 'remote_id', name='uq_refund'),
    )
    with op.batch_alter_table('refund_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_records_channel_store_id'), ['channel_store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refund_records_channel_order_id'), ['channel_order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('refund_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refund_records_channel_order_id'))
        batch_op.drop_index(batch_op.f('ix_refund_records_channel_store_id'))
    op.drop_table('refund_records')
