"""The Tiny Shop sandbox: an emulator of the platform's API on bridge's sandbox kit.

Serve it with ``bridge sandbox tinyshop --port N``. It answers with the platform's real shapes
and behaves as its reference says, also where that is hard on bridge (rate limits, lost answers,
review states): a test that passes only because the sandbox is kinder than the platform is a
false pass. The sandbox kit (``self.kit``) brings faults, latency, request statistics and the
control API under ``/_sandbox``; the methods below are what the connector test kit drives
(``bridge.testing.protocol``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge.models import Order, Product, Tracking, WebhookRequest
from bridge.sandboxing import SandboxKit, Subscription

TOKEN = "sandbox-tinyshop-token"
WEBHOOK_SECRET = "sandbox-tinyshop-webhook-secret"
SIGNATURE = "X-Tiny-Signature"
PAGE = 10


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    """Tiny Shop signs a delivery with the hex HMAC-SHA256 of its raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Sandbox:
    """In-memory Tiny Shop: add the API's routes in :meth:`routes`."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.kit = SandboxKit(self, platform="tinyshop", kind="ecommerce",
                              latency_ms=float(options.get("latency_ms", 0)))
        self.stats = self.kit.stats
        self.app = self.kit.wrap(Starlette(routes=self.routes()))
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.products: dict[str, dict[str, Any]] = {}
            self.orders_: dict[str, dict[str, Any]] = {}
            self.subscriptions_: list[Subscription] = []
            self.held_at: float | None = None
            self.next_id = 1

    def now(self) -> int:
        """The store's clock in whole seconds (Tiny Shop stamps updates to the second)."""
        return int(self.held_at if self.held_at is not None else time.time())

    def _id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def routes(self) -> list[Route]:
        """The Tiny Shop API: JSON, bearer token, pages of ``limit`` with a ``page_token``."""
        return [Route("/shop", self._shop), Route("/products", self._products),
                Route("/inventory", self._inventory),
                Route("/orders", self._orders, methods=["GET", "POST"]),
                Route("/orders/{oid}/cancel", self._cancel, methods=["POST"]),
                Route("/orders/{oid}/fulfillments", self._fulfillments),
                Route("/webhooks", self._webhooks, methods=["GET", "POST"])]

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    def _guard(self, request: Request, route: str) -> JSONResponse | None:
        self.stats.record(request.method, route)
        if not self.authorized(request):
            return JSONResponse({"error": "invalid token"}, status_code=401)
        return None

    async def _shop(self, request: Request) -> JSONResponse:
        if (refused := self._guard(request, "/shop")) is not None:
            return refused
        return JSONResponse({"id": "tinyshop-store-1", "name": "Tiny Shop sandbox store",
                             "currency": "GBP"})

    async def _products(self, request: Request) -> JSONResponse:
        if (refused := self._guard(request, "/products")) is not None:
            return refused
        q = request.query_params
        with self.lock:
            if "ids" in q:
                wanted = q["ids"].split(",")
                return JSONResponse({"products": [self.products[i] for i in wanted if i in self.products]})
            since = int(q.get("updated_at_min", 0))  # inclusive, whole seconds
            rows = sorted((p for p in self.products.values() if p["updated_at"] >= since),
                          key=lambda p: (p["updated_at"], int(p["id"][1:])))
            start, limit = int(q.get("page_token") or 0), min(int(q.get("limit", PAGE)), PAGE)
            chunk = rows[start:start + limit]
            more = start + limit < len(rows)
            return JSONResponse({"products": chunk, "next_page_token": str(start + limit) if more else None})

    async def _inventory(self, request: Request) -> JSONResponse:
        if (refused := self._guard(request, "/inventory")) is not None:
            return refused
        wanted = set(request.query_params.get("variant_ids", "").split(",")) - {""}
        with self.lock:
            rows = [{"product_id": p["id"], "variant_id": v["id"], "sku": v["sku"], "available": v["available"]}
                    for p in self.products.values() for v in p["variants"] if not wanted or v["id"] in wanted]
        return JSONResponse({"levels": rows})

    async def _orders(self, request: Request) -> JSONResponse:
        if (refused := self._guard(request, "/orders")) is not None:
            return refused
        if request.method == "GET":
            q = request.query_params
            with self.lock:
                rows = list(self.orders_.values())
            if "source_order_id" in q:
                rows = [o for o in rows if o["source_order_id"] == q["source_order_id"]]
            if "ids" in q:
                rows = [o for o in rows if o["id"] in q["ids"].split(",")]
            if "updated_at_min" in q:
                rows = [o for o in rows if o["updated_at"] >= int(q["updated_at_min"])]
            return JSONResponse({"orders": rows})
        body = await request.json()
        with self.lock:
            lines = []
            for ln in body.get("lines") or []:
                v = self._variant(ln.get("variant_id", ""))
                if v is None:
                    return JSONResponse({"error": f"variant {ln.get('variant_id')} does not exist"}, 422)
                lines.append({"variant_id": v["id"], "quantity": int(ln["quantity"]),
                              "price": ln.get("price") or v["price"]})
            if not lines:
                return JSONResponse({"error": "an order needs lines"}, 422)
            for ln in lines:
                self._variant(ln["variant_id"])["available"] -= ln["quantity"]  # type: ignore[index]
            oid = self._id("o")
            shipping = body.get("shipping") or "0.00"
            total = body.get("total") or str(sum(Decimal(ln["price"]) * ln["quantity"] for ln in lines)
                                              + Decimal(shipping))
            self.orders_[oid] = {"id": oid, "status": "paid", "source_order_id": body.get("source_order_id"),
                                 "email": body.get("email"), "name": body.get("name"), "lines": lines,
                                 "shipping": shipping, "total": total, "currency": "GBP",
                                 "fulfillments": [], "updated_at": self.now()}
        return JSONResponse(self.orders_[oid], 201)

    async def _cancel(self, request: Request) -> JSONResponse:
        if (refused := self._guard(request, "/orders/{id}/cancel")) is not None:
            return refused
        with self.lock:
            o = self.orders_.get(request.path_params["oid"])
            if o is None:
                return JSONResponse({"error": "no such order"}, 404)
            if o["status"] == "cancelled":
                return JSONResponse({"cancelled": False})
            if o["fulfillments"]:
                return JSONResponse({"error": "a fulfilled order cannot be cancelled"}, 409)
            self.cancel_order(o["id"])
        return JSONResponse({"cancelled": True})

    async def _fulfillments(self, request: Request) -> JSONResponse:
        if (refused := self._guard(request, "/orders/{id}/fulfillments")) is not None:
            return refused
        o = self.orders_.get(request.path_params["oid"])
        return JSONResponse({"fulfillments": list(o["fulfillments"]) if o else []})

    async def _webhooks(self, request: Request) -> JSONResponse:
        if (refused := self._guard(request, "/webhooks")) is not None:
            return refused
        if request.method == "POST":
            url = (await request.json())["url"]
            with self.lock:
                found = [s for s in self.subscriptions_ if s.address == url]
                if not found:
                    found = [Subscription(id=self._id("w"), topic="*", address=url)]
                    self.subscriptions_.append(found[0])
            return JSONResponse({"id": found[0].id}, 201)
        return JSONResponse({"webhooks": [{"id": s.id, "url": s.address} for s in self.subscriptions_]})

    # ------------------------------------------------------------------ every sandbox

    def credentials(self) -> dict[str, Any]:
        return {"token": TOKEN}

    def app_settings(self) -> dict[str, Any]:
        return {}

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        return {"base_url": server_url}

    def subscriptions(self) -> list[Subscription]:
        return list(self.subscriptions_)

    def fail_next(self, count: int, status: int = 503) -> None:
        self.kit.fail_next(count, status)

    def set_latency(self, ms: float) -> None:
        self.kit.set_latency(ms)

    def sample_webhook(self) -> WebhookRequest:
        """A delivery signed exactly as Tiny Shop signs them."""
        body = json.dumps({"topic": "products/update", "ids": sorted(self.products)[:1] or ["p1"]}).encode()
        return WebhookRequest(headers={"Content-Type": "application/json", SIGNATURE: sign(body)}, body=body)

    # ------------------------------------------------------------------ what the kit drives

    def _variant(self, vid_or_sku: str) -> dict[str, Any] | None:
        for p in self.products.values():
            for v in p["variants"]:
                if vid_or_sku in (v["id"], v["sku"]):
                    return v
        return None

    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        ids = []
        with self.lock:
            for _ in range(products):
                pid = self._id("p")
                self.products[pid] = {
                    "id": pid, "title": f"Tiny product {pid}", "updated_at": self.now(),
                    "variants": [{"id": f"{pid}-v{j}", "sku": f"TINY-{pid}-{j}", "price": f"{9 + (seed + j) % 7}.99",
                                  "available": 5 + (seed + j) % 10, "size": ["S", "M", "L"][j % 3]}
                                 for j in range(1 + seed % max(1, variants))]}
                ids.append(pid)
        return ids

    def catalog(self) -> list[Product]:
        from bridge_tinyshop.mapping import product

        with self.lock:
            return [product(p) for p in self.products.values()]

    def edit_product(self, product_id: str, title: str) -> None:
        with self.lock:
            self.products[product_id].update(title=title, updated_at=self.now())

    def hold_clock(self, at: float | None) -> None:
        self.held_at = at

    def set_quantity(self, sku: str, quantity: int) -> None:
        with self.lock:
            v = self._variant(sku)
            if v is None:
                raise KeyError(sku)
            v["available"] = quantity

    def quantity(self, sku: str) -> int:
        v = self._variant(sku)
        if v is None:
            raise KeyError(sku)
        return int(v["available"])

    def orders(self) -> list[Order]:
        from bridge_tinyshop.mapping import order

        with self.lock:
            return [order(o) for o in self.orders_.values()]

    def fulfill_order(self, order_id: str, tracking: Tracking) -> str:
        with self.lock:
            o = self.orders_[order_id]
            fid = self._id("f")
            o["fulfillments"].append({"id": fid, "tracking_number": tracking.number, "carrier": tracking.carrier,
                                      "url": tracking.url})
            o.update(status="fulfilled", updated_at=self.now())
            return fid

    def cancel_order(self, order_id: str) -> None:
        with self.lock:
            o = self.orders_[order_id]
            if o["status"] != "cancelled":
                for ln in o["lines"]:
                    self._variant(ln["variant_id"])["available"] += ln["quantity"]  # type: ignore[index]
            o.update(status="cancelled", updated_at=self.now())
