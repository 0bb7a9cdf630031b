"""product_mappings: per-product overrides of the listing's title, description, price and images

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('product_mappings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('description_html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('price', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('images', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('product_mappings', schema=None) as batch_op:
        batch_op.drop_column('images')
        batch_op.drop_column('price')
        batch_op.drop_column('description_html')
        batch_op.drop_column('title')
