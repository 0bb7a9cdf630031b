"""Migration 0009: the store order number an older bridge kept in ``order_links.data`` moves to
its own column (the orders list shows and searches it)."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import select

from bridge import db
from bridge.tables import OrderLink
from tests.conftest import old_database


def test_the_kept_store_order_number_moves_to_its_column(tmp_path):
    url, raw = old_database(tmp_path / "old.sqlite", "0008")
    with raw.begin() as conn:
        conn.execute(text("INSERT INTO organizations (name, created_at) VALUES ('Acme', '2025-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO stores (org_id, platform, kind, remote_id, name, currency, status, settings, "
                          "details, options, connected_at, updated_at) VALUES (1, 'fakechannel', 'channel', 's', "
                          "'Shop', 'GBP', 'active', '{}', '{}', '{}', '2025-01-01', '2025-01-01')"))
        for n, (eco, data) in enumerate([("gid://shopify/Order/9", '{"number": "#1022", "packages": []}'),
                                         (None, '{}')]):
            conn.execute(text("INSERT INTO order_links (channel_store_id, channel_order_id, ecommerce_order_id, "
                              "status, attempts, data, created_at, updated_at) VALUES (1, :tt, :eco, 'created', "
                              "1, :data, '2025-01-01', '2025-01-01')"), {"tt": f"TT{n}", "eco": eco, "data": data})
    raw.dispose()
    with db.session(url) as s:
        rows = {r.channel_order_id: r for r in s.exec(select(OrderLink))}
    assert rows["TT0"].ecommerce_order_number == "#1022" and rows["TT0"].skus == ""
    assert rows["TT1"].ecommerce_order_number is None
