"""transform_listing chains: each plugin gets the previous one's listing; the last is sent."""

from __future__ import annotations

from typing import Any

from bridge.hookspecs import hookimpl
from bridge.models import Listing, Product
from bridge.tables import Store
from tests.flows.conftest import Flows


class Shout:
    """Upper-cases the title (sees only the listing)."""

    @hookimpl
    def transform_listing(self, listing: Listing) -> Listing:
        return listing.model_copy(update={"title": listing.title.upper()})


class Tag:
    """Appends the product id and the shop's currency (sees listing, product and store)."""

    seen: list[str] = []

    @hookimpl
    def transform_listing(self, listing: Listing, product: Product, store: Store) -> Listing:
        self.seen.append(listing.title)
        return listing.model_copy(update={"title": f"{listing.title} ({product.remote_id} {store.currency})"})


class Abstain:
    @hookimpl
    def transform_listing(self, listing: Listing) -> Any:
        return None


def test_two_transforms_combine_in_pluggy_order_and_the_plan_shows_the_result(flows: Flows) -> None:
    pm = flows.pair.pm
    pm.register(Shout(), name="shout")
    pm.register(Abstain(), name="abstain")
    pm.register(Tag(), name="tag")  # registered last: called first
    plan = flows.run("products", dry_run=True)
    titles = {e["item"]: e["title"] for e in plan.plan if e["action"] == "create"}
    assert titles["p1"] == "FAKE PRODUCT 1 (P1 GBP)"
    assert Tag.seen[0] == "Fake product 1"  # Tag got the original; Shout got Tag's result
    r = flows.run("products")
    assert r.counts["created"] == 6
    assert flows.listed()["SKU-1-1"]["title"] == "FAKE PRODUCT 1 (P1 GBP)"
    flows.reset_stats()
    assert flows.run("products").counts.get("updated", 0) == 0  # the same chain: nothing to send
    assert flows.writes() == 0
