"""GraphQL views of the sandbox state: root fields and objects for graphql-core's executor.

Objects are dicts; a value that needs arguments or would recurse (a connection, a parent) is a
callable ``(info, **args)``, which graphql-core's default resolver calls. Abstract types (``Node``,
``Media``) are resolved through ``__typename``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from graphql import GraphQLError

from bridge_shopify.sandbox import orders as order_ops
from bridge_shopify.sandbox.search import paginate
from bridge_shopify.sandbox.state import StoreState, iso, num_of

PRODUCT_FIELDS = {
    "status": lambda p: p["status"], "updated_at": lambda p: p["updatedAt"],
    "created_at": lambda p: p["createdAt"], "id": lambda p: p["_num"], "title": lambda p: p["title"],
    "tag": lambda p: p["tags"], "vendor": lambda p: p["vendor"], "default": lambda p: p["title"],
    "product_type": lambda p: p["productType"],
}
ORDER_FIELDS = {
    "tag": lambda o: o["tags"], "source_identifier": lambda o: o["sourceIdentifier"],
    "source_name": lambda o: o["sourceName"], "updated_at": lambda o: o["updatedAt"],
    "created_at": lambda o: o["createdAt"], "id": lambda o: o["_num"], "name": lambda o: o["name"],
    "default": lambda o: o["name"],
}
SORTS = {"ID": lambda r: r["_num"], "UPDATED_AT": lambda r: r["updatedAt"],
         "CREATED_AT": lambda r: r["createdAt"], "TITLE": lambda r: r.get("title", ""),
         "POSITION": lambda r: r.get("position", r["_num"]), "NAME": lambda r: r.get("name", ""),
         "PROCESSED_AT": lambda r: r["createdAt"]}
PROTECTED_MESSAGE = ("This app is not approved to access the Order object's protected customer "
                     "data. See https://shopify.dev/docs/apps/launch/protected-customer-data for "
                     "more details.")


@dataclass
class Context:
    """What one request's resolvers see."""

    state: StoreState
    scopes: list[str]
    protected_ok: bool = True
    webhooks: Any = None
    bulk: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def denied(self, what: str) -> Any:
        def raise_denied(info: Any = None, **_: Any) -> Any:
            raise GraphQLError(PROTECTED_MESSAGE, extensions={
                "code": "ACCESS_DENIED", "documentation": "https://shopify.dev/docs/apps/launch/"
                "protected-customer-data", "requiredAccess": f"protected customer data ({what})"})
        return raise_denied


def _bag(amount: Any, currency: str) -> dict[str, Any]:
    money = {"amount": str(Decimal(str(amount))), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def _count(n: int) -> dict[str, Any]:
    return {"count": n, "precision": "EXACT"}


class Views:
    """Builds the GraphQL objects of one request."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.s = ctx.state

    # ------------------------------------------------------------------ catalog

    def product(self, p: dict[str, Any]) -> dict[str, Any]:
        media = [{"_num": num_of(m["id"]), **m} for m in p["media"]]
        return {
            "__typename": "Product", "id": p["id"], "legacyResourceId": str(p["_num"]),
            "title": p["title"], "handle": p["handle"], "descriptionHtml": p["descriptionHtml"],
            "vendor": p["vendor"], "productType": p["productType"], "tags": p["tags"],
            "status": p["status"], "createdAt": iso(p["createdAt"]), "updatedAt": iso(p["updatedAt"]),
            "onlineStoreUrl": (f"https://{self.s.shop['host']}/products/{p['handle']}"
                               if p["status"] == "ACTIVE" else None),
            "category": ({"fullName": p["category"], "name": p["category"].rsplit(" > ", 1)[-1],
                          "id": "gid://shopify/TaxonomyCategory/aa-1"} if p.get("category") else None),
            "options": lambda info, **a: [{"id": f"{p['id']}/option/{i}", "name": o["name"],
                                           "position": i + 1, "values": o["values"]}
                                          for i, o in enumerate(p["options"])],
            "collections": lambda info, **a: paginate(
                [self.s.collections[c] for c in p["collections"]], a, SORTS["ID"],
                lambda c: {"__typename": "Collection", "id": c["id"], "title": c["title"]}),
            "media": lambda info, **a: paginate(media, a, SORTS["ID"], self.media),
            "variants": lambda info, **a: paginate(
                [self.s.variants[v] for v in p["variants"]], a, SORTS["POSITION"], self.variant),
            "variantsCount": _count(len(p["variants"])),
            "totalInventory": sum(self.s.available(v) for v in p["variants"]),
        }

    def media(self, m: dict[str, Any]) -> dict[str, Any]:
        return {"__typename": "MediaImage", "id": m["id"], "alt": m["alt"],
                "mediaContentType": "IMAGE", "status": "READY",
                "image": {"url": self.url(m["url"]), "altText": m["alt"], "width": 800, "height": 800}}

    def url(self, path: str) -> str:
        """A sandbox-served file's address as this request reached the sandbox."""
        return str(self.ctx.extra.get("base_url", "")) + path if path.startswith("/") else path

    def variant(self, v: dict[str, Any]) -> dict[str, Any]:
        product = self.s.products[v["product"]]
        return {
            "__typename": "ProductVariant", "id": v["id"], "legacyResourceId": str(v["_num"]),
            "title": v["title"], "displayName": f"{product['title']} - {v['title']}",
            "sku": v["sku"], "barcode": v["barcode"], "price": v["price"],
            "compareAtPrice": v["compareAtPrice"], "position": v["position"],
            "inventoryQuantity": self.s.available(v["id"]), "inventoryPolicy": v["inventoryPolicy"],
            "availableForSale": product["status"] == "ACTIVE",
            "selectedOptions": v["selectedOptions"], "createdAt": iso(v["createdAt"]),
            "updatedAt": iso(v["updatedAt"]),
            "image": {"url": self.url(product["media"][0]["url"])} if product["media"] else None,
            "inventoryItem": lambda info, **a: self.item(self.s.items[v["item"]]),
            "product": lambda info, **a: self.product(product),
        }

    def item(self, i: dict[str, Any]) -> dict[str, Any]:
        levels = [{"_num": num_of(loc), "loc": loc, "q": q} for loc, q in i["levels"].items()]
        return {
            "__typename": "InventoryItem", "id": i["id"], "legacyResourceId": str(i["_num"]),
            "sku": i["sku"], "tracked": i["tracked"], "requiresShipping": True,
            "updatedAt": iso(i["updatedAt"]),
            "measurement": {"id": i["id"].replace("InventoryItem", "InventoryItemMeasurement"),
                            "weight": i["weight"]},
            "variant": lambda info, **a: self.variant(self.s.variants[i["variant"]]),
            "inventoryLevels": lambda info, **a: paginate(levels, a, SORTS["ID"],
                                                          lambda lv: self.level(i, lv)),
        }

    def level(self, item: dict[str, Any], lv: dict[str, Any]) -> dict[str, Any]:
        quantities = {"available": lv["q"], "on_hand": lv["q"], "committed": 0, "reserved": 0,
                      "incoming": 0, "damaged": 0, "safety_stock": 0, "quality_control": 0}
        return {
            "__typename": "InventoryLevel",
            "id": f"gid://shopify/InventoryLevel/{item['_num']}?inventory_item_id={item['_num']}",
            "location": self.location(self.s.locations[lv["loc"]]),
            "quantities": lambda info, names: [
                {"id": f"{item['id']}/{lv['loc']}/{n}", "name": n, "quantity": quantities[n],
                 "updatedAt": iso(item["updatedAt"])} for n in names if n in quantities],
            "updatedAt": iso(item["updatedAt"]),
        }

    def location(self, loc: dict[str, Any]) -> dict[str, Any]:
        return {"__typename": "Location", "id": loc["id"], "name": loc["name"],
                "isActive": loc["isActive"], "legacyResourceId": str(loc["_num"]),
                "shipsInventory": loc["isActive"], "fulfillsOnlineOrders": loc["isActive"]}

    # ------------------------------------------------------------------ orders

    def _address(self, a: dict[str, Any] | None) -> dict[str, Any] | None:
        if not a:
            return None
        return {**{k: a.get(k) for k in ("firstName", "lastName", "company", "address1", "address2",
                                          "city", "provinceCode", "zip", "phone")},
                "name": " ".join(x for x in (a.get("firstName"), a.get("lastName")) if x),
                "countryCodeV2": a.get("countryCode"), "countryCode": a.get("countryCode")}

    def order(self, o: dict[str, Any]) -> dict[str, Any]:
        cur = o["currencyCode"]
        protected = self.ctx.protected_ok
        return {
            "__typename": "Order", "id": o["id"], "legacyResourceId": str(o["_num"]),
            "name": o["name"], "createdAt": iso(o["createdAt"]), "updatedAt": iso(o["updatedAt"]),
            "processedAt": o["processedAt"] or iso(o["createdAt"]),
            "cancelledAt": iso(o["cancelledAt"]), "cancelReason": o["cancelReason"],
            "sourceName": o["sourceName"], "sourceIdentifier": o["sourceIdentifier"],
            "tags": o["tags"], "note": o["note"], "currencyCode": cur,
            "email": o["email"] if protected else self.ctx.denied("email"),
            "shippingAddress": (self._address(o["shippingAddress"]) if protected
                                else self.ctx.denied("address")),
            "billingAddress": (self._address(o["billingAddress"]) if protected
                               else self.ctx.denied("address")),
            "customAttributes": o["customAttributes"],
            "displayFinancialStatus": o["financialStatus"],
            "displayFulfillmentStatus": order_ops.fulfillment_status(o),
            "subtotalPriceSet": _bag(o["subtotal"], cur), "totalShippingPriceSet": _bag(o["shipping"], cur),
            "totalTaxSet": _bag(o["tax"], cur), "totalPriceSet": _bag(o["total"], cur),
            "lineItems": lambda info, **a: paginate(o["lineItems"], a, SORTS["ID"],
                                                    lambda ln: self.line(ln, cur)),
            "fulfillments": lambda info, first=None: [
                self.fulfillment(f, o) for f in o["fulfillments"][:first or None]],
            "transactions": lambda info, first=None, **a: [
                self.transaction(t, cur) for t in o.get("transactions", [])[:first or None]],
            "refunds": lambda info, first=None: [self.refund(r, o) for r in o.get("refunds", [])[:first or None]],
            "totalRefundedSet": _bag(sum((r["total"] for r in o.get("refunds", [])), Decimal(0)), cur),
            "totalReceivedSet": _bag(sum((t["amount"] for t in o.get("transactions", [])
                                          if t["kind"] in ("SALE", "CAPTURE") and t["status"] == "SUCCESS"),
                                         Decimal(0)), cur),
        }

    def transaction(self, t: dict[str, Any], currency: str) -> dict[str, Any]:
        return {"__typename": "OrderTransaction", "id": t["id"], "kind": t["kind"], "status": t["status"],
                "gateway": t["gateway"], "formattedGateway": t["gateway"].replace("_", " ").title(),
                "manualPaymentGateway": t["manualPaymentGateway"], "amountSet": _bag(t["amount"], currency),
                "createdAt": iso(t["createdAt"]), "processedAt": iso(t["createdAt"]), "test": False,
                "parentTransaction": ({"id": t["parent"]} if t["parent"] else None)}

    def refund(self, r: dict[str, Any], o: dict[str, Any]) -> dict[str, Any]:
        cur = o["currencyCode"]
        lines = {ln["id"]: ln for ln in o["lineItems"]}
        items = [{"_num": i, **x} for i, x in enumerate(r["lineItems"])]
        txns = {t["id"]: t for t in o.get("transactions", [])}
        return {
            "__typename": "Refund", "id": r["id"], "legacyResourceId": str(r["_num"]), "note": r["note"],
            "createdAt": iso(r["createdAt"]), "updatedAt": iso(r["createdAt"]),
            "totalRefundedSet": _bag(r["total"], cur),
            "refundLineItems": lambda info, **a: paginate(items, a, SORTS["ID"], lambda x: {
                "id": f"gid://shopify/RefundLineItem/{r['_num']}{x['_num']}", "quantity": x["quantity"],
                "restockType": x["restockType"], "restocked": x["restocked"],
                "priceSet": _bag(x["price"], cur), "lineItem": self.line(lines[x["line"]], cur)}),
            "transactions": lambda info, **a: paginate([txns[i] for i in r["transactions"]], a, SORTS["ID"],
                                                       lambda t: self.transaction(t, cur)),
        }

    def line(self, ln: dict[str, Any], currency: str) -> dict[str, Any]:
        return {
            "__typename": "LineItem", "id": ln["id"], "title": ln["title"], "name": ln["title"],
            "sku": ln["sku"], "quantity": ln["quantity"],
            "currentQuantity": ln["quantity"] - ln.get("removed", 0) - ln.get("refunded", 0),
            "refundableQuantity": order_ops.refundable(ln),
            "fulfillableQuantity": order_ops.fulfillable(self.s, ln),
            "originalUnitPriceSet": _bag(ln["price"], currency),
            "variant": lambda info, **a: (self.variant(self.s.variants[ln["variant"]])
                                          if ln["variant"] in self.s.variants else None),
            "product": lambda info, **a: (self.product(self.s.products[ln["product"]])
                                          if ln["product"] in self.s.products else None),
        }

    def fulfillment(self, f: dict[str, Any], o: dict[str, Any]) -> dict[str, Any]:
        lines = {ln["id"]: ln for ln in o["lineItems"]}
        items = [{"_num": num_of(i), "line": lines[i]} for i in f["lineItems"]]
        return {
            "__typename": "Fulfillment", "id": f["id"], "legacyResourceId": str(f["_num"]),
            "status": f["status"], "createdAt": iso(f["createdAt"]), "updatedAt": iso(f["createdAt"]),
            "trackingInfo": lambda info, first=None: f["trackingInfo"][:first or None],
            "fulfillmentLineItems": lambda info, **a: paginate(items, a, SORTS["ID"], lambda it: {
                "id": it["line"]["id"].replace("LineItem", "FulfillmentLineItem"),
                "quantity": it["line"]["quantity"],
                "lineItem": self.line(it["line"], o["currencyCode"])}),
        }

    # ------------------------------------------------------------------ lookups

    def node(self, ident: str) -> dict[str, Any] | None:
        kind = ident.split("/")[3] if ident.count("/") >= 4 else ""
        s = self.s
        table = {"Product": (s.products, self.product), "ProductVariant": (s.variants, self.variant),
                 "InventoryItem": (s.items, self.item), "Order": (s.orders, self.order),
                 "Location": (s.locations, self.location)}
        if kind in table:
            records, view = table[kind]
            return view(records[ident]) if ident in records else None
        if kind == "BulkOperation" and self.ctx.bulk is not None:
            return self.ctx.bulk.view(ident)
        return None
