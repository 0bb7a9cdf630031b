"""Claims in their own columns: taken before a write, never for a done item, taken over only
when stale or dead; the 0005 migration moves old claims out of user-facing fields."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import text
from sqlmodel import select

from bridge import db
from bridge.statuses import ListingStatus, OrderStatus
from bridge.sync import links
from bridge.tables import ListingLink, OrderLink, Organization, Store, utcnow
from tests.conftest import old_database


def _shop() -> int:
    with db.session() as s:
        org = Organization(name="Claims")
        s.add(org)
        s.flush()
        shop = Store(org_id=org.id, platform="x", kind="channel", remote_id="r", name="shop", currency="GBP")
        s.add(shop)
        s.flush()
        assert shop.id is not None
        return shop.id


def _order(shop: int, status: str, **kw: object) -> int:
    with db.session() as s:
        row = OrderLink(channel_store_id=shop, channel_order_id=f"o-{status}-{len(kw)}", status=status, **kw)
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def _get(row_id: int) -> OrderLink:
    with db.session() as s:
        row = s.get(OrderLink, row_id)
        assert row is not None
        return row


def test_claim_is_written_in_its_own_columns_and_released_with_the_outcome() -> None:
    shop = _shop()
    oid = _order(shop, OrderStatus.PENDING, message="not paid yet")
    assert links.claim(OrderLink, oid, claimable=(OrderStatus.PENDING,))
    row = _get(oid)
    assert row.status == OrderStatus.CREATING
    assert row.claimed_by == links.worker_id()
    assert row.claimed_until is not None
    assert row.message == "not paid yet"  # the user-facing message is left alone
    links.save(row, status=OrderStatus.CREATED)
    row = _get(oid)
    assert (row.claimed_by, row.claimed_until) == (None, None)


def test_a_done_item_is_never_claimed_again() -> None:
    shop = _shop()
    for status in (OrderStatus.CREATED, OrderStatus.CANCELLED, OrderStatus.SHIPPED, OrderStatus.RECORDED):
        oid = _order(shop, status)
        assert not links.claim(OrderLink, oid, claimable=(OrderStatus.PENDING, OrderStatus.HELD))
        assert _get(oid).status == status
    with db.session() as s:
        live = ListingLink(channel_store_id=shop, source_product_id="p1", remote_product_id="TP1",
                           status=ListingStatus.LIVE)
        s.add(live)
        s.flush()
        lid = live.id
    assert lid is not None
    assert not links.claim(ListingLink, lid, claimable=(ListingStatus.PENDING, ListingStatus.FAILED))


def test_a_fresh_claim_of_a_live_worker_holds_a_stale_or_dead_one_is_taken_over() -> None:
    shop = _shop()
    fresh = _order(shop, OrderStatus.CREATING, claimed_by=links.worker_id(),
                   claimed_until=utcnow() + timedelta(minutes=5))
    assert not links.claim(OrderLink, fresh, claimable=(OrderStatus.PENDING,))
    stale = _order(shop, OrderStatus.CREATING, claimed_by="elsewhere:1",
                   claimed_until=utcnow() - timedelta(seconds=1), message=None)
    assert links.claim(OrderLink, stale, claimable=(OrderStatus.PENDING,))
    assert _get(stale).claimed_by == links.worker_id()


def test_two_claims_of_one_row_one_wins() -> None:
    shop = _shop()
    oid = _order(shop, OrderStatus.PENDING)
    assert links.claim(OrderLink, oid, claimable=(OrderStatus.PENDING,))
    assert not links.claim(OrderLink, oid, claimable=(OrderStatus.PENDING,))


def test_migration_moves_old_claims_out_of_reasons_and_messages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, raw = old_database(tmp_path / "old.sqlite", "0004")
    with raw.begin() as conn:
        conn.execute(text("INSERT INTO organizations (id, name, created_at) VALUES (1, 'O', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO stores (id, org_id, platform, kind, remote_id, name, currency, status, "
                          "settings, details, options, connected_at, updated_at) VALUES (1, 1, 'x', 'channel', "
                          "'r', 's', 'GBP', 'active', '{}', '{}', '{}', '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO listing_links (channel_store_id, source_product_id, status, reasons, title, "
                          "updated_at) VALUES (1, 'p1', 'creating', '[\"host:42\"]', 't', '2026-01-01 10:00:00'), "
                          "(1, 'p2', 'held', '[\"attribute missing\"]', 't', '2026-01-01 10:00:00')"))
        conn.execute(text("INSERT INTO order_links (channel_store_id, channel_order_id, status, message, attempts, "
                          "data, created_at, updated_at) VALUES (1, 'o1', 'creating', 'host:43', 1, '{}', "
                          "'2026-01-01 10:00:00', '2026-01-01 10:00:00')"))
    raw.dispose()
    command.upgrade(db.alembic_config(url), "head")
    with db.session(url) as s:
        listing = {r.source_product_id: r for r in s.exec(select(ListingLink))}
        assert (listing["p1"].claimed_by, listing["p1"].reasons) == ("host:42", [])
        assert listing["p1"].claimed_until is not None
        assert listing["p2"].reasons == ["attribute missing"] and listing["p2"].claimed_by is None
        order = s.exec(select(OrderLink)).one()
        assert (order.claimed_by, order.message) == ("host:43", None)
