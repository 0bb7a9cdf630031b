"""The sandbox's HTTP surface (Starlette): the Admin GraphQL endpoint, OAuth, bulk results.

Every request is counted in ``stats``; injected faults and latency come from the sandbox kit
(:func:`render_fault` gives them Shopify's shape), the THROTTLED switch applies here. The sandbox
models one API version, :data:`API_VERSION` (the vendored 2025-01 schema): asked for any other,
it answers as Shopify answers for a version it no longer serves, with the version it runs named
in ``X-Shopify-API-Version`` (a malformed version is a 404). Error shapes follow the platform doc §10: HTTP errors as ``{"errors": "…"}``, GraphQL
errors (validation, ``ACCESS_DENIED``, ``THROTTLED``, ``MAX_COST_EXCEEDED``) with HTTP 200 and
``extensions.cost`` on every GraphQL answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from graphql import execute
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bridge.sandboxing import Fault, RequestStats, retry_after_headers
from bridge.sandboxing.images import image_response
from bridge_shopify.sandbox.resolvers import Context
from bridge_shopify.sandbox.root import root_value
from bridge_shopify.sandbox.schema import CostCalculator, operation, parse_and_validate, schema
from bridge_shopify.sandbox.state import CDN_PATH

if TYPE_CHECKING:  # pragma: no cover
    from bridge_shopify.sandbox import ShopifySandbox

API_VERSION = "2025-01"
"""The one Admin API version the sandbox models (its schema, ``admin_schema_2025-01.json.gz``)."""
VERSION_RE = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
MAX_QUERY_COST = 1000
GRAPHQL_ROUTE = "/admin/api/{version}/graphql.json"
HTTP_ERRORS = {
    401: "[API] Invalid API key or access token (unrecognized login or wrong password)",
    402: "Unavailable Shop", 403: "Forbidden", 404: "Not Found", 423: "Locked",
    429: "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ShopifyStats(RequestStats):
    """Request counts plus the query cost Shopify would have charged."""

    def __init__(self) -> None:
        super().__init__()
        self.requested_cost = 0
        self.actual_cost = 0

    def add_cost(self, requested: int, actual: int) -> None:
        with self.lock:
            self.requested_cost += requested
            self.actual_cost += actual

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.requested_cost = self.actual_cost = 0

    def snapshot(self) -> dict[str, Any]:
        snap = super().snapshot()
        snap.update(requested_query_cost=self.requested_cost, actual_query_cost=self.actual_cost)
        return snap


class LeakyBucket:
    """Shopify's cost bucket: ``maximum`` points, restored at ``rate`` points per second."""

    def __init__(self, maximum: float, rate: float) -> None:
        self.maximum, self.rate = float(maximum), float(rate)
        self.available = self.maximum
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self, cost: float) -> bool:
        with self.lock:
            now = time.monotonic()
            self.available = min(self.maximum, self.available + (now - self.stamp) * self.rate)
            self.stamp = now
            if cost > self.available:
                return False
            self.available -= cost
            return True

    def refund(self, points: float) -> None:
        with self.lock:
            self.available = min(self.maximum, self.available + max(0.0, points))

    def status(self) -> dict[str, float]:
        return {"maximumAvailable": self.maximum, "currentlyAvailable": round(self.available, 1),
                "restoreRate": self.rate}


def _cost(requested: int, actual: int | None, bucket: LeakyBucket) -> dict[str, Any]:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": bucket.status()}}


def render_fault(fault: Fault, scope: dict[str, Any]) -> Response:
    """An injected HTTP error as Shopify answers it (``Retry-After`` on 429 and 503)."""
    status = int(fault.status or 500)
    headers = retry_after_headers(fault) or ({"Retry-After": "1.0"} if status in (429, 503) else {})
    return JSONResponse({"errors": HTTP_ERRORS.get(status, "Error")}, status, headers=headers)


def build_app(sb: ShopifySandbox) -> Starlette:
    """The ASGI app serving one sandbox store."""

    async def graphql(request: Request) -> Response:
        if not VERSION_RE.match(request.path_params["version"]):
            sb.stats.record(request.method, GRAPHQL_ROUTE)
            return JSONResponse({"errors": HTTP_ERRORS[404]}, 404)
        version = API_VERSION  # any other version falls forward to the one modelled
        try:
            body = json.loads(await request.body())
            query = body["query"]
        except (ValueError, KeyError, TypeError):
            sb.stats.record(request.method, GRAPHQL_ROUTE)
            return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        ast, errors = parse_and_validate(query)
        op = operation(ast, body.get("operationName")) if ast else None
        is_mutation = bool(op and op.operation.value == "mutation")
        sb.stats.record(request.method, GRAPHQL_ROUTE, write=is_mutation)
        headers = {"X-Shopify-API-Version": version, "X-Request-Id": str(uuid.uuid4())}
        token = request.headers.get("x-shopify-access-token")
        if not sb.auth.check(token):
            return JSONResponse({"errors": HTTP_ERRORS[401]}, 401, headers=headers)
        if ast is None or op is None:
            errs = [{"message": e.message,
                     "locations": [{"line": loc.line, "column": loc.column} for loc in e.locations or []],
                     "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}} for e in errors] or \
                   [{"message": "An operation name is required", "extensions": {"code": "BAD_REQUEST"}}]
            return JSONResponse({"errors": errs}, 200, headers=headers)
        variables = body.get("variables") or {}
        calc = CostCalculator(ast, variables)
        requested = calc.operation_cost(op)
        if requested > MAX_QUERY_COST:
            return JSONResponse({"errors": [{
                "message": f"Query cost is {requested}, which exceeds the single query max cost "
                           f"limit ({MAX_QUERY_COST}).", "extensions": {"code": "MAX_COST_EXCEEDED",
                "cost": requested, "maxCost": MAX_QUERY_COST}}],
                "extensions": _cost(requested, None, sb.bucket)}, 200, headers=headers)
        if sb.take_throttle() or not sb.bucket.take(requested):
            sb.stats.throttle()
            return JSONResponse({"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": _cost(requested, None, sb.bucket)}, 200, headers=headers)
        ctx = Context(state=sb.state, scopes=sb.auth.scopes, protected_ok=sb.protected_data,
                      webhooks=sb.webhooks, bulk=sb.bulk, extra={"base_url": str(request.base_url).rstrip("/")})
        name = body.get("operationName")
        result = await run_in_threadpool(
            lambda: execute(schema(), ast, root_value=root_value(ctx), variable_values=variables,
                            operation_name=name))
        actual = calc.operation_cost(op, result.data, actual=True)
        actual = min(actual, requested)
        sb.bucket.refund(requested - actual)
        sb.stats.add_cost(requested, actual)
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        payload["extensions"] = _cost(requested, actual, sb.bucket)
        return JSONResponse(payload, 200, headers=headers)

    async def authorize(request: Request) -> Response:
        sb.stats.record(request.method, "/admin/oauth/authorize")
        q = request.query_params
        if q.get("client_id") != sb.auth.client_id or not q.get("redirect_uri"):
            return JSONResponse({"errors": "Oauth error invalid_request: The client_id or "
                                           "redirect_uri is not valid"}, 400)
        shop = sb.state.shop["myshopifyDomain"]
        params = {"code": sb.auth.new_code(shop), "shop": shop, "state": q.get("state", ""),
                  "timestamp": str(int(time.time())), "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYnJpZGdl"}
        sep = "&" if "?" in q["redirect_uri"] else "?"
        return RedirectResponse(q["redirect_uri"] + sep + sb.auth.signed_query(params), 302)

    async def access_token(request: Request) -> Response:
        sb.stats.record(request.method, "/admin/oauth/access_token", write=True)
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            form = json.loads(raw or b"{}")
        else:
            form = dict((await request.form()).items())
        status, body = sb.auth.grant(form)
        return JSONResponse(body, status)

    async def bulk_result(request: Request) -> Response:
        sb.stats.record(request.method, "/bulk/{id}.jsonl")
        path = sb.bulk.path(int(request.path_params["num"]))
        if path is None:
            return Response("<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>", 404,
                            media_type="application/xml")
        return FileResponse(path, media_type="application/jsonl")

    async def index(request: Request) -> Response:
        return JSONResponse({"sandbox": "shopify", "shop": sb.state.shop["myshopifyDomain"],
                             "graphql": "/admin/api/{version}/graphql.json",
                             "authorize": "/admin/oauth/authorize?" + urlencode(
                                 {"client_id": sb.auth.client_id})})

    async def image(request: Request) -> Response:
        sb.stats.record("GET", CDN_PATH + "/{file}.png")
        return image_response(request.path_params["name"])

    return Starlette(routes=[
        Route("/", index),
        Route(CDN_PATH + "/{name}.png", image, methods=["GET", "HEAD"]),
        Route("/admin/api/{version}/graphql.json", graphql, methods=["POST"]),
        Route("/admin/oauth/authorize", authorize, methods=["GET"]),
        Route("/admin/oauth/access_token", access_token, methods=["POST"]),
        Route("/bulk/{num:int}.jsonl", bulk_result, methods=["GET"]),
    ])
