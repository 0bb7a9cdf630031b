"""Categories, brands, listings and inventory against the sandbox."""

from __future__ import annotations

import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from bridge.errors import Rejected
from bridge.models import (
    Dimensions,
    Image,
    InventoryUpdate,
    Listing,
    ListingAttribute,
    ListingSku,
    Money,
)
from bridge_tiktokshop import connector


def listing(images, prefix: str, image: str = "front.png", **kw) -> Listing:
    skus = [ListingSku(source_variant_id=f"{prefix}-v{i}", seller_sku=f"{prefix}-{i}",
                       price=Money(amount="12.50", currency="GBP"), quantity=4,
                       sales_attributes={"Colour": c}) for i, c in enumerate(["Red", "Teal"])]
    data = dict(source_product_id=prefix, title=f"Organic cotton tee {prefix}", category_id="601152",
                description_html="<p>Soft.</p><script>alert(1)</script><img src='https://cdn.example.com/x.png'>",
                images=[Image(url=images.url(image))],
                attributes=[ListingAttribute(id="101001", value_ids=["1010011"])],
                package_weight_g=Decimal(250),
                package_dimensions=Dimensions(length_cm=Decimal("20.4"), width_cm=Decimal(15), height_cm=Decimal(2)),
                skus=skus)
    data.update(kw)
    return Listing(**data)


def test_categories_cached_with_paths(sandbox, conn) -> None:
    before = sandbox.stats.snapshot()["by_route"].get("GET /product/202309/categories", 0)
    cats = {c.id: c for c in connector.list_categories(connection=conn)}
    connector.list_categories(connection=conn)
    after = sandbox.stats.snapshot()["by_route"]["GET /product/202309/categories"]
    assert after == before + 1
    assert cats["601152"].path == ["Womenswear & Underwear", "T-shirts"] and cats["601152"].is_leaf
    assert cats["600001"].parent_id is None and not cats["600001"].is_leaf
    assert cats["800100"].permission_required


def test_attributes_rules_recommend_brands(conn) -> None:
    attrs = {a.name: a for a in connector.category_attributes(connection=conn, category_id="601152")}
    assert attrs["Material"].required and not attrs["Material"].sales and attrs["Material"].values
    assert attrs["Colour"].sales and attrs["Size"].sales and attrs["Occasion"].multiple
    rules = connector.category_rules(connection=conn, category_id="800100")
    assert rules.package_dimensions_required and rules.certifications == ["Cosmetic Product Safety Report"]
    rec = connector.recommend_category(connection=conn, title="Phone case for iPhone", description="")
    assert rec.id == "900100" and rec.path == ["Phones & Electronics", "Phone Cases"]
    assert connector.recommend_category(connection=conn, title="Zzzz", description="") is None
    brands = {b.name: b.authorized for b in connector.list_brands(connection=conn, category_id="601152")}
    assert brands == {"Bridge Basics": True, "Northwind": True, "Globex": False}
    with pytest.raises(Rejected) as err:
        connector.category_attributes(connection=conn, category_id="600001")
    assert err.value.code == "12052024" and err.value.request_id


def test_create_listing_uploads_each_image_once_and_links(sandbox, conn, images) -> None:
    uploads = sandbox.uploads
    first = connector.create_listing(connection=conn, listing=listing(images, "CAT1"))
    second = connector.create_listing(connection=conn, listing=listing(images, "CAT2"))
    assert sandbox.uploads == uploads + 1  # same source image: uploaded once
    assert set(first.sku_ids) == {"CAT1-0", "CAT1-1"} and first.status == "pending"
    product = sandbox.world.shops[sandbox.shops()[0]["id"]].products[first.remote_product_id]
    assert "<script>" not in product["description"] and "cdn.example.com" not in product["description"]
    assert product["package_weight"] == {"value": "0.250", "unit": "KILOGRAM"}
    assert product["package_dimensions"]["length"] == "20"
    colours = {s["sales_attributes"][0]["value_name"] or s["sales_attributes"][0]["value_id"] for s in product["skus"]}
    assert "1000001" in {s["sales_attributes"][0]["value_id"] for s in product["skus"]} and colours
    found = connector.find_listings(connection=conn, seller_skus=["CAT2-1", "NOPE", "CAT1-0"])
    assert [(f.seller_sku, f.remote_product_id) for f in found] == [
        ("CAT2-1", second.remote_product_id), ("CAT1-0", first.remote_product_id)]
    with pytest.raises(Rejected, match="already exist") as err:
        connector.create_listing(connection=conn, listing=listing(images, "CAT1"))
    assert err.value.code == "DUPLICATE_SELLER_SKU"


def test_image_rules_checked_before_upload(sandbox, conn, images) -> None:
    uploads = sandbox.uploads
    with pytest.raises(Rejected, match="300-4000 px") as err:
        connector.create_listing(connection=conn, listing=listing(images, "IMG1", image="tiny.png").model_copy(
            update={"images": [Image(url=images.url("tiny", 120, 120))]}))
    assert err.value.code == "IMAGE_SIZE" and sandbox.uploads == uploads
    wide = connector.create_listing(connection=conn, listing=listing(images, "IMG2").model_copy(
        update={"images": [Image(url=images.url("wide", 1600, 800))]}))
    assert any("1:1" in w for w in wide.warnings)


def test_platform_rejection_keeps_code(conn, images) -> None:
    bad = listing(images, "REJ1", attributes=[])
    with pytest.raises(Rejected) as err:
        connector.create_listing(connection=conn, listing=bad)
    assert err.value.code == "12052102" and "Material" in err.value.message and err.value.request_id


def test_status_update_deactivate(sandbox, conn, images) -> None:
    made = connector.create_listing(connection=conn, listing=listing(images, "ST1"))
    failing = connector.create_listing(connection=conn, listing=listing(images, "ST2"))
    sandbox.fail_audit(failing.remote_product_id, ["Main image has a watermark"])
    live, failed, gone = connector.listing_status(
        connection=conn, remote_product_ids=[made.remote_product_id, failing.remote_product_id, "1"])
    assert live.status == "live" and live.sku_ids == made.sku_ids
    assert failed.status == "failed" and any("watermark" in r for r in failed.reasons)
    assert gone.status == "deleted"
    update = listing(images, "ST1", title="Organic cotton tee ST1 v2", remote_product_id=made.remote_product_id)
    update.skus[0].remote_sku_id = made.sku_ids["ST1-0"]
    update.skus[1].remote_sku_id = made.sku_ids["ST1-1"]
    again = connector.update_listing(connection=conn, listing=update)
    assert again.sku_ids == made.sku_ids
    assert sandbox.product(made.remote_product_id)["title"].endswith("v2")  # once reviewed
    first = connector.deactivate_listing(connection=conn, remote_product_id=made.remote_product_id)
    writes = sandbox.stats.snapshot()["by_route"].get("POST /product/202309/products/deactivate", 0)
    second = connector.deactivate_listing(connection=conn, remote_product_id=made.remote_product_id)
    assert first.status == second.status == "deactivated"
    assert sandbox.stats.snapshot()["by_route"]["POST /product/202309/products/deactivate"] == writes


def test_inventory_one_call_per_product_and_item_failures(sandbox, conn) -> None:
    shop = sandbox.shops()[0]["id"]
    products = [p for p in sandbox.products(shop) if len(p["skus"]) >= 2][:2]
    updates = [InventoryUpdate(product_id=p["id"], sku_id=s["id"], quantity=33) for p in products for s in p["skus"]]
    updates.append(InventoryUpdate(product_id=products[0]["id"], sku_id="999", quantity=1))
    before = sandbox.stats.snapshot()["by_route"].get("POST /product/202309/products/{product_id}/inventory/update", 0)
    results = connector.update_inventory(connection=conn, updates=updates)
    after = sandbox.stats.snapshot()["by_route"]["POST /product/202309/products/{product_id}/inventory/update"]
    assert after - before == 2
    assert [r.ok for r in results] == [True] * (len(updates) - 1) + [False]
    assert results[-1].key == "999" and results[-1].code == "12052036"
    levels = {lv.variant_id: lv.quantity for lv in connector.read_inventory(
        connection=conn, variant_ids=[u.sku_id for u in updates[:-1]])}
    assert levels == {u.sku_id: 33 for u in updates[:-1]}
    everything = list(connector.read_inventory(connection=conn, variant_ids=None))
    assert len(everything) >= sum(len(p["skus"]) for p in sandbox.products(shop))


def test_inventory_of_missing_product_fails_its_items(conn) -> None:
    results = connector.update_inventory(connection=conn, updates=[
        InventoryUpdate(product_id="42", sku_id="43", quantity=1)])
    assert not results[0].ok and results[0].code == "12019150"


def test_create_after_search_skips_second_search_and_caches_attributes(sandbox, conn, images) -> None:
    def calls(route: str) -> int:
        return sandbox.stats.snapshot()["by_route"].get(route, 0)

    search, attrs = "POST /product/202309/products/search", "GET /product/202309/categories/{category_id}/attributes"
    assert connector.find_listings(connection=conn, seller_skus=["SRCH1-0", "SRCH1-1", "SRCH2-0", "SRCH2-1"]) == []
    s0, a0 = calls(search), calls(attrs)
    connector.create_listing(connection=conn, listing=listing(images, "SRCH1"))
    a1 = calls(attrs)
    connector.create_listing(connection=conn, listing=listing(images, "SRCH2"))
    assert calls(search) == s0  # the core's search just found these SKUs missing
    assert a1 <= a0 + 1 and calls(attrs) == a1  # fetched once for the category, then from the store state
    connector.create_listing(connection=conn, listing=listing(images, "SRCH3"))
    assert calls(search) == s0 + 1  # never searched: searched before creating
    with pytest.raises(Rejected) as err:  # created SKUs no longer count as missing
        connector.create_listing(connection=conn, listing=listing(images, "SRCH1"))
    assert err.value.code == "DUPLICATE_SELLER_SKU" and calls(search) == s0 + 2


def test_image_used_as_main_and_sku_image_is_downloaded_once(sandbox, conn, images) -> None:
    url = images.url("shared-main-and-sku")
    item = listing(images, "DL1", image="shared-main-and-sku.png")
    item = item.model_copy(update={"skus": [s.model_copy(update={"image_url": url}) for s in item.skus]})
    before, uploads = images.requests, sandbox.uploads
    connector.create_listing(connection=conn, listing=item)
    assert images.requests == before + 1  # one download feeds both uploads
    assert sandbox.uploads == uploads + 2  # a main image and an attribute image are separate uploads


def test_a_checked_listing_is_created_with_the_body_its_check_built(sandbox, conn, images, monkeypatch) -> None:
    """The create of the listing just checked sends the checked body with its idempotency key:
    the body (images, description, attributes) is built once; another object is built anew."""
    from bridge_tiktokshop import mapping

    built: list[str] = []
    original = mapping.product_payload

    def payload(listing, **kw):  # type: ignore[no-untyped-def]
        built.append(listing.source_product_id)
        return original(listing, **kw)

    monkeypatch.setattr(mapping, "product_payload", payload)
    ls = listing(images, "RB1").model_copy(update={"create_key": "p-RB1:1"})
    assert connector.check_listing(connection=conn, listing=ls, dry_run=False).ok
    made = connector.create_listing(connection=conn, listing=ls)
    assert len(built) == 1  # built for the check only
    shop = sandbox.world.shops[sandbox.shops()[0]["id"]]
    assert made.remote_product_id in shop.idempotency.values()  # sent with its idempotency key
    other = listing(images, "RB2").model_copy(update={"create_key": "p-RB2:1"})
    assert connector.check_listing(connection=conn, listing=other, dry_run=False).ok
    connector.create_listing(connection=conn, listing=other.model_copy())  # not the object checked
    assert built == ["RB1", "RB2", "RB2"]  # built anew for it


def test_skus_remembered_after_a_scan_take_fixed_memory_and_expire(sandbox, conn) -> None:
    """A complete scan lets creates skip their search; the SKUs created since are remembered so
    that a second product with one of them is searched (and refused). That memory stays the
    same whatever the number of SKUs (a set of them held ~13 MB at 94,000 SKUs), and the scan
    is forgotten once it no longer counts."""
    from bridge_tiktokshop import catalog
    from bridge_tiktokshop.client import TikTokClient

    client = TikTokClient(conn)
    list(connector.scan_listings(connection=conn))  # complete: the shop's SKUs are known
    on_shop = next(s["seller_sku"] for p in sandbox.products(sandbox.shops()[0]["id"]) for s in p["skus"])
    created = [f"MEM-{i:06d}-{j}" for i in range(5000) for j in range(4)]
    tracemalloc.start()
    try:
        for i in range(0, len(created), 4):
            catalog._remember(client, present=created[i:i + 4])
        grown = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert grown < 20_000, grown  # 20,000 SKUs remembered in no more memory than at the start
    assert not any(catalog._known_absent(client, [s]) for s in (created[0], created[-1], on_shop))
    assert catalog._known_absent(client, ["MEM-NEVER-MADE-1", "MEM-NEVER-MADE-2"])  # skips its search
    catalog._remember(client, absent=["MEM-OLD"])
    aged = time.monotonic() - catalog.ABSENT_TTL - 1  # the scan and that search, as if long ago
    catalog._scanned[conn.store_key] = (aged, catalog._scanned[conn.store_key][1])
    catalog._absent[(conn.store_key, "MEM-OLD")] = aged
    catalog._absent.move_to_end((conn.store_key, "MEM-OLD"), last=False)  # the oldest come first
    assert not catalog._known_absent(client, ["MEM-NEVER-MADE-1"])  # the scan no longer counts
    assert conn.store_key not in catalog._scanned
    catalog._remember(client, present=["MEM-AFTER"], absent=["MEM-GONE"])
    assert conn.store_key not in catalog._scanned and catalog._known_absent(client, ["MEM-GONE"])
    assert (conn.store_key, "MEM-OLD") not in catalog._absent  # an expired search is dropped


def test_a_shops_facts_and_a_shared_picture_are_fetched_once_by_tasks_at_once(sandbox, conn, images) -> None:
    """Tasks of one shop that start together (the page tasks of a first sync) all ask for its
    warehouses, a category's brands and rules, and upload a picture that two products share
    (two addresses, the same bytes): each is fetched or uploaded once, the others wait for that
    answer and take it (they fetched it once each: 6.5 warehouse reads a shop)."""
    from bridge_tiktokshop import images as tiktok_images
    from bridge_tiktokshop import shop
    from bridge_tiktokshop.client import TikTokClient

    assert sum(b"ab") == sum(b"ba")  # the image server colours a picture by its name's bytes
    sandbox.set_latency(50)  # the first fetch is still on its way when the others ask
    routes = ("GET /logistics/202309/warehouses", "GET /product/202309/brands",
              "GET /product/202309/categories/{category_id}/rules", "POST /product/202309/images/upload")
    before = sandbox.stats.snapshot()["by_route"]
    start = threading.Barrier(6)

    def task(i: int) -> tuple[str, list[str], bool, str]:
        start.wait()
        client = TikTokClient(conn)
        warehouse = shop.sales_warehouse_id(client)
        brands = [b.name for b in connector.list_brands(connection=conn, category_id="601152")]
        rules = connector.category_rules(connection=conn, category_id="800100")
        uploaded, _ = tiktok_images.upload(client, images.url("ab" if i % 2 else "ba"))
        return warehouse, brands, rules.package_dimensions_required, uploaded.uri

    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(task, range(6)))
    after = sandbox.stats.snapshot()["by_route"]
    assert {r: after.get(r, 0) - before.get(r, 0) for r in routes} == dict.fromkeys(routes, 1)
    assert len(set(map(str, got))) == 1 and got[0][1] == ["Bridge Basics", "Northwind", "Globex"]
    assert got[0][2] is True and got[0][3]
    # the brands stay cached: a second ask sends nothing
    connector.list_brands(connection=conn, category_id="601152")
    assert sandbox.stats.snapshot()["by_route"]["GET /product/202309/brands"] == after["GET /product/202309/brands"]


def test_a_listings_image_entries_are_read_in_one_go(sandbox, conn, images) -> None:
    """Building a listing asks the store state for each image's upload entry: all of them in
    one read (``get_many``), not one read each (four statements a listing in a busy round)."""
    from bridge.connection import MemoryState

    class Counting(MemoryState):
        def __init__(self) -> None:
            super().__init__()
            self.many: list[list[str]] = []
            self.single: list[str] = []

        def get_many(self, keys):  # type: ignore[no-untyped-def]
            self.many.append(list(keys))
            return super().get_many(keys)

        def __getitem__(self, key):  # type: ignore[no-untyped-def]
            self.single.append(key)
            return super().__getitem__(key)

    conn.state = state = Counting()
    item = listing(images, "ONEGO", image="one-a.png")
    item.images.append(Image(url=images.url("one-b"), position=2))
    item.skus[0].image_url = images.url("one-a")
    assert connector.create_listing(connection=conn, listing=item).remote_product_id
    assert len(state.many) == 1 and len(state.many[0]) == 3
    assert not [k for k in state.single if k.startswith("image:url:")]
