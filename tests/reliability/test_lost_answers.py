"""Lost answers and lagging lookups create no duplicate, on every platform, for every write that
must happen once: the store's order create, TikTok's tracking push and listing create.

The platform does the work, then the answer is lost (connection reset, 502 or 503 in its place,
the 2xx cut short). bridge must not send the write again blindly: the order stays unconfirmed,
is looked up by the key bridge stored on it (after the store's lookup lag) and linked.
"""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from bridge import db
from bridge.models import Tracking
from bridge.sync.orders.apply import lookup_lag
from bridge.tables import OrderLink, Store, TrackingPushRecord
from tests.reliability.conftest import ECOMMERCE, Lossy
from tests.reliability.lost import LOSSES, WRITES

pytestmark = pytest.mark.slow


def _links() -> dict[str, OrderLink]:
    with db.session() as s:
        return {ln.channel_order_id: ln for ln in s.exec(select(OrderLink))}


def _lag(h: Lossy) -> float:
    with db.session() as s:
        store = s.get(Store, h.eco_store.id)
    return lookup_lag(type("C", (), {"pm": h.pm})(), store)  # type: ignore[arg-type]


def _listed(h: Lossy, products: int) -> list[str]:
    h.eco.seed_catalog(products, 1, seed=11)
    h.map_everything()
    h.sync("products")
    return [p["skus"][0]["seller_sku"] for p in h.tiktok_products()]


@pytest.mark.parametrize("platform", ECOMMERCE)
def test_a_lost_answer_to_an_order_create_makes_no_second_order(lossy, platform: str) -> None:
    h: Lossy = lossy(platform)
    skus = _listed(h, 2)
    orders = []
    for loss in LOSSES:
        o = h.tt.create_order(h.shop_remote, [(skus[0], 1)])
        orders.append(o)
        h.eco_loss.lose(WRITES[f"{platform}.order"], loss, count=2)  # a re-send would be lost too
        r = h.sync("orders")
        assert r.status in ("ok", "partial"), r
        assert len(h.store_orders_for(o)) == 1, f"{loss}: the store made the order once"
        link = _links()[o]
        assert link.status == "pending" and link.data.get("unconfirmed_at"), (loss, link)
        assert r.counts["unconfirmed"] >= 1
        assert h.eco_loss.left == 1, "the create was sent once, never again"
    time.sleep(_lag(h))
    h.eco_loss.lose(WRITES[f"{platform}.order"], "reset", count=0)
    h.sync("orders")
    for o in orders:
        assert len(h.store_orders_for(o)) == 1, o
        assert _links()[o].status == "created"
    h.sync("orders")
    assert sum(len(h.store_orders_for(o)) for o in orders) == len(orders)


@pytest.mark.parametrize("platform", ECOMMERCE)
def test_a_lagging_lookup_after_a_lost_answer_waits_instead_of_creating(lossy, platform: str) -> None:
    """The store's order search lags new orders: an immediate re-run must not create again."""
    lag = 1.0
    h: Lossy = lossy(platform, eco_options={"search_lag": lag})
    with db.session() as s:  # bridge told the lag it must wait out (the lookup_lag setting)
        row = s.get(Store, h.eco_store.id)
        row.settings = {**row.settings, "lookup_lag": lag + 0.5}
        s.add(row)
    skus = _listed(h, 1)
    o = h.tt.create_order(h.shop_remote, [(skus[0], 1)])
    h.eco_loss.lose(WRITES[f"{platform}.order"], "reset")
    h.sync("orders")
    for _ in range(3):  # re-runs at once, as a daemon or a user would: the search sees nothing yet
        r = h.sync("orders")
        assert len(h.store_orders_for(o)) == 1
        assert r.counts["unconfirmed"] == 1
    time.sleep(lag + 0.6)
    h.sync("orders")
    assert len(h.store_orders_for(o)) == 1 and _links()[o].status == "created"


def test_a_lost_answer_to_a_tracking_push_is_confirmed_not_held(lossy) -> None:
    h: Lossy = lossy("bigcommerce")
    skus = _listed(h, 1)
    orders = [h.tt.create_order(h.shop_remote, [(skus[0], 1)]) for _ in LOSSES]
    h.sync("orders")
    for n, (o, loss) in enumerate(zip(orders, LOSSES, strict=True)):
        h.eco.fulfill_order(h.store_orders_for(o)[0].remote_id,
                            Tracking(number=f"RM{n:03d}GB", carrier="Royal Mail"))
        h.tt_loss.lose(WRITES["tiktokshop.tracking"], loss)
        r = h.sync("tracking")
        assert r.status in ("ok", "partial")
        assert f"RM{n:03d}GB" in str(h.tt.order(o)), "TikTok has the number"
    r = h.sync("tracking")  # the next run confirms each by reading the order: no push, no hold
    with db.session() as s:
        records = list(s.exec(select(TrackingPushRecord)))
    assert len(records) == len(LOSSES) and {rec.status for rec in records} == {"pushed"}, records
    assert r.counts.get("failed", 0) == 0
    assert {ln.status for ln in _links().values()} == {"shipped"}


def test_a_lost_answer_to_a_listing_create_makes_no_second_product(lossy) -> None:
    h: Lossy = lossy("bigcommerce")
    h.eco.seed_catalog(len(LOSSES), 1, seed=12)
    h.map_everything()
    for loss in LOSSES:
        h.tt_loss.lose(WRITES["tiktokshop.listing"], loss)
        h.sync("products")
    h.sync("products")
    products = h.tiktok_products()
    seller_skus = [s["seller_sku"] for p in products for s in p["skus"]]
    assert len(products) == len(LOSSES) and len(seller_skus) == len(set(seller_skus))


def test_lost_answers_among_creates_in_flight_make_no_second_product(lossy) -> None:
    """Eight workers creating at once, three of their answers lost: each lost create is looked
    up (its claim kept), never sent again as a new product."""
    h: Lossy = lossy("bigcommerce")
    h.eco.seed_catalog(24, 1, seed=13)
    h.map_everything()
    h.set_options({"products": {"concurrency": 8}})
    h.tt.set_latency(20)  # the creates overlap
    h.tt_loss.lose(WRITES["tiktokshop.listing"], "reset", count=3)
    listable = h.sync("products").counts["plan.create"]  # the seeded catalog's listable products
    h.sync("products")
    assert h.tt_loss.lost == 3 and listable >= 20
    products = h.tiktok_products()
    seller_skus = [s["seller_sku"] for p in products for s in p["skus"]]
    assert len(products) == listable and len(seller_skus) == len(set(seller_skus))
