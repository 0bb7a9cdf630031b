"""The control API every sandbox serves under ``/_sandbox`` (driven by ``bridge sandbox-ctl``).

Common to every sandbox (implemented here once, on :class:`~bridge.sandboxing.kit.SandboxKit`):

====================================  =========================================================
``GET  /_sandbox``                    platform, kind and how to connect (settings, credentials)
``POST /_sandbox/seed``               ``{"products": N, "variants": M, "seed": S}`` -> ids
``POST /_sandbox/faults``             inject a fault (the fields of :class:`Fault`)
``GET  /_sandbox/faults``             the faults still waiting
``DELETE /_sandbox/faults``           clear them
``POST /_sandbox/latency``            ``{"ms": 250}``
``GET  /_sandbox/subscriptions``      webhook subscriptions the platform holds
``GET  /_sandbox/deliveries``         webhook deliveries attempted (address, topic, status)
``POST /_sandbox/webhook-faults``     ``{"kind": "drop" | "duplicate", "count": N, "topic": T}``
``GET  /_sandbox/stats``              request statistics, pending faults, latency
``POST /_sandbox/reset``              forget everything; ``{"products": N, ...}`` seeds again
====================================  =========================================================

Through the sandbox's own protocol (:class:`EcommerceSandbox` or :class:`ChannelSandbox`):

* eCommerce: ``POST /_sandbox/stock`` ``{"sku", "quantity"}``, ``GET /_sandbox/stock/{sku}``,
  ``GET /_sandbox/orders``, ``POST /_sandbox/orders/{id}/fulfil`` ``{"number", "carrier",
  "url"}``, ``POST /_sandbox/orders/{id}/cancel``, ``POST /_sandbox/orders/{id}/cancel-line``
  ``{"sku", "quantity"}`` (the merchant takes units off), ``GET /_sandbox/orders/{id}/refunds``;
* channel: ``GET /_sandbox/shops``, ``GET /_sandbox/products?shop_id=``, ``POST
  /_sandbox/orders`` ``{"shop_id", "lines": [{"sku", "quantity"}], ...}``, ``GET
  /_sandbox/orders/{id}``, ``POST /_sandbox/orders/{id}/cancel``, ``POST
  /_sandbox/orders/{id}/returns`` ``{"lines", "return_type", "status", "amount",
  "refund_shipping"}`` (a buyer's refund or return), ``POST /_sandbox/returns/{id}/advance``
  ``{"status"}``, ``POST /_sandbox/orders/{id}/cancel-lines`` ``{"lines"}`` (units cancelled
  while the order goes on).

Errors answer ``{"error": "..."}``: 400 for a bad request, 404 for an unknown SKU or order or an
act the sandbox's kind does not have, 409 when the sandbox refuses as its platform would (an
order already shipped cannot be cancelled).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge.sandboxing.faults import Fault

if TYPE_CHECKING:
    from bridge.sandboxing.kit import SandboxKit


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _int(body: dict[str, Any], name: str, default: int | None = None, lo: int = 0) -> int:
    value = body.get(name, default)
    if value is None:
        raise ControlError(400, f"'{name}' is required")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"'{name}' must be a whole number, got {value!r}") from None
    if number < lo:
        raise ControlError(400, f"'{name}' must be at least {lo}")
    return number


def _str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value in (None, ""):
        raise ControlError(400, f"'{name}' is required")
    return str(value)


def control_app(kit: SandboxKit) -> Starlette:
    """The control API of one sandbox (see the module docstring)."""
    sb = kit.sandbox

    def need(kind: str, act: str) -> None:
        if kit.kind != kind:
            other = "the channel (e.g. tiktokshop)" if kind == "channel" else "an eCommerce sandbox"
            mine = "an eCommerce" if kit.kind == "ecommerce" else "a channel"
            raise ControlError(404, f"the {kit.platform} sandbox is {mine} sandbox: {act} is done on {other}")

    def endpoint(fn: Callable[[Request, dict[str, Any]], Any]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            body: dict[str, Any] = {}
            raw = await request.body()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    return JSONResponse({"error": "the body is not JSON"}, 400)
                if not isinstance(body, dict):
                    return JSONResponse({"error": "the body must be a JSON object"}, 400)
            try:
                result = await run_in_threadpool(fn, request, body)
            except ControlError as exc:
                return JSONResponse({"error": exc.message}, exc.status)
            except KeyError as exc:
                return JSONResponse({"error": f"not found: {exc.args[0] if exc.args else exc!s}"}, 404)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
            except Exception as exc:  # the platform's own refusal (an ApiError of the sandbox)
                return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, 409)
            return JSONResponse(json.loads(json.dumps(result, default=str)))
        return run

    def info(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        base = f"{request.url.scheme}://{request.url.netloc}"
        return {"platform": kit.platform, "kind": kit.kind, "url": base,
                "control": base + "/_sandbox",
                "settings": sb.base_url_setting(base), "credentials": sb.credentials(),
                "app_settings": sb.app_settings()}

    def seed(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        products = _int(body, "products", lo=1)
        variants = _int(body, "variants", 1, lo=1)
        kw: dict[str, Any] = {"seed": _int(body, "seed", 0)}
        if body.get("shop_id"):
            kw["shop_id"] = str(body["shop_id"])
        return {"ids": sb.seed_catalog(products, variants, **kw)}

    def set_stock(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        need("ecommerce", "set-stock")
        sku = _str(body, "sku")
        sb.set_quantity(sku, _int(body, "quantity"))
        return {"sku": sku, "quantity": sb.quantity(sku)}

    def get_stock(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        need("ecommerce", "stock")
        sku = request.path_params["sku"]
        return {"sku": sku, "quantity": sb.quantity(sku)}

    def list_orders(request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        need("ecommerce", "listing the store's orders")
        return [o.model_dump(mode="json") for o in sb.orders()]

    def one_order(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        oid = request.path_params["order_id"]
        if kit.kind == "channel":
            return sb.order(oid)
        for order in sb.orders():
            if order.remote_id == oid:
                return order.model_dump(mode="json")
        raise KeyError(f"order {oid}")

    def _pairs(body: dict[str, Any]) -> list[tuple[str, int]]:
        lines = body.get("lines") or []
        if not isinstance(lines, list) or not lines:
            raise ControlError(400, "'lines' must list at least one {\"sku\", \"quantity\"}")
        return [(_str(line, "sku"), _int(line, "quantity", 1, lo=1)) for line in lines]

    def place_order(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        need("channel", "place-order")
        pairs = _pairs(body)
        shop_id = str(body.get("shop_id") or sb.shops()[0]["id"])
        kw = {k: body[k] for k in ("fulfilled_by", "released") if k in body}
        return {"order_id": sb.create_order(shop_id, pairs, **kw), "shop_id": shop_id}

    def cancel_order(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        oid = request.path_params["order_id"]
        sb.cancel_order(oid)
        return {"order_id": oid, "cancelled": True}

    def fulfil_order(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        need("ecommerce", "fulfil-order")
        from bridge.models import Tracking

        oid = request.path_params["order_id"]
        tracking = Tracking(number=_str(body, "number"), carrier=_str(body, "carrier"), url=body.get("url"))
        return {"order_id": oid, "fulfillment_id": sb.fulfill_order(oid, tracking),
                "number": tracking.number, "carrier": tracking.carrier}

    def _has(act: str, method: str) -> Callable[..., Any]:
        fn = getattr(sb, method, None)
        if fn is None:
            raise ControlError(404, f"the {kit.platform} sandbox cannot {act}")
        return fn

    def create_return(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        need("channel", "create-return")
        oid = request.path_params["order_id"]
        kw = {k: body[k] for k in ("return_type", "status", "amount", "refund_shipping") if k in body}
        return {"order_id": oid, "return_id": _has("create-return", "create_return")(oid, _pairs(body), **kw)}

    def advance_return(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        need("channel", "advance-return")
        rid = request.path_params["return_id"]
        return {"return_id": rid, "status": _has("advance-return", "advance_return")(rid, body.get("status"))}

    def cancel_lines(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        need("channel", "cancel-lines")
        oid = request.path_params["order_id"]
        return {"order_id": oid, "cancel_id": _has("cancel-lines", "cancel_lines")(oid, _pairs(body))}

    def cancel_line(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        need("ecommerce", "cancel-line")
        oid = request.path_params["order_id"]
        sku, qty = _str(body, "sku"), _int(body, "quantity", 1, lo=1)
        _has("cancel-line", "cancel_line")(oid, sku, qty)
        return {"order_id": oid, "sku": sku, "cancelled": qty}

    def refunds(request: Request, body: dict[str, Any]) -> Any:
        oid = request.path_params["order_id"]
        if kit.kind == "channel":
            return {"returns": _has("list returns", "returns")(oid),
                    "cancellations": _has("list cancellations", "cancellations")(oid)}
        return [{**r, "amount": str(r["amount"])} for r in _has("list refunds", "refunds")(oid)]

    def shops(request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        need("channel", "shops")
        return sb.shops()

    def products(request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        need("channel", "products")
        shop_id = request.query_params.get("shop_id") or sb.shops()[0]["id"]
        return sb.products(shop_id)

    def faults(request: Request, body: dict[str, Any]) -> Any:
        if request.method == "GET":
            return kit.faults.pending()
        if request.method == "DELETE":
            return {"cleared": kit.faults.clear()}
        return kit.inject(Fault.from_dict(body)).describe()

    def webhook_faults(request: Request, body: dict[str, Any]) -> Any:
        if kit.webhooks is None:
            raise ControlError(404, f"the {kit.platform} sandbox delivers no webhooks")
        if request.method == "POST":
            kit.webhooks.fail_next(str(body.get("kind") or ""), _int(body, "count", 1, lo=1),
                                   str(body["topic"]) if body.get("topic") else None)
        with kit.webhooks.lock:
            return [dict(f) for f in kit.webhooks.faults]

    def latency(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        ms = body.get("ms")
        try:
            kit.set_latency(float(ms))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ControlError(400, "'ms' must be a number of milliseconds") from None
        return {"latency_ms": kit.latency_ms}

    def subscriptions(request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [s.public() for s in sb.subscriptions()]

    def deliveries(request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        return kit.webhooks.deliveries() if kit.webhooks else []

    def stats(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return kit.snapshot()

    def reset(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        sb.reset()
        kit.reset()
        out: dict[str, Any] = {"reset": True}
        if body.get("products"):
            out.update(seed(request, body))
        return out

    P = "/_sandbox"
    return Starlette(routes=[
        Route(P, endpoint(info), methods=["GET"]),
        Route(P + "/seed", endpoint(seed), methods=["POST"]),
        Route(P + "/stock", endpoint(set_stock), methods=["POST"]),
        Route(P + "/stock/{sku:path}", endpoint(get_stock), methods=["GET"]),
        Route(P + "/orders", endpoint(list_orders), methods=["GET"]),
        Route(P + "/orders", endpoint(place_order), methods=["POST"]),
        Route(P + "/orders/{order_id:path}/cancel", endpoint(cancel_order), methods=["POST"]),
        Route(P + "/orders/{order_id:path}/fulfil", endpoint(fulfil_order), methods=["POST"]),
        Route(P + "/orders/{order_id:path}/returns", endpoint(create_return), methods=["POST"]),
        Route(P + "/orders/{order_id:path}/cancel-lines", endpoint(cancel_lines), methods=["POST"]),
        Route(P + "/orders/{order_id:path}/cancel-line", endpoint(cancel_line), methods=["POST"]),
        Route(P + "/orders/{order_id:path}/refunds", endpoint(refunds), methods=["GET"]),
        Route(P + "/returns/{return_id:path}/advance", endpoint(advance_return), methods=["POST"]),
        Route(P + "/orders/{order_id:path}", endpoint(one_order), methods=["GET"]),
        Route(P + "/shops", endpoint(shops), methods=["GET"]),
        Route(P + "/products", endpoint(products), methods=["GET"]),
        Route(P + "/faults", endpoint(faults), methods=["GET", "POST", "DELETE"]),
        Route(P + "/latency", endpoint(latency), methods=["POST"]),
        Route(P + "/webhook-faults", endpoint(webhook_faults), methods=["GET", "POST"]),
        Route(P + "/subscriptions", endpoint(subscriptions), methods=["GET"]),
        Route(P + "/deliveries", endpoint(deliveries), methods=["GET"]),
        Route(P + "/stats", endpoint(stats), methods=["GET"]),
        Route(P + "/reset", endpoint(reset), methods=["POST"]),
    ])
