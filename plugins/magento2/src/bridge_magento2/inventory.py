"""Available quantities: MSI salable quantity, or the legacy stock item without MSI.

With Multi-Source Inventory (detected at connect time, kept in the store's settings) the
quantity is the *salable* one — source quantities of the website's stock minus reservations of
open orders — read in bulk with ``GET /V1/inventory/export-stock-salable-qty/website/{code}``
filtered on ``sku in (...)``, up to 300 SKUs per request. Without MSI it is the legacy default
stock item, ``GET /V1/stockItems/{sku}`` (one request per SKU: core Magento has no bulk read);
``manage_stock = false`` means the variant is not tracked.

Variants read by id (``variant_ids`` given) come from ``GET /V1/products`` filtered on
``entity_id``; Magento has no child-to-parent lookup, so their ``product_id`` is the variant's
own product id. Reading everything streams the catalog, so levels carry the parent's id.
"""

from __future__ import annotations

from collections.abc import Iterator

from bridge.connection import Connection
from bridge.models import InventoryLevel
from bridge_magento2.catalog import CatalogReader
from bridge_magento2.client import MagentoClient, sku_path
from bridge_magento2.search import MAX_PAGE_SIZE, Criteria, ids_in

Wanted = list[tuple[str, str, str]]
"""(product id, variant id, sku) triples."""


class InventoryReader:
    def __init__(self, connection: Connection) -> None:
        self.catalog = CatalogReader(connection)
        self.client: MagentoClient = self.catalog.client
        self.facts = self.catalog.facts

    def levels(self, wanted: Wanted) -> list[InventoryLevel]:
        """Quantities of the given variants, in the order given."""
        if not wanted:
            return []
        if self.facts.get("msi"):
            return self._salable(wanted)
        return [self._stock_item(*w) for w in wanted]

    def _salable(self, wanted: Wanted) -> list[InventoryLevel]:
        website = str(self.facts.get("website_code") or "base")
        qty: dict[str, tuple[float, bool]] = {}
        for start in range(0, len(wanted), MAX_PAGE_SIZE):
            skus = [w[2] for w in wanted[start:start + MAX_PAGE_SIZE]]
            criteria = Criteria(sort_field="sku", page_size=MAX_PAGE_SIZE).where("sku", ids_in(skus), "in")
            for item in self.client.search_all(f"inventory/export-stock-salable-qty/website/{sku_path(website)}",
                                               criteria):
                qty[str(item.get("sku"))] = (float(item.get("qty") or 0), bool(item.get("is_salable", True)))
        out = []
        for product_id, variant_id, sku in wanted:
            amount, salable = qty.get(sku, (0.0, False))
            out.append(InventoryLevel(product_id=product_id, variant_id=variant_id, sku=sku,
                                      quantity=max(0, int(amount)) if salable else 0))
        return out

    def _stock_item(self, product_id: str, variant_id: str, sku: str) -> InventoryLevel:
        item = self.client.get(f"stockItems/{sku_path(sku)}", missing_ok=True) or {}
        managed = bool(item.get("manage_stock", True))
        in_stock = bool(item.get("is_in_stock", False))
        amount = max(0, int(float(item.get("qty") or 0))) if in_stock else 0
        return InventoryLevel(product_id=product_id, variant_id=variant_id, sku=sku,
                              quantity=amount, tracked=managed)

    def everything(self) -> Iterator[InventoryLevel]:
        """Every variant of the catalog, one catalog page at a time."""
        for page in self.catalog.stream(None):
            wanted = [(p.remote_id, v.remote_id, v.sku or "") for p in page.products for v in p.variants if v.sku]
            yield from self.levels(wanted)

    def by_variant_ids(self, variant_ids: list[str]) -> Iterator[InventoryLevel]:
        ids = sorted({int(i) for i in variant_ids if str(i).isdigit()})
        for start in range(0, len(ids), MAX_PAGE_SIZE):
            criteria = Criteria(page_size=MAX_PAGE_SIZE)
            criteria.where("entity_id", ids_in(ids[start:start + MAX_PAGE_SIZE]), "in")
            wanted = [(str(i["id"]), str(i["id"]), str(i["sku"]))
                      for i in self.client.search_all("products", criteria)
                      if i.get("type_id") != "configurable" and i.get("sku")]
            yield from self.levels(wanted)
