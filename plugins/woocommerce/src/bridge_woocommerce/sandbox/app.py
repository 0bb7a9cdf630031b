"""The sandbox's Starlette app: resolves ``/wp-json/<route>`` or ``/?rest_route=<route>``, applies
faults, latency and the key checks, dispatches to :mod:`routes`, and serves the key-generation
flow (``/wc-auth/v1/authorize``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bridge.sandboxing import Fault, retry_after_headers
from bridge.sandboxing.images import image_response
from bridge_woocommerce.sandbox import routes
from bridge_woocommerce.sandbox.auth import authenticate, check_permission
from bridge_woocommerce.sandbox.http import ApiError, Req
from bridge_woocommerce.sandbox.state import SITE

if TYPE_CHECKING:
    from bridge_woocommerce.sandbox import WooSandbox

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
UPLOADS = "/wp-content/uploads/"
NOT_FOUND_PAGE = "<!DOCTYPE html><html><body><h1>Page not found</h1></body></html>"


def _json(body: Any, status: int, headers: dict[str, str] | None = None, home: str = "") -> Response:
    text = json.dumps(body)
    if home:
        text = text.replace(SITE, home)
    return Response(text, status_code=status, headers=headers or {},
                    media_type="application/json; charset=UTF-8")


def render_fault(fault: Fault, scope: dict[str, Any]) -> Response:
    """An injected error in WP REST's shape."""
    status = int(fault.status or 500)
    err = ApiError(status, "woocommerce_rest_sandbox_fault", "The sandbox was told to fail this request.")
    return _json(err.body(), status, retry_after_headers(fault))


def build_app(sb: WooSandbox) -> Starlette:
    async def endpoint(request: Request) -> Response:
        path = request.url.path
        query = list(request.query_params.multi_items())
        params = dict(query)
        method = params.get("_method", "").upper() or request.headers.get("x-http-method-override", "").upper() \
            or request.method
        if path.startswith("/wc-auth/v1/") or params.get("wc-auth-route"):
            sb.stats.record(request.method, "/wc-auth/v1/" + (params.get("wc-auth-route") or path.rsplit("/", 1)[-1]))
            return await _wc_auth(sb, request, params)
        if path.startswith(UPLOADS) and path.endswith(".png") and request.method in ("GET", "HEAD"):
            sb.stats.record("GET", UPLOADS + "{file}")
            return image_response(path.rsplit("/", 1)[-1].removesuffix(".png"))
        plain = path in ("", "/") and "rest_route" in params
        if plain:
            route = params["rest_route"] or "/"
        elif path.startswith("/wp-json") and sb.permalinks == "pretty":
            route = path[len("/wp-json"):] or "/"
        else:
            sb.stats.record(request.method, "(page)")
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        home = f"{request.url.scheme}://{request.url.netloc}"
        found = routes.match(method, route.rstrip("/") or "/")
        name = found[2] if isinstance(found, tuple) else "(no route)"
        sb.stats.record(method, name)
        try:
            plugin_off = (route.startswith("/wc-shipment-tracking/") and not sb.site.shipment_tracking) or (
                route.startswith("/wc/aftership/") and not sb.site.aftership)
            if not isinstance(found, tuple) or plugin_off:
                raise ApiError(404, "rest_no_route", "No route was found matching the URL and request method.")
            handler, groups, _ = found
            if route.startswith(("/wc/", "/wc-")) and route.rstrip("/") != "/wc/v3" and method != "OPTIONS":
                ssl = sb.ssl or request.headers.get("x-forwarded-proto") == "https"
                sign_url = f"{'https' if ssl else 'http'}://{request.url.netloc}{path or '/'}"
                key = authenticate(sb.site, method=method, url=sign_url, ssl=ssl, query=query,
                                   headers={k.lower(): v for k, v in request.headers.items()})
                check_permission(key, method, route)
            body = None
            raw = await request.body()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "rest_invalid_json", "Invalid JSON body passed.") from None
            base = f"{home}/?rest_route={route}" if plain else f"{home}/wp-json{route}"
            req = Req(method=method, route=route, params={k: v for k, v in params.items() if not k.startswith(
                ("oauth_", "consumer_"))}, json=body, base_url=base, plain=plain, home=home)
            resp = handler(sb.site, req, **groups)
        except ApiError as err:
            return _json(err.body(), err.status, err.headers)
        sb.home = home + "/"
        sb.pump()
        return _json(resp.body, resp.status, resp.headers, home)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])


async def _wc_auth(sb: WooSandbox, request: Request, params: dict[str, str]) -> Response:
    """``/wc-auth/v1/authorize`` (the merchant is taken as logged in): a consent page whose
    Approve button POSTs to ``access_granted``, which creates a key, POSTs it to the callback
    and sends the browser to ``return_url``."""
    required = ("app_name", "scope", "user_id", "return_url", "callback_url")
    source = dict(params)
    if request.method == "POST":
        source.update({k: str(v) for k, v in (await request.form()).items()})
    missing = [p for p in required if not source.get(p)]
    if missing:
        return HTMLResponse(f"<p>Error: Missing parameter {missing[0]}</p>", status_code=400)
    if source["scope"] not in ("read", "write", "read_write"):
        return HTMLResponse("<p>Error: Invalid scope</p>", status_code=400)
    callback = source["callback_url"]
    loopback = httpx.URL(callback).host in ("127.0.0.1", "localhost", "::1")
    if not callback.startswith("https://") and not loopback:  # the sandbox lets loopback callbacks use http
        return HTMLResponse("<p>Error: The callback_url needs to be over SSL</p>", status_code=400)
    route = params.get("wc-auth-route") or request.url.path.rsplit("/", 1)[-1]
    if route == "authorize" and request.method == "GET":
        fields = "".join(f'<input type="hidden" name="{k}" value="{source[k]}">' for k in required)
        return HTMLResponse(
            f"<h1>{source['app_name']} would like to connect to your store</h1>"
            f"<p>This will give &quot;{source['app_name']}&quot; {source['scope']} access.</p>"
            f'<form method="post" action="/wc-auth/v1/access_granted">{fields}'
            '<button name="approve" value="1">Approve</button></form>')
    ret = source["return_url"]
    sep = "&" if "?" in ret else "?"
    if request.method != "POST" or not source.get("approve"):
        return RedirectResponse(f"{ret}{sep}{urlencode({'success': 0, 'user_id': source['user_id']})}", 302)
    key_id, ck, cs = sb.new_key(source["scope"], source["app_name"])
    payload = {"key_id": key_id, "user_id": source["user_id"], "consumer_key": ck, "consumer_secret": cs,
               "key_permissions": source["scope"]}
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            answer = await client.post(callback, content=json.dumps(payload),
                                       headers={"Content-Type": "application/json;charset=UTF-8"})
        ok = answer.status_code == 200
    except httpx.HTTPError:
        ok = False
    if not ok:
        sb.site.keys.pop(ck, None)
        return HTMLResponse("<p>Error: An error occurred in the request and at the time were unable to send "
                            "the consumer data</p>", status_code=401)
    return RedirectResponse(f"{ret}{sep}{urlencode({'success': 1, 'user_id': source['user_id']})}", 302)
