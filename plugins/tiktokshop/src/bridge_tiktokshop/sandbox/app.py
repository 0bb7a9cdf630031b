"""The sandbox's ASGI app: API host paths (signed), auth host paths (token get/refresh) and the
seller authorization page, all in one Starlette app."""

from __future__ import annotations

import secrets
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bridge.sandboxing.auth import same
from bridge_tiktokshop.sandbox.gate import api, envelope
from bridge_tiktokshop.sandbox.routes_orders import OrderRoutes
from bridge_tiktokshop.sandbox.routes_products import ProductRoutes

if TYPE_CHECKING:
    from bridge_tiktokshop.sandbox import TikTokSandbox

P, L, F = "/product/202309", "/logistics/202309", "/fulfillment/202309"


def build(sb: TikTokSandbox) -> Starlette:
    pr, orr = ProductRoutes(sb), OrderRoutes(sb)
    routes = [
        api(sb, "GET", "/authorization/202309/shops", orr.authorized_shops, shop=False),
        api(sb, "GET", "/product/202312/prerequisites", pr.prerequisites),
        api(sb, "GET", f"{P}/categories", pr.categories),
        api(sb, "POST", f"{P}/categories/recommend", pr.recommend, write=False),
        api(sb, "GET", f"{P}/categories/{{category_id}}/attributes", pr.attributes),
        api(sb, "GET", f"{P}/categories/{{category_id}}/rules", pr.rules),
        api(sb, "GET", f"{P}/brands", pr.brands),
        api(sb, "POST", f"{P}/images/upload", pr.upload_image, shop=False),
        api(sb, "POST", f"{P}/products", pr.create_product),
        api(sb, "POST", f"{P}/products/search", pr.search_products, write=False),
        api(sb, "POST", f"{P}/products/deactivate", pr.deactivate),
        api(sb, "POST", f"{P}/products/activate", pr.activate),
        api(sb, "POST", f"{P}/products/listing_check", pr.listing_check, write=False),
        api(sb, "POST", f"{P}/inventory/search", pr.search_inventory, write=False),
        api(sb, "GET", f"{P}/products/{{product_id}}", pr.get_product),
        api(sb, "PUT", f"{P}/products/{{product_id}}", pr.edit_product),
        api(sb, "POST", f"{P}/products/{{product_id}}/inventory/update", pr.update_inventory),
        api(sb, "POST", f"{P}/products/{{product_id}}/partial_edit", pr.partial_edit),
        api(sb, "POST", f"{P}/products/{{product_id}}/prices/update", pr.update_prices),
        api(sb, "GET", f"{L}/warehouses", orr.warehouses),
        api(sb, "GET", f"{L}/warehouses/{{warehouse_id}}/delivery_options", orr.delivery_options),
        api(sb, "GET", f"{L}/delivery_options/{{delivery_option_id}}/shipping_providers", orr.providers),
        api(sb, "POST", "/order/202309/orders/search", orr.search_orders, write=False),
        api(sb, "GET", "/order/202309/orders", orr.order_detail),
        api(sb, "POST", "/return_refund/202309/cancellations", orr.cancel),
        api(sb, "POST", "/return_refund/202309/cancellations/search", orr.search_cancellations, write=False),
        api(sb, "POST", "/return_refund/202309/returns/search", orr.search_returns, write=False),
        api(sb, "GET", "/return_refund/202309/returns/{return_id}/records", orr.return_records),
        api(sb, "POST", f"{F}/orders/{{order_id}}/packages", orr.mark_shipped),
        api(sb, "POST", f"{F}/packages/{{package_id}}/ship", orr.ship_package),
        api(sb, "POST", f"{F}/orders/{{order_id}}/shipping_info/update", orr.update_order_shipping),
        api(sb, "POST", f"{F}/packages/{{package_id}}/shipping_info/update", orr.update_package_shipping),
        api(sb, "GET", "/event/202309/webhooks", orr.get_webhooks),
        api(sb, "PUT", "/event/202309/webhooks", orr.put_webhook),
        api(sb, "DELETE", "/event/202309/webhooks", orr.delete_webhook),
        Route("/api/v2/token/get", partial(token, sb, kind="get")),
        Route("/api/v2/token/refresh", partial(token, sb, kind="refresh")),
        Route("/open/authorize", partial(authorize, sb)),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return envelope(None, 36009009, f"Invalid path or method: {request.method} {request.url.path}", 404)


async def token(sb: TikTokSandbox, request: Request, kind: str) -> Response:
    """Token get/refresh at the auth host: not signed, the secret travels in the query."""
    sb.stats.record("GET", f"/api/v2/token/{kind}", write=False)
    q = request.query_params
    if q.get("app_key") != sb.app_key or not same(q.get("app_secret"), sb.app_secret):
        return envelope(None, 36004004, "Invalid app_key or app_secret.")
    with sb.world.lock:
        if kind == "get":
            if q.get("grant_type") != "authorized_code":
                return envelope(None, 36004004, "grant_type must be authorized_code.")
            grant = sb.world.codes.pop(q.get("auth_code", ""), None)
            if grant is None or grant["expires"] < sb.world.now():
                return envelope(None, 36004004, "The auth_code is invalid or expired.")
            return envelope(sb.world.issue_tokens(grant["seller"]))
        if q.get("grant_type") != "refresh_token":
            return envelope(None, 36004004, "grant_type must be refresh_token.")
        info = sb.world.refresh.get(q.get("refresh_token", ""))
        if info is None or info["expires"] < sb.world.now():
            return envelope(None, 36004004, "The refresh_token is invalid or expired.")
        data = sb.world.issue_tokens(info["seller"])
        sb.world.refresh.pop(data["refresh_token"])  # refresh keeps the refresh token and its expiry
        data["refresh_token"] = q["refresh_token"]
        data["refresh_token_expire_in"] = info["expires"]
        return envelope(data)


async def authorize(sb: TikTokSandbox, request: Request) -> Response:
    """The seller consent page: approves at once and redirects back with a code.

    The real redirect URL lives in Partner Center; the sandbox takes ``redirect_uri`` from the
    link (or its ``redirect_url`` option). ``seller`` picks which seeded seller approves.
    """
    q = request.query_params
    if q.get("service_id") != sb.service_id:
        return Response("Unknown service_id", status_code=400)
    target = q.get("redirect_uri") or sb.redirect_url
    if not target:
        return Response("No redirect URL is configured for this app", status_code=400)
    sellers = list(sb.world.sellers)
    seller = q.get("seller") or sellers[0]
    if seller not in sb.world.sellers:
        seller = sellers[int(seller) % len(sellers)] if seller.isdigit() and len(seller) < 4 else sellers[0]
    code = "sbx_code_" + secrets.token_urlsafe(16)
    with sb.world.lock:
        sb.world.codes[code] = {"seller": seller, "expires": sb.world.now() + 1800}
    params = {"code": code}
    if q.get("state") is not None:
        params["state"] = q["state"]
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}{urlencode(params)}", status_code=302)
