"""claims in their own columns: listing, order and refund links gain claimed_by and
claimed_until; a claim kept in ``listing_links.reasons`` or ``order_links.message`` /
``refund_records.message`` moves there

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 11:00:00
"""

from datetime import timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('listing_links', 'order_links', 'refund_records')
#: How long a claim lasted when it was judged by the row's updated_at (links.STALE_CLAIM then).
CLAIM = timedelta(minutes=5)
UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
            batch_op.add_column(sa.Column('claimed_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    conn = op.get_bind()
    listing = sa.table('listing_links', sa.column('id', sa.Integer), sa.column('status', sa.String),
                       sa.column('reasons', sa.JSON), sa.column('updated_at', UTC_DATETIME),
                       sa.column('claimed_by', sa.String), sa.column('claimed_until', UTC_DATETIME))
    for row in conn.execute(sa.select(listing.c.id, listing.c.reasons, listing.c.updated_at)
                            .where(listing.c.status == 'creating')).all():
        owner = (row.reasons or [None])[0]
        conn.execute(listing.update().where(listing.c.id == row.id).values(
            claimed_by=owner, claimed_until=row.updated_at + CLAIM if row.updated_at else None, reasons=[]))
    for name in ('order_links', 'refund_records'):
        t = sa.table(name, sa.column('id', sa.Integer), sa.column('status', sa.String),
                     sa.column('message', sa.String), sa.column('updated_at', UTC_DATETIME),
                     sa.column('claimed_by', sa.String), sa.column('claimed_until', UTC_DATETIME))
        for row in conn.execute(sa.select(t.c.id, t.c.message, t.c.updated_at).where(t.c.status == 'creating')).all():
            conn.execute(t.update().where(t.c.id == row.id).values(
                claimed_by=row.message, message=None,
                claimed_until=row.updated_at + CLAIM if row.updated_at else None))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('claimed_until')
            batch_op.drop_column('claimed_by')
