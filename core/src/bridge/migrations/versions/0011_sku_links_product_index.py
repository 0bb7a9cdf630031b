"""sku_links indexed by (shop, product, last price, last quantity): the products list shows and
sorts by each product's price and stock as last sent, summed from the index alone, without a
scan of every SKU of the shop per page

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:55:00
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sku_links', schema=None) as batch_op:
        batch_op.create_index('ix_sku_links_product_sent',
                              ['channel_store_id', 'source_product_id', 'last_price', 'last_quantity'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sku_links', schema=None) as batch_op:
        batch_op.drop_index('ix_sku_links_product_sent')
