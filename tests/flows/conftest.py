"""Fixtures of the flow tests: the fake pair with category rules set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bridge import db
from bridge.sync import run_flow
from bridge.tables import CategoryRule, Store
from tests.conftest import FakePair


class Flows:
    """The fake pair plus helpers to run flows and count sandbox writes."""

    def __init__(self, pair: FakePair) -> None:
        self.pair = pair
        self.org_id: int = pair.org.id  # type: ignore[assignment]
        self.shop = pair.shop
        self.channel = pair.channel
        self.channel_store = pair.channel_store

    def run(self, flow: str, **kw: Any) -> Any:
        results = run_flow(flow, self.org_id, **kw)
        assert len(results) == 1
        return results[0]

    def run_all(self) -> dict[str, Any]:
        return {f: self.run(f) for f in ("products", "inventory", "orders", "tracking")}

    def reset_stats(self) -> None:
        self.shop.stats.reset()
        self.channel.stats.reset()

    def writes(self) -> int:
        return self.shop.stats.snapshot()["writes"] + self.channel.stats.snapshot()["writes"]

    def set_options(self, options: dict[str, Any]) -> None:
        with db.session() as s:
            row = s.get(Store, self.channel_store.id)
            assert row is not None
            row.options = options
            s.add(row)

    def listed(self) -> dict[str, dict[str, Any]]:
        """TikTok-side products by their first seller SKU."""
        return {p["skus"][0]["seller_sku"]: p for p in self.channel.products("shop-1")}

    def sku(self, seller_sku: str) -> dict[str, Any]:
        for p in self.channel.products("shop-1"):
            for s in p["skus"]:
                if s["seller_sku"] == seller_sku:
                    return s
        raise KeyError(seller_sku)


def add_rules(channel_store_id: int) -> None:
    with db.session() as s:
        s.add(CategoryRule(channel_store_id=channel_store_id, facet="product_type", value="mugs",
                           category_id="200", category_name="Mugs"))
        s.add(CategoryRule(channel_store_id=channel_store_id, facet="product_type", value="Shirts",
                           category_id="101", category_name="T-shirts", attributes={"Material": "Cotton"}))


@pytest.fixture()
def flows(fake_pair: FakePair) -> Iterator[Flows]:
    add_rules(fake_pair.channel_store.id)  # type: ignore[arg-type]
    yield Flows(fake_pair)
