"""Reading the catalog: ``GET /V1/products`` page by page, configurable children in batches.

One page of parents is ``GET /V1/products`` filtered on ``type_id in simple,configurable,virtual``
and ``visibility in 2,3,4`` (children of configurables are "not visible individually" and come
with their parent), sorted by ``entity_id`` ASC. The children of every configurable on the page
come in one ``GET /V1/products`` filtered on ``entity_id in (configurable_product_links)``, and
option labels from one ``GET /V1/products/attributes`` per run for the attributes not yet seen.

Cursors are those of :mod:`bridge_magento2.cursor` (incremental on ``updated_at``).
A change made only to a configurable's child may not bump the parent's ``updated_at`` in
Magento, so such a change waits for the next full read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bridge.connection import Connection
from bridge.models import Product, ProductPage
from bridge_magento2 import cursor as cursors
from bridge_magento2 import mapping
from bridge_magento2.client import MagentoClient
from bridge_magento2.search import MAX_PAGE_SIZE, Criteria, ids_in
from bridge_magento2.store import facts as store_facts

TYPES = "simple,configurable,virtual"
VISIBLE = "2,3,4"

Labels = dict[str, tuple[str, dict[str, str]]]


def page_size(connection: Connection) -> int:
    return max(1, min(int(connection.setting("page_size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE))


class CatalogReader:
    """Reads products of one store view, resolving children and option labels."""

    def __init__(self, connection: Connection) -> None:
        self.client = MagentoClient(connection)
        self.facts = store_facts(connection, self.client)
        self.labels: Labels = {}

    def _resolve_labels(self, parents: list[dict[str, Any]]) -> None:
        wanted = {str(o.get("attribute_id")) for p in parents
                  for o in (p.get("extension_attributes") or {}).get("configurable_product_options") or []}
        missing = sorted(wanted - set(self.labels))
        if not missing:
            return
        criteria = Criteria(sort_field="attribute_id", page_size=MAX_PAGE_SIZE)
        criteria.where("attribute_id", ids_in(missing), "in")
        for attr in self.client.search_all("products/attributes", criteria):
            values = {str(o.get("value")): str(o.get("label")) for o in attr.get("options") or []
                      if o.get("value") not in (None, "")}
            self.labels[str(attr.get("attribute_id"))] = (str(attr.get("attribute_code")), values)
        for attr_id in missing:
            self.labels.setdefault(attr_id, ("", {}))

    def _children(self, parents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        ids = sorted({int(i) for p in parents
                      for i in (p.get("extension_attributes") or {}).get("configurable_product_links") or []})
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), MAX_PAGE_SIZE):
            chunk = ids[start:start + MAX_PAGE_SIZE]
            criteria = Criteria(page_size=MAX_PAGE_SIZE).where("entity_id", ids_in(chunk), "in")
            for child in self.client.search_all("products", criteria):
                found[str(child["id"])] = child
        return found

    def products(self, items: list[dict[str, Any]]) -> list[Product]:
        """Map a page of product JSON, fetching the configurables' children and labels."""
        configurables = [i for i in items if i.get("type_id") == "configurable"]
        children = self._children(configurables) if configurables else {}
        if configurables:
            self._resolve_labels(configurables)
        out = []
        for item in items:
            links = (item.get("extension_attributes") or {}).get("configurable_product_links") or []
            kids = [children[str(i)] for i in links if str(i) in children]
            out.append(mapping.product(item, kids, self.labels, self.facts))
        return out

    def stream(self, cursor: str | None) -> Iterator[ProductPage]:
        """Pages of products changed since the cursor (everything without one)."""
        state = cursors.decode(cursor)
        since, hw = state["since"], state["hw"]
        criteria = Criteria(page_size=page_size(self.client.connection))
        criteria.where("type_id", TYPES, "in").where("visibility", VISIBLE, "in")
        if since:
            criteria.where("updated_at", since, "gteq")
        for page, last, items in self.client.pages("products", criteria, start_page=state["page"] + 1):
            hw = cursors.newest(hw, items)
            yield ProductPage(products=self.products(items), cursor=cursors.after(since, page, last, hw))

    def by_ids(self, product_ids: list[str]) -> list[Product]:
        ids = sorted({int(i) for i in product_ids if str(i).isdigit()})
        out: list[Product] = []
        for start in range(0, len(ids), MAX_PAGE_SIZE):
            criteria = Criteria(page_size=MAX_PAGE_SIZE)
            criteria.where("entity_id", ids_in(ids[start:start + MAX_PAGE_SIZE]), "in")
            for _, _, items in self.client.pages("products", criteria):
                out.extend(self.products(items))
        return out
