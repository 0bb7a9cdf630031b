"""Orders as the orders flow keeps them, for the order page's tests (TestClient and browser):
a created order with both sides' lines, two packages (one tracked), a return and journal
entries, and a held order."""

from __future__ import annotations

from decimal import Decimal

from bridge import db, journal, stores
from bridge.models import CreatedOrder, Money, Order, OrderDraft, OrderLine
from bridge.sync.orders.apply import _link_data, _skus, _store_data
from bridge.tables import Job, OrderLink, RefundRecord, Store, TrackingPushRecord
from tests.web.conftest import make_store, make_user

GID = "gid://shopify/Order/5551022"


class Shop:
    def __init__(self, eco: Store, shop: Store, created: int, held: int) -> None:
        self.eco, self.shop, self.created, self.held = eco, shop, created, held


def _line(sku: str, price: str, n: int = 1, cancelled: int = 0) -> OrderLine:
    return OrderLine(remote_id=f"{sku}-{n}", sku=sku, variant_id=f"tt-{sku}", title=f"Tee {sku}", quantity=n,
                     unit_price=Money(amount=Decimal(price), currency="GBP"), cancelled_quantity=cancelled)


def _order(oid: str, lines: list[OrderLine]) -> Order:
    gbp = lambda v: Money(amount=Decimal(v), currency="GBP")  # noqa: E731
    return Order(remote_id=oid, status="awaiting_shipment", currency="GBP", lines=lines, subtotal=gbp("30.00"),
                 shipping=gbp("3.50"), tax=gbp("0"), total=gbp("33.50"), package_ids=["PKG-1", "PKG-2"])


def seed() -> Shop:
    """A created order (two TikTok units of one SKU, one of another; two packages, one tracked;
    a return; journal entries) and a held order, as the orders flow keeps them."""
    org = stores.create_org("Acme")
    eco = make_store(org.id, "fakeshop", "ecommerce", "eco", "Acme Store")  # type: ignore[arg-type]
    shop = make_store(org.id, "fakechannel", "channel", "shop", "Acme TikTok")  # type: ignore[arg-type]
    make_user("ann@acme.test", ["Acme"])
    order = _order("TT-1001", [_line("SKU-A", "10.00"), _line("SKU-A", "10.00"), _line("SKU-B", "10.00", cancelled=1)])
    draft = OrderDraft(source="TikTok Shop", source_order_id="TT-1001", currency="GBP",
                       lines=[_line("SKU-A", "10.00", 2).model_copy(update={"variant_id": "gid://shopify/ProductVariant/7",
                                                                           "product_id": "gid://shopify/Product/3"}),
                              _line("SKU-B", "10.00")],
                       shipping_address={}, shipping=Money(amount=Decimal("3.50"), currency="GBP"),  # type: ignore[arg-type]
                       total=Money(amount=Decimal("33.50"), currency="GBP"))
    answer = CreatedOrder(remote_id=GID, number="#1022", admin_url="https://acme.example/admin/orders/5551022")
    with db.session() as s:
        link = OrderLink(channel_store_id=shop.id, channel_order_id="TT-1001", ecommerce_store_id=eco.id,  # type: ignore[arg-type]
                         ecommerce_order_id=GID, ecommerce_order_number="#1022", status="created",
                         channel_status="awaiting_shipment", skus=_skus(order), attempts=1,
                         data={**_link_data(order), "number": "#1022", "store": _store_data(draft, answer)})
        held_order = _order("TT-1002", [_line("SKU-9", "5.00")])
        held = OrderLink(channel_store_id=shop.id, channel_order_id="TT-1002", ecommerce_store_id=eco.id,  # type: ignore[arg-type]
                         status="held", skus=_skus(held_order), data=_link_data(held_order),
                         message="line(s) Tee SKU-9 (seller SKU SKU-9) match no product linked to this shop")
        s.add_all([link, held])
        s.flush()
        s.add(TrackingPushRecord(order_link_id=link.id, package_key="PKG-1", tracking_number="RM123456789GB",  # type: ignore[arg-type]
                                 carrier="Royal Mail", status="pushed"))
        s.add(RefundRecord(channel_store_id=shop.id, kind="return", remote_id="RET-7", channel_order_id="TT-1001",  # type: ignore[arg-type]
                           ecommerce_order_id=GID, key="k", status="applied", channel_status="RETURN_OR_REFUND_REQUEST_COMPLETE",
                           amount="10.00", currency="GBP", lines={"gid://shopify/ProductVariant/7": 1}, restocked=True))
        s.add(Job(key=f"orders:{org.id}:{shop.id}", flow="orders", org_id=org.id, store_id=eco.id,
                  channel_store_id=shop.id))
        s.flush()
        created_id, held_id = link.id, held.id
    journal.record("orders.created", f"TikTok order TT-1001 -> eCommerce order #1022 ({GID})", org_id=org.id,
                   store_id=shop.id, flow="orders", item="TT-1001")
    journal.record("refunds.applied", f"TikTok return RET-7 -> store order {GID}: 10.00 GBP", org_id=org.id,
                   store_id=shop.id, flow="refunds", item="RET-7")
    journal.record("orders.created", "another order's entry", org_id=org.id, store_id=shop.id, flow="orders",
                   item="TT-9999")
    return Shop(eco, shop, created_id, held_id)  # type: ignore[arg-type]
