"""``fakechannel``: a fake TikTok-like channel (connector + HTTP sandbox) for core tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge import hookimpl
from bridge.connection import Connection
from bridge.errors import Rejected, WebhookRejected
from bridge.models import (
    AttributeValue,
    Category,
    CategoryAttribute,
    ExistingListing,
    InventoryLevel,
    InventoryUpdate,
    ItemResult,
    Listing,
    ListingResult,
    Money,
    Order,
    OrderLine,
    OrderPage,
    PlatformInfo,
    Setting,
    ShippingProvider,
    StoreInfo,
    TrackingPush,
    TrackingResult,
    WebhookDelivery,
    WebhookEvent,
    WebhookRequest,
)
from tests.fakes.common import FakeSandboxBase, check_response, sample_webhook, sign
from tests.fakes.common import webhook_payload as _payload

PROVIDERS = [{"id": "P-RM", "name": "Royal Mail"}, {"id": "P-DPD", "name": "DPD"}]


def _client(connection: Connection):  # type: ignore[no-untyped-def]
    return connection.http_client(connection.base_url or "https://api.fakechannel.invalid",
                                  headers={"Authorization": f"Bearer {connection.secret('token')}"})


@hookimpl
def describe_platform() -> PlatformInfo:
    return PlatformInfo(name="fakechannel", kind="channel", display_name="Fake Channel",
                        settings=[Setting(name="token", secret=True, required=True)],
                        regions=["GB"], webhooks=True)


@hookimpl
def connect(connection: Connection) -> StoreInfo:
    d = check_response(_client(connection).get("/shop"))
    return StoreInfo(remote_id=d["id"], name=d["name"], currency=d["currency"], region=d["region"])


@hookimpl
def list_categories(connection: Connection) -> list[Category]:
    return [Category(**c) for c in check_response(_client(connection).get("/categories"))["categories"]]


@hookimpl
def category_attributes(connection: Connection, category_id: str) -> list[CategoryAttribute]:
    d = check_response(_client(connection).get(f"/categories/{category_id}/attributes"))
    return [CategoryAttribute(id=a["id"], name=a["name"], required=a["required"],
                              values=[AttributeValue(**v) for v in a["values"]],
                              custom_values_allowed=a["custom"]) for a in d["attributes"]]


@hookimpl
def recommend_category(connection: Connection, title: str, description: str) -> Category | None:
    d = check_response(_client(connection).get("/recommend", params={"title": title}))
    return Category(**d["category"]) if d.get("category") else None


@hookimpl
def find_listings(connection: Connection, seller_skus: list[str]) -> list[ExistingListing]:
    d = check_response(_client(connection).get("/skus", params={"seller_sku": ",".join(seller_skus)}))
    return [ExistingListing(**x) for x in d["skus"]]


def _body(listing: Listing) -> dict[str, Any]:
    return {"title": listing.title, "description": listing.description_html,
            "category_id": listing.category_id,
            "attributes": {a.id: a.value_ids or a.values for a in listing.attributes},
            "skus": [{"seller_sku": s.seller_sku, "price": str(s.price.amount), "quantity": s.quantity,
                      "id": s.remote_sku_id} for s in listing.skus]}


def _result(d: dict[str, Any]) -> ListingResult:
    return ListingResult(remote_product_id=d["id"], status=d["status"],
                         sku_ids={s["seller_sku"]: s["id"] for s in d["skus"]})


@hookimpl
def create_listing(connection: Connection, listing: Listing) -> ListingResult:
    resp = _client(connection).post("/products", json=_body(listing))
    return _result(check_response(resp, item=listing.source_product_id))


@hookimpl
def update_listing(connection: Connection, listing: Listing) -> ListingResult:
    resp = _client(connection).put(f"/products/{listing.remote_product_id}", json=_body(listing))
    return _result(check_response(resp, item=listing.source_product_id))


@hookimpl
def deactivate_listing(connection: Connection, remote_product_id: str) -> ListingResult:
    return _result(check_response(_client(connection).post(f"/products/{remote_product_id}/deactivate")))


@hookimpl
def listing_status(connection: Connection, remote_product_ids: list[str]) -> list[ListingResult]:
    d = check_response(_client(connection).get("/products", params={"ids": ",".join(remote_product_ids)}))
    return [_result(p) for p in d["products"]]


@hookimpl
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    d = check_response(_client(connection).get("/products"))
    for p in d["products"]:
        for s in p["skus"]:
            if variant_ids is None or s["id"] in variant_ids:
                yield InventoryLevel(product_id=p["id"], variant_id=s["id"], sku=s["seller_sku"],
                                     quantity=s["quantity"])


@hookimpl
def update_inventory(connection: Connection, updates: list[InventoryUpdate]) -> list[ItemResult]:
    by_product: dict[str, list[InventoryUpdate]] = {}
    for u in updates:
        by_product.setdefault(u.product_id, []).append(u)
    out = []
    for pid, ups in by_product.items():
        d = check_response(_client(connection).post(
            f"/products/{pid}/inventory", json={"skus": [{"id": u.sku_id, "quantity": u.quantity} for u in ups]}))
        failed = {f["id"]: f["message"] for f in d["failed"]}
        out += [ItemResult(key=u.sku_id, ok=u.sku_id not in failed, message=failed.get(u.sku_id))
                for u in ups]
    return out


def _order(o: dict[str, Any]) -> Order:
    return Order(remote_id=o["id"], status=o["status"], currency="GBP", fulfilled_by=o["fulfilled_by"],
                 shipping_label_by=o.get("label_by", "seller"),
                 released=o["released"], package_ids=[p["id"] for p in o["packages"]],
                 lines=[OrderLine(remote_id=ln["id"], product_id=ln["product_id"], variant_id=ln["sku_id"],
                                  sku=ln["seller_sku"], quantity=ln["quantity"],
                                  unit_price=Money(amount=ln["price"], currency="GBP"),
                                  package_id=o["packages"][0]["id"]) for ln in o["lines"]],
                 shipping=Money(amount="2.99", currency="GBP"))


@hookimpl
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    after = int(cursor or 0)
    d = check_response(_client(connection).get("/orders", params={"after": after}))
    if d["orders"]:
        yield OrderPage(orders=[_order(o) for o in d["orders"]], cursor=str(d["max_seq"]))


@hookimpl
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    d = check_response(_client(connection).get("/orders", params={"ids": ",".join(order_ids)}))
    return [_order(o) for o in d["orders"]]


@hookimpl
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    return check_response(_client(connection).post(f"/orders/{order_id}/cancel"))["cancelled"]


@hookimpl
def shipping_providers(connection: Connection, order_id: str | None) -> list[ShippingProvider]:
    return [ShippingProvider(**p) for p in check_response(_client(connection).get("/providers"))["providers"]]


@hookimpl
def push_tracking(connection: Connection, push: TrackingPush) -> TrackingResult:
    provider = push.provider_id
    if not provider:
        match = [p for p in PROVIDERS if p["name"].lower() == push.carrier.lower()]
        if not match:
            raise Rejected(f"carrier '{push.carrier}' matches no shipping provider: map it to one of "
                           f"{', '.join(p['name'] for p in PROVIDERS)}", code="unmapped_carrier")
        provider = match[0]["id"]
    d = check_response(_client(connection).post(
        f"/orders/{push.order_id}/packages/{push.package_id}/tracking",
        json={"tracking_number": push.tracking_number, "provider_id": provider}))
    return TrackingResult(order_id=push.order_id, package_id=push.package_id,
                          tracking_number=push.tracking_number, pushed=d["changed"])


@hookimpl
def receive_webhook(connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    if request.header("X-Fake-Signature") != sign(request.body):
        raise WebhookRejected("fakechannel: bad webhook signature")
    data = _payload(request.body, "fakechannel")
    return WebhookDelivery(delivery_id=data.get("delivery_id"), store_remote_id="shop-1",
                           events=[WebhookEvent(kind=data["kind"], remote_ids=data.get("ids", []))])


@hookimpl
def sandbox(options: dict[str, Any]) -> FakeChannelSandbox:
    return FakeChannelSandbox(options)


class FakeChannelSandbox(FakeSandboxBase):
    """In-memory fake channel API with one GB shop."""

    CATEGORIES = [
        {"id": "100", "name": "Clothing", "parent_id": None, "is_leaf": False, "path": ["Clothing"]},
        {"id": "101", "name": "T-shirts", "parent_id": "100", "is_leaf": True, "path": ["Clothing", "T-shirts"]},
        {"id": "200", "name": "Mugs", "parent_id": None, "is_leaf": True, "path": ["Mugs"]},
    ]
    ATTRIBUTES = {"101": [{"id": "a1", "name": "Material", "required": True, "custom": False,
                           "values": [{"id": "v1", "name": "Cotton"}, {"id": "v2", "name": "Linen"}]}],
                  "200": []}

    def __init__(self, options: dict[str, Any]) -> None:
        routes = [
            Route("/shop", self._shop), Route("/categories", self._categories),
            Route("/categories/{cid}/attributes", self._attributes), Route("/recommend", self._recommend),
            Route("/skus", self._skus), Route("/products", self._products, methods=["GET", "POST"]),
            Route("/products/{pid}", self._update, methods=["PUT"]),
            Route("/products/{pid}/deactivate", self._deactivate, methods=["POST"]),
            Route("/products/{pid}/inventory", self._inventory, methods=["POST"]),
            Route("/orders", self._orders), Route("/orders/{oid}/cancel", self._cancel, methods=["POST"]),
            Route("/orders/{oid}/packages/{pkg}/tracking", self._tracking, methods=["POST"]),
            Route("/providers", self._providers),
        ]
        super().__init__(routes, options)
        self.products_: dict[str, dict[str, Any]] = {}
        self.orders_: dict[str, dict[str, Any]] = {}
        self.seq = 0

    # ChannelSandbox ---------------------------------------------------------------------
    def hold_clock(self, at: float | None) -> None:
        """Nothing to hold: the fake orders changes by a sequence number, not by a clock."""

    def sample_webhook(self) -> WebhookRequest:
        return sample_webhook("order", ["T1000"])

    def shops(self) -> list[dict[str, Any]]:
        return [{"id": "shop-1", "name": "Fake GB shop", "region": "GB", "currency": "GBP"}]

    def products(self, shop_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(json.dumps(p)) for p in self.products_.values()]

    def order(self, order_id: str) -> dict[str, Any]:
        return self.orders_[order_id]

    def create_order(self, shop_id: str, lines: list[tuple[str, int]], **kw: Any) -> str:
        with self.lock:
            oid = f"T{len(self.orders_) + 1000}"
            rows = []
            for i, (sku, qty) in enumerate(lines):
                p, s = next((p, s) for p in self.products_.values() for s in p["skus"] if s["seller_sku"] == sku)
                rows.append({"id": f"{oid}-{i}", "product_id": p["id"], "sku_id": s["id"],
                             "seller_sku": sku, "quantity": qty, "price": s["price"]})
            self.seq += 1
            self.orders_[oid] = {"id": oid, "status": "awaiting_shipment", "lines": rows, "seq": self.seq,
                                 "fulfilled_by": kw.get("fulfilled_by", "seller"),
                                 "label_by": kw.get("label_by", "seller"),
                                 "released": kw.get("released", True),
                                 "packages": [{"id": f"PKG-{oid}", "tracking": None, "provider": None}]}
            return oid

    def cancel_order(self, order_id: str) -> None:
        with self.lock:
            self.seq += 1
            self.orders_[order_id].update(status="cancelled", seq=self.seq)

    # routes ----------------------------------------------------------------------------
    async def _shop(self, r: Request) -> JSONResponse:
        return JSONResponse({"id": "shop-1", "name": "Fake GB shop", "currency": "GBP", "region": "GB"})

    async def _categories(self, r: Request) -> JSONResponse:
        return JSONResponse({"categories": self.CATEGORIES})

    async def _attributes(self, r: Request) -> JSONResponse:
        return JSONResponse({"attributes": self.ATTRIBUTES.get(r.path_params["cid"], [])})

    async def _recommend(self, r: Request) -> JSONResponse:
        title = r.query_params.get("title", "").lower()
        cat = self.CATEGORIES[2] if "mug" in title else self.CATEGORIES[1]
        return JSONResponse({"category": cat})

    async def _skus(self, r: Request) -> JSONResponse:
        wanted = set(r.query_params.get("seller_sku", "").split(","))
        with self.lock:
            out = [{"remote_product_id": p["id"], "remote_sku_id": s["id"], "seller_sku": s["seller_sku"],
                    "status": p["status"]} for p in self.products_.values() for s in p["skus"]
                   if s["seller_sku"] in wanted]
        return JSONResponse({"skus": out})

    def _apply(self, p: dict[str, Any], body: dict[str, Any]) -> JSONResponse | None:
        for a in self.ATTRIBUTES.get(body["category_id"], []):
            if a["required"] and not body["attributes"].get(a["id"]):
                return JSONResponse({"code": "12052048", "message": f"attribute {a['name']} is required"}, 422)
        if "REJECT" in body["title"]:
            return JSONResponse({"code": "12019000", "message": "title violates the listing policy"}, 422)
        old = {s["seller_sku"]: s["id"] for s in p.get("skus", [])}
        p.update(title=body["title"], description=body["description"], category_id=body["category_id"])
        p["skus"] = [{"id": old.get(s["seller_sku"]) or f"{p['id']}-{i}", "seller_sku": s["seller_sku"],
                      "price": s["price"], "quantity": s["quantity"]} for i, s in enumerate(body["skus"])]
        return None

    async def _products(self, r: Request) -> JSONResponse:
        if r.method == "GET":
            ids = r.query_params.get("ids")
            with self.lock:
                rows = [p for p in self.products_.values() if ids is None or p["id"] in ids.split(",")]
            return JSONResponse({"products": rows})
        body = await r.json()
        with self.lock:
            taken = {s["seller_sku"] for p in self.products_.values() for s in p["skus"]}
            dup = [s["seller_sku"] for s in body["skus"] if s["seller_sku"] in taken]
            if dup:
                return JSONResponse({"code": "12052217", "message": f"seller SKU {dup[0]} exists"}, 409)
            pid = f"TP{len(self.products_) + 1}"
            p: dict[str, Any] = {"id": pid, "status": "live"}
            err = self._apply(p, body)
            if err:
                return err
            self.products_[pid] = p
        return JSONResponse(p)

    async def _update(self, r: Request) -> JSONResponse:
        body = await r.json()
        with self.lock:
            p = self.products_[r.path_params["pid"]]
            err = self._apply(p, body)
            if err:
                return err
            p["status"] = "live"
        return JSONResponse(p)

    async def _deactivate(self, r: Request) -> JSONResponse:
        with self.lock:
            p = self.products_[r.path_params["pid"]]
            p["status"] = "deactivated"
        return JSONResponse(p)

    async def _inventory(self, r: Request) -> JSONResponse:
        body = await r.json()
        failed = []
        with self.lock:
            p = self.products_[r.path_params["pid"]]
            skus = {s["id"]: s for s in p["skus"]}
            for s in body["skus"]:
                if s["id"] in skus:
                    skus[s["id"]]["quantity"] = s["quantity"]
                else:
                    failed.append({"id": s["id"], "message": "sku not found"})
        return JSONResponse({"failed": failed})

    async def _orders(self, r: Request) -> JSONResponse:
        q = r.query_params
        with self.lock:
            rows = list(self.orders_.values())
            if "ids" in q:
                rows = [o for o in rows if o["id"] in q["ids"].split(",")]
            else:
                rows = [o for o in rows if o["seq"] > int(q.get("after", 0))]
            return JSONResponse({"orders": rows, "max_seq": self.seq})

    async def _cancel(self, r: Request) -> JSONResponse:
        with self.lock:
            o = self.orders_[r.path_params["oid"]]
            was = o["status"] != "cancelled"
            self.seq += 1
            o.update(status="cancelled", seq=self.seq)
        return JSONResponse({"cancelled": was})

    async def _tracking(self, r: Request) -> JSONResponse:
        body = await r.json()
        with self.lock:
            o = self.orders_[r.path_params["oid"]]
            pkg = next(p for p in o["packages"] if p["id"] == r.path_params["pkg"])
            if body["provider_id"] not in {p["id"] for p in PROVIDERS}:
                return JSONResponse({"code": "21011001", "message": "unknown provider"}, 422)
            changed = pkg["tracking"] != body["tracking_number"]
            pkg.update(tracking=body["tracking_number"], provider=body["provider_id"])
            if changed:
                self.seq += 1
                o.update(status="in_transit", seq=self.seq)
        return JSONResponse({"changed": changed})

    async def _providers(self, r: Request) -> JSONResponse:
        return JSONResponse({"providers": PROVIDERS})
