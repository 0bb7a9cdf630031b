"""order_links.ecommerce_order_number (the store's order name, ``#1022``) and order_links.skus
(the order's seller SKUs): the order pages show and search them without reading ``data``; the
number an older bridge kept in ``data["number"]`` moves there

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:45:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('order_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ecommerce_order_number', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('skus', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_order_links_ecommerce_order_number'), ['ecommerce_order_number'],
                              unique=False)
    conn = op.get_bind()
    t = sa.table('order_links', sa.column('id', sa.Integer), sa.column('data', sa.JSON),
                 sa.column('ecommerce_order_number', sa.String))
    for row in conn.execute(sa.select(t.c.id, t.c.data)).all():
        number = (row.data or {}).get('number')
        if number:
            conn.execute(t.update().where(t.c.id == row.id).values(ecommerce_order_number=str(number)))


def downgrade() -> None:
    with op.batch_alter_table('order_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_links_ecommerce_order_number'))
        batch_op.drop_column('skus')
        batch_op.drop_column('ecommerce_order_number')
