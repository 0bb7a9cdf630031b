"""The contract suite (see :mod:`bridge.testing`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from bridge.connection import AppContext, Connection
from bridge.errors import NeedsReconnect, WebhookRejected
from bridge.models import (
    Address,
    Dimensions,
    Image,
    InventoryUpdate,
    Listing,
    ListingAttribute,
    ListingSku,
    Money,
    OrderDraft,
    OrderLine,
    PlatformInfo,
    Product,
    StoreInfo,
    Tracking,
    TrackingPush,
    WebhookRequest,
)
from bridge.plugins import PluginManager
from bridge.sandboxing import SandboxServer
from bridge.testing.images import ImageServer

SECRET_NAMES = re.compile(r"(token|secret|password|api_key|consumer_key)", re.I)


class Kit:
    """The running sandbox and how to reach it."""

    def __init__(self, platform: str, pm: PluginManager, sandbox: Any, server: SandboxServer,
                 images: ImageServer) -> None:
        self.platform = platform
        self.pm = pm
        self.sandbox = sandbox
        self.server = server
        self.images = images
        self.info: PlatformInfo = pm.info(platform)

    def app(self) -> AppContext:
        settings = dict(self.sandbox.app_settings())
        settings.setdefault("base_url", self.server.url)
        return AppContext(platform=self.platform, settings=settings)

    def connection(self, **credential_overrides: Any) -> Connection:
        creds = dict(self.sandbox.credentials())
        creds.update(credential_overrides)
        return Connection(platform=self.platform, settings=dict(self.sandbox.base_url_setting(self.server.url)),
                          credentials=creds, app=self.app())

    def call(self, operation: str, **kw: Any) -> Any:
        return self.pm.call(self.platform, operation, **kw)

    def has(self, operation: str) -> bool:
        return self.pm.has(self.platform, operation)


def _skip_unless(kit: Kit, *operations: str) -> None:
    missing = [op for op in operations if not kit.has(op)]
    if missing:
        pytest.skip(f"{kit.platform} does not declare {', '.join(missing)}")


def _skip_unless_kind(kit: Kit, kind: str) -> None:
    if kit.info.kind != kind:
        pytest.skip(f"{kit.platform} is a {kit.info.kind} platform, not {kind}")


class ContractSuite:
    """Subclass with ``platform`` (and optionally ``sandbox_options``) to run the contract."""

    platform: str = ""
    sandbox_options: dict[str, Any] = {"seed": 12, "variants": 3}
    currency: str | None = None

    # ------------------------------------------------------------------ fixtures

    @classmethod
    def plugin_manager(cls) -> PluginManager:
        """The plugin manager the suite uses (default: the installed plugins). A classmethod."""
        return PluginManager()

    @pytest.fixture(scope="class")
    @classmethod
    def kit(cls) -> Iterator[Kit]:
        pm = cls.plugin_manager()
        pm.platform_plugin(cls.platform)  # a clear error when the plugin is not installed
        sandbox = pm.call(cls.platform, "sandbox", options=dict(cls.sandbox_options))
        with SandboxServer(sandbox.app) as server, ImageServer() as images:
            yield Kit(cls.platform, pm, sandbox, server, images)

    @pytest.fixture()
    def conn(self, kit: Kit) -> Iterator[Connection]:
        c = kit.connection()
        yield c
        c.close()

    @pytest.fixture(scope="class")
    @classmethod
    def store_info(cls, kit: Kit) -> StoreInfo:
        c = kit.connection()
        try:
            return kit.call("connect", connection=c)
        finally:
            c.close()

    # ------------------------------------------------------------------ describing

    def test_describes_itself(self, kit: Kit) -> None:
        info = kit.info
        assert info.name == self.platform
        assert info.kind in ("ecommerce", "channel")
        assert info.display_name
        names = [s.name for s in info.settings]
        assert len(names) == len(set(names)), "setting names must be unique"
        assert "base_url" not in names, "base_url is added by the core; do not declare it"
        for s in info.settings:
            if SECRET_NAMES.search(s.name):
                assert s.secret, f"setting {s.name} looks secret but is not flagged secret=True"
        for a in info.app_settings:
            if SECRET_NAMES.search(a.name) and "key" not in a.name.lower():
                assert a.secret, f"app setting {a.name} looks secret but is not flagged secret=True"

    # ------------------------------------------------------------------ connecting

    def test_connect_yields_store_info(self, store_info: StoreInfo) -> None:
        assert store_info.remote_id
        assert store_info.name
        assert re.fullmatch(r"[A-Z]{3}", store_info.currency)
        if self.currency:
            assert store_info.currency == self.currency

    def test_bad_credentials_are_refused(self, kit: Kit) -> None:
        creds = {k: "wrong-" + str(v) for k, v in kit.sandbox.credentials().items() if isinstance(v, str)}
        c = kit.connection(**creds)
        with pytest.raises(NeedsReconnect):
            kit.call("connect", connection=c)

    # ------------------------------------------------------------------ catalog (eCommerce)

    def test_products_stream_resume_and_increment(self, kit: Kit, conn: Connection) -> None:
        _skip_unless_kind(kit, "ecommerce")
        _skip_unless(kit, "list_products")
        pages = list(kit.call("list_products", connection=conn, cursor=None))
        assert pages, "list_products yielded no page"
        ids = [p.remote_id for page in pages for p in page.products]
        assert len(ids) == len(set(ids)), "a product was yielded twice in one stream"
        for page in pages:
            for product in page.products:
                assert isinstance(product, Product) and product.variants
        if len(pages) > 1:
            rest = [p.remote_id for page in kit.call("list_products", connection=conn,
                                                    cursor=pages[0].cursor) for p in page.products]
            assert set(rest) == set(ids) - {p.remote_id for p in pages[0].products}
        final = pages[-1].cursor
        before = {p.remote_id for page in kit.call("list_products", connection=conn, cursor=final)
                  for p in page.products}
        assert len(before) < len(ids), "listing from the last cursor must be incremental"
        new_ids = kit.sandbox.seed_catalog(1, 2, seed=99)
        after = {p.remote_id for page in kit.call("list_products", connection=conn, cursor=final)
                 for p in page.products}
        assert set(new_ids) <= after, "a product added after the last cursor must be listed"

    def test_inventory_covers_every_variant(self, kit: Kit, conn: Connection) -> None:
        _skip_unless_kind(kit, "ecommerce")
        _skip_unless(kit, "list_products", "read_inventory")
        first = next(iter(kit.call("list_products", connection=conn, cursor=None)))
        variant_ids = [v.remote_id for p in first.products for v in p.variants if v.inventory_tracked]
        levels = list(kit.call("read_inventory", connection=conn, variant_ids=variant_ids))
        assert {lv.variant_id for lv in levels} == set(variant_ids)
        for lv in levels:
            assert isinstance(lv.quantity, int)

    # ------------------------------------------------------------------ orders (eCommerce)

    def _draft(self, kit: Kit, conn: Connection, source_id: str) -> OrderDraft:
        first = next(iter(kit.call("list_products", connection=conn, cursor=None)))
        product = first.products[0]
        variant = product.variants[0]
        currency = variant.price.currency
        addr = Address(name="Ada Lovelace", first_name="Ada", last_name="Lovelace", line1="1 Test St",
                       city="London", postal_code="SW1A 1AA", country_code="GB", phone="+440000000000")
        price = variant.price
        return OrderDraft(
            source="TikTok Shop", source_order_id=source_id, currency=currency,
            lines=[OrderLine(remote_id="L1", product_id=product.remote_id, variant_id=variant.remote_id,
                             sku=variant.sku, title=product.title, quantity=1, unit_price=price)],
            shipping_address=addr, billing_address=addr, buyer_email="buyer@example.com",
            buyer_name="Ada Lovelace", shipping=Money(amount="2.50", currency=currency),
            total=Money(amount=price.amount + Decimal("2.50"), currency=currency),
            note="TikTok Shop order " + source_id,
        )

    def test_create_order_is_idempotent(self, kit: Kit, conn: Connection) -> None:
        _skip_unless_kind(kit, "ecommerce")
        _skip_unless(kit, "create_order", "list_products")
        before = len(kit.sandbox.orders())
        draft = self._draft(kit, conn, "KIT-ORDER-1")
        first = kit.call("create_order", connection=conn, draft=draft)
        second = kit.call("create_order", connection=conn, draft=draft)
        assert first.remote_id and not first.existed
        assert second.remote_id == first.remote_id and second.existed
        assert len(kit.sandbox.orders()) == before + 1
        if kit.has("find_order"):
            assert kit.call("find_order", connection=conn, source_order_id="KIT-ORDER-1") == first.remote_id
            assert kit.call("find_order", connection=conn, source_order_id="KIT-NO-SUCH") is None

    def test_cancel_order_is_idempotent(self, kit: Kit, conn: Connection) -> None:
        _skip_unless_kind(kit, "ecommerce")
        _skip_unless(kit, "create_order", "cancel_order")
        created = kit.call("create_order", connection=conn, draft=self._draft(kit, conn, "KIT-ORDER-2"))
        assert kit.call("cancel_order", connection=conn, order_id=created.remote_id, reason="test") is True
        assert kit.call("cancel_order", connection=conn, order_id=created.remote_id, reason="test") is False

    def test_fulfillments_carry_tracking(self, kit: Kit, conn: Connection) -> None:
        _skip_unless_kind(kit, "ecommerce")
        _skip_unless(kit, "create_order", "list_fulfillments")
        created = kit.call("create_order", connection=conn, draft=self._draft(kit, conn, "KIT-ORDER-3"))
        kit.sandbox.fulfill_order(created.remote_id, Tracking(number="KITTRACK123", carrier="Royal Mail"))
        fulfilments = kit.call("list_fulfillments", connection=conn, order_ids=[created.remote_id])
        numbers = [t.number for f in fulfilments for t in f.tracking]
        assert numbers.count("KITTRACK123") == 1

    # ------------------------------------------------------------------ channel

    def make_listing(self, kit: Kit, conn: Connection, sku_prefix: str) -> Listing:
        """A listing in a leaf category with required attributes filled (override if needed)."""
        categories = kit.call("list_categories", connection=conn)
        leaves = [c for c in categories if c.is_leaf and not c.permission_required]
        assert leaves, "list_categories returned no usable leaf category"
        cat = leaves[0]
        attrs = []
        sales: list[str] = []
        for a in kit.call("category_attributes", connection=conn, category_id=cat.id):
            if a.sales:
                sales.append(a.name)
            elif a.required:
                attrs.append(ListingAttribute(id=a.id, name=a.name,
                                              value_ids=[a.values[0].id] if a.values else [],
                                              values=[] if a.values else ["Test"]))
        currency = (kit.sandbox.shops()[0].get("currency") if hasattr(kit.sandbox, "shops") else None) or "GBP"
        option = sales[0] if sales else "Size"
        skus = [ListingSku(source_variant_id=f"{sku_prefix}-v{i}", seller_sku=f"{sku_prefix}-{i}",
                           price=Money(amount="19.99", currency=currency), quantity=5,
                           sales_attributes={option: size}) for i, size in enumerate(["S", "M", "L"])]
        return Listing(source_product_id=sku_prefix, title=f"Contract kit product {sku_prefix} cotton tee",
                       description_html="<p>A plain cotton t-shirt for the contract suite.</p>",
                       category_id=cat.id, attributes=attrs,
                       images=[Image(url=kit.images.url("front.png"))],
                       package_weight_g=Decimal(300),
                       package_dimensions=Dimensions(length_cm=Decimal(20), width_cm=Decimal(15),
                                                     height_cm=Decimal(3)),
                       skus=skus)

    def test_listing_and_idempotent_inventory(self, kit: Kit, conn: Connection) -> None:
        _skip_unless_kind(kit, "channel")
        _skip_unless(kit, "create_listing", "update_inventory", "list_categories", "category_attributes")
        listing = self.make_listing(kit, conn, "KIT1")
        result = kit.call("create_listing", connection=conn, listing=listing)
        assert result.remote_product_id
        assert set(result.sku_ids) == {s.seller_sku for s in listing.skus}
        if kit.has("find_listings"):
            found = kit.call("find_listings", connection=conn, seller_skus=["KIT1-0", "NOPE-0"])
            assert [f.seller_sku for f in found] == ["KIT1-0"]
            assert found[0].remote_product_id == result.remote_product_id
        updates = [InventoryUpdate(product_id=result.remote_product_id, sku_id=sid, quantity=7)
                   for sid in result.sku_ids.values()]
        for _ in range(2):
            results = kit.call("update_inventory", connection=conn, updates=updates)
            assert [r.ok for r in results] == [True] * len(updates)
        product = next(p for p in kit.sandbox.products(kit.sandbox.shops()[0]["id"])
                       if str(p["id"]) == result.remote_product_id)
        assert [s["quantity"] for s in product["skus"]] == [7] * len(updates)

    def test_tracking_push_is_idempotent(self, kit: Kit, conn: Connection) -> None:
        _skip_unless_kind(kit, "channel")
        _skip_unless(kit, "create_listing", "push_tracking", "shipping_providers")
        listing = self.make_listing(kit, conn, "KIT2")
        kit.call("create_listing", connection=conn, listing=listing)
        shop = kit.sandbox.shops()[0]["id"]
        order_id = kit.sandbox.create_order(shop, [("KIT2-0", 1)])
        order = kit.call("get_orders", connection=conn, order_ids=[order_id])[0] if kit.has("get_orders") else None
        providers = kit.call("shipping_providers", connection=conn, order_id=order_id)
        assert providers, "no shipping provider for the order"
        package = order.package_ids[0] if order and order.package_ids else None
        push = TrackingPush(order_id=order_id, package_id=package, tracking_number="KIT0001GB",
                            provider_id=providers[0].id, carrier=providers[0].name,
                            line_ids=[ln.remote_id for ln in order.lines] if order else [])
        first = kit.call("push_tracking", connection=conn, push=push)
        second = kit.call("push_tracking", connection=conn, push=push)
        assert first.pushed is True
        assert second.pushed is False

    # ------------------------------------------------------------------ webhooks

    def test_webhook_with_bad_signature_is_refused(self, kit: Kit, conn: Connection) -> None:
        _skip_unless(kit, "receive_webhook")
        request = WebhookRequest(
            headers={"Content-Type": "application/json", "X-Signature": "bad", "Authorization": "bad",
                     "X-Shopify-Hmac-Sha256": "bad", "X-WC-Webhook-Signature": "bad"},
            body=b'{"id": 1}',
        )
        with pytest.raises(WebhookRejected):
            kit.call("receive_webhook", app=kit.app(), connection=conn, request=request)
