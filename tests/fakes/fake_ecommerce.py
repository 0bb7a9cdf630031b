"""``fakeshop``: a fake eCommerce platform (connector + HTTP sandbox) for core tests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge import hookimpl
from bridge.connection import Connection
from bridge.errors import WebhookRejected
from bridge.models import (
    CreatedOrder,
    Fulfillment,
    Image,
    InventoryLevel,
    Money,
    Order,
    OrderDraft,
    OrderLine,
    PlatformInfo,
    Prerequisite,
    Product,
    ProductPage,
    Setting,
    StoreInfo,
    Tracking,
    Variant,
    WebhookDelivery,
    WebhookEvent,
    WebhookRequest,
)
from tests.fakes.common import FakeSandboxBase, check_response, sample_webhook, sign
from tests.fakes.common import webhook_payload as _payload

PAGE = 10


# ============================================================================ connector


def _client(connection: Connection):  # type: ignore[no-untyped-def]
    return connection.http_client(connection.base_url or "https://api.fakeshop.invalid",
                                  headers={"Authorization": f"Bearer {connection.secret('token')}"})


@hookimpl
def describe_platform() -> PlatformInfo:
    return PlatformInfo(name="fakeshop", kind="ecommerce", display_name="Fake Shop",
                        settings=[Setting(name="token", secret=True, required=True, help="API token")],
                        webhooks=True)


@hookimpl
def connect(connection: Connection) -> StoreInfo:
    data = check_response(_client(connection).get("/shop"))
    return StoreInfo(remote_id=data["id"], name=data["name"], currency=data["currency"],
                     domain="fakeshop.test", timezone="Europe/London")


@hookimpl
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    return [Prerequisite(key="api", title="API reachable", ok=True)]


def _product(p: dict[str, Any]) -> Product:
    return Product(
        remote_id=p["id"], title=p["title"], description_html=p["body"], vendor="Fake",
        product_type=p["type"], tags=p["tags"], status=p["status"], options=["Size"],
        variants=[Variant(remote_id=v["id"], sku=v["sku"], title=v["size"], options={"Size": v["size"]},
                          price=Money(amount=v["price"], currency="GBP"), quantity=v["qty"],
                          weight_g=Decimal(250)) for v in p["variants"]],
        images=[Image(url=u, position=n) for n, u in enumerate(p.get("images", []))], weight_g=Decimal(250),
    )


@hookimpl
def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    state = json.loads(cursor) if cursor else {"after": 0, "page": 0}
    client = _client(connection)
    while True:
        data = check_response(client.get("/products", params=state))
        if not data["products"]:
            return
        top = max(p["seq"] for p in data["products"])
        if data["next_page"] is None:
            state = {"after": max(top, data["max_seq"]), "page": 0}
        else:
            state = {"after": state["after"], "page": data["next_page"]}
        yield ProductPage(products=[_product(p) for p in data["products"]], cursor=json.dumps(state))
        if data["next_page"] is None:
            return


@hookimpl
def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    data = check_response(_client(connection).get("/products", params={"ids": ",".join(product_ids)}))
    return [_product(p) for p in data["products"]]


@hookimpl
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    params = {"variant_ids": ",".join(variant_ids)} if variant_ids is not None else {}
    for row in check_response(_client(connection).get("/inventory", params=params))["levels"]:
        yield InventoryLevel(product_id=row["product_id"], variant_id=row["variant_id"],
                             sku=row["sku"], quantity=row["qty"], tracked=row.get("tracked", True))


def _order(o: dict[str, Any]) -> Order:
    def money(v: Any) -> Money | None:
        return None if v is None else Money(amount=v, currency="GBP")

    return Order(remote_id=o["id"], status=o["status"], currency="GBP", source_order_id=o["source_id"],
                 lines=[OrderLine(remote_id=str(i), variant_id=ln["variant_id"], quantity=ln["quantity"],
                                  unit_price=Money(amount=ln["price"], currency="GBP"))
                        for i, ln in enumerate(o["lines"])],
                 buyer_email=o.get("buyer_email"), buyer_name=o.get("buyer_name"),
                 shipping=money(o.get("shipping")), total=money(o.get("total")))


@hookimpl
def find_order(connection: Connection, source_order_id: str) -> str | None:
    data = check_response(_client(connection).get("/orders", params={"source_id": source_order_id}))
    return data["orders"][0]["id"] if data["orders"] else None


@hookimpl
def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    existing = find_order(connection, draft.source_order_id)
    if existing:
        return CreatedOrder(remote_id=existing, existed=True)
    body = {"source_id": draft.source_order_id, "note": draft.note, "buyer_email": draft.buyer_email,
            "buyer_name": draft.buyer_name, "shipping": str(draft.shipping.amount),
            "total": str(draft.total.amount),
            "lines": [{"variant_id": ln.variant_id, "quantity": ln.quantity,
                       "price": str(ln.unit_price.amount)} for ln in draft.lines]}
    data = check_response(_client(connection).post("/orders", json=body), item=draft.source_order_id)
    return CreatedOrder(remote_id=data["id"], number=data["id"])


@hookimpl
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    data = check_response(_client(connection).get("/orders", params={"ids": ",".join(order_ids)}))
    return [_order(o) for o in data["orders"]]


@hookimpl
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    return check_response(_client(connection).post(f"/orders/{order_id}/cancel"))["cancelled"]


@hookimpl
def list_fulfillments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    out = []
    for oid in order_ids:
        for f in check_response(_client(connection).get(f"/orders/{oid}/fulfillments"))["fulfillments"]:
            out.append(Fulfillment(remote_id=f["id"], order_id=oid,
                                   tracking=[Tracking(number=f["number"], carrier=f["carrier"])]))
    return out


@hookimpl
def receive_webhook(connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    if request.header("X-Fake-Signature") != sign(request.body):
        raise WebhookRejected("fakeshop: bad webhook signature")
    data = _payload(request.body, "fakeshop")
    return WebhookDelivery(delivery_id=data.get("delivery_id"), store_remote_id="fakeshop-1",
                           events=[WebhookEvent(kind=data["kind"], remote_ids=data.get("ids", []))])


@hookimpl
def sandbox(options: dict[str, Any]) -> FakeShopSandbox:
    return FakeShopSandbox(options)


# ============================================================================ sandbox


class FakeShopSandbox(FakeSandboxBase):
    """In-memory fake eCommerce API."""

    def __init__(self, options: dict[str, Any]) -> None:
        routes = [
            Route("/shop", self._shop), Route("/products", self._products),
            Route("/inventory", self._inventory),
            Route("/orders", self._orders, methods=["GET", "POST"]),
            Route("/orders/{oid}/cancel", self._cancel, methods=["POST"]),
            Route("/orders/{oid}/fulfillments", self._fulfillments),
        ]
        super().__init__(routes, options)
        self.seq = 0
        self.listed_rows = 0
        """Products served by paged listing (not by id), for tests of where a pass resumes."""
        self.held_at: float | None = None
        self.products_: dict[str, dict[str, Any]] = {}
        self.orders_: dict[str, dict[str, Any]] = {}
        self.seed_catalog(int(options.get("seed", 0)), int(options.get("variants", 1)))

    def now(self) -> int:
        """The sandbox clock in whole seconds (as many platforms stamp updates)."""
        return int(self.held_at if self.held_at is not None else time.time())

    def _touch(self, product: dict[str, Any] | None = None) -> int:
        self.seq += 1
        if product is not None:
            product.update(seq=self.seq, updated=self.now())
        return self.seq

    # EcommerceSandbox -------------------------------------------------------------------
    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        ids = []
        with self.lock:
            start = len(self.products_)
            for i in range(start, start + products):
                pid = f"p{i + 1}"
                n = 1 + (i % max(1, variants))
                self.products_[pid] = {
                    "id": pid, "title": f"Fake product {i + 1}", "body": f"<p>Product {i + 1}</p>",
                    "type": "Shirts" if i % 2 == 0 else "Mugs", "tags": ["fake"], "status": "active",
                    "seq": self._touch(), "updated": self.now(),
                    "variants": [{"id": f"{pid}v{j + 1}", "sku": f"SKU-{i + 1}-{j + 1}",
                                  "size": ["S", "M", "L", "XL"][j % 4], "price": f"{10 + i % 7}.50",
                                  "qty": 5 + (i + j) % 10} for j in range(n)],
                }
                ids.append(pid)
        return ids

    def _variant(self, sku: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for p in self.products_.values():
            for v in p["variants"]:
                if v["sku"] == sku or v["id"] == sku:
                    return p, v
        raise KeyError(sku)

    def set_quantity(self, sku: str, quantity: int) -> None:
        with self.lock:
            p, v = self._variant(sku)
            v["qty"] = quantity
            self._touch(p)

    def quantity(self, sku: str) -> int:
        return self._variant(sku)[1]["qty"]

    def fulfill_order(self, order_id: str, tracking: Tracking) -> str:
        with self.lock:
            o = self.orders_[order_id]
            fid = f"f{len(o['fulfillments']) + 1}-{order_id}"
            o["fulfillments"].append({"id": fid, "number": tracking.number, "carrier": tracking.carrier})
            return fid

    def cancel_order(self, order_id: str) -> None:
        with self.lock:
            self.orders_[order_id]["status"] = "cancelled"

    def orders(self) -> list[Order]:
        return [_order(o) for o in self.orders_.values()]

    # what the connector test kit reads and drives (bridge.testing.protocol) ----------------
    def catalog(self) -> list[Product]:
        with self.lock:
            return [_product(p) for p in self.products_.values()]

    def edit_product(self, product_id: str, title: str) -> None:
        with self.lock:
            p = self.products_[product_id]
            p["title"] = title
            self._touch(p)

    def hold_clock(self, at: float | None) -> None:
        self.held_at = at

    def sample_webhook(self) -> WebhookRequest:
        return sample_webhook("product", [next(iter(self.products_), "p1")])

    # routes -------------------------------------------------------------------------------
    async def _shop(self, request: Request) -> JSONResponse:
        return JSONResponse({"id": "fakeshop-1", "name": "Fake Shop", "currency": "GBP"})

    async def _products(self, request: Request) -> JSONResponse:
        q = request.query_params
        with self.lock:
            if "ids" in q:
                ids = q["ids"].split(",")
                return JSONResponse({"products": [self.products_[i] for i in ids if i in self.products_]})
            after, page = int(q.get("after", 0)), int(q.get("page", 0))
            if "updated_after" in q:  # whole seconds, strictly after (as some platforms filter)
                since = int(q["updated_after"])
                rows = sorted((p for p in self.products_.values() if p["updated"] > since),
                              key=lambda p: (p["updated"], p["seq"]))
            else:
                rows = sorted((p for p in self.products_.values() if p["seq"] > after), key=lambda p: p["seq"])
            chunk = rows[page * PAGE:(page + 1) * PAGE]
            self.listed_rows += len(chunk)
            more = len(rows) > (page + 1) * PAGE
            return JSONResponse({"products": chunk, "next_page": page + 1 if more else None,
                                 "max_seq": self.seq, "now": self.now()})

    async def _inventory(self, request: Request) -> JSONResponse:
        wanted = request.query_params.get("variant_ids")
        ids = set(wanted.split(",")) if wanted else None
        with self.lock:
            levels = [{"product_id": p["id"], "variant_id": v["id"], "sku": v["sku"], "qty": v["qty"],
                       "tracked": v.get("tracked", True)}
                      for p in self.products_.values() for v in p["variants"]
                      if ids is None or v["id"] in ids]
        return JSONResponse({"levels": levels})

    async def _orders(self, request: Request) -> JSONResponse:
        if request.method == "GET":
            q = request.query_params
            with self.lock:
                rows = list(self.orders_.values())
            if "source_id" in q:
                rows = [o for o in rows if o["source_id"] == q["source_id"]]
            if "ids" in q:
                rows = [o for o in rows if o["id"] in q["ids"].split(",")]
            return JSONResponse({"orders": rows})
        body = await request.json()
        with self.lock:
            for ln in body["lines"]:
                try:
                    self._variant(ln["variant_id"])
                except KeyError:
                    return JSONResponse({"code": "unknown_variant",
                                         "message": f"variant {ln['variant_id']} does not exist"}, 422)
            oid = f"o{len(self.orders_) + 1}"
            lines = []
            for ln in body["lines"]:
                _p, v = self._variant(ln["variant_id"])
                v["qty"] -= ln["quantity"]
                # a line without a price is charged at the store's price, as platforms do
                lines.append({**ln, "price": ln.get("price") or v["price"]})
            shipping = body.get("shipping")
            total = body.get("total") or str(sum(Decimal(ln["price"]) * ln["quantity"] for ln in lines)
                                              + Decimal(shipping or 0))
            self.orders_[oid] = {"id": oid, "source_id": body["source_id"], "lines": lines,
                                 "status": "processing", "fulfillments": [], "buyer_email": body.get("buyer_email"),
                                 "buyer_name": body.get("buyer_name"), "shipping": shipping, "total": total}
        return JSONResponse({"id": oid}, 201)

    async def _cancel(self, request: Request) -> JSONResponse:
        with self.lock:
            o = self.orders_[request.path_params["oid"]]
            was = o["status"] != "cancelled"
            o["status"] = "cancelled"
        return JSONResponse({"cancelled": was})

    async def _fulfillments(self, request: Request) -> JSONResponse:
        with self.lock:
            o = self.orders_[request.path_params["oid"]]
            return JSONResponse({"fulfillments": list(o["fulfillments"])})
