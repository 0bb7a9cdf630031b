"""Webhook receivers: ``/webhooks/<platform>/<store_id>`` and ``/webhooks/<platform>`` (app-wide:
the delivery names the store). The raw body goes to :mod:`bridge.webhooks`, which has the
plugin verify it before anything is parsed; the answer comes as soon as the work is queued."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge import webhooks
from bridge.models import WebhookRequest
from bridge.web.base import parse_id

MAX_BODY = 2 * 1024 * 1024


async def receive(request: Request) -> Response:
    platform = request.path_params["platform"]
    raw_id = request.path_params.get("store_id")
    store_id = parse_id(raw_id) if raw_id is not None else None
    if raw_id is not None and store_id is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    wreq = WebhookRequest(headers=dict(request.headers), body=body, query=dict(request.query_params))
    out = await run_in_threadpool(webhooks.receive, platform, wreq,
                                  store_id=store_id)
    if out.status >= 400:
        return JSONResponse({"error": out.message}, status_code=out.status)
    return JSONResponse({"ok": True, "message": out.message, "duplicate": out.duplicate,
                         "queued": out.triggered})


routes = [
    Route("/webhooks/{platform}/{store_id}", receive, methods=["POST"]),
    Route("/webhooks/{platform}", receive, methods=["POST"]),
]
