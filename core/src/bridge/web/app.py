"""The admin web app: ``create_app(scheduler=None)`` gives the ASGI application `bridge run`
serves (uvicorn). Pages, connect flows, app callbacks, webhook receivers, ``/healthz`` and
``/metrics``; plugins add routes through the ``register_routes`` hook."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bridge import db, metrics
from bridge.plugins import get_manager
from bridge.web import (
    activity,
    connect,
    connecting,
    dashboard,
    home,
    login,
    orders,
    products,
    receivers,
    settings,
)
from bridge.web.base import HERE, env

log = logging.getLogger("bridge.web")


async def healthz(request: Request) -> Response:
    """200 when the database answers; 503 otherwise."""

    def check() -> None:
        with db.session() as s:
            s.exec(text("SELECT 1"))  # type: ignore[call-overload]

    try:
        await run_in_threadpool(check)
    except Exception as exc:  # noqa: BLE001 - any failure is "not healthy"
        return JSONResponse({"status": "error", "error": f"database: {type(exc).__name__}"}, status_code=503)
    sched = getattr(request.app.state, "scheduler", None)
    return JSONResponse({"status": "ok", "scheduler": bool(sched and not sched.stop_event.is_set())})


async def metrics_endpoint(request: Request) -> Response:
    return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")


async def not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if request.url.path.startswith(("/webhooks/", "/callbacks/")) or "json" in request.headers.get("accept", ""):
        return JSONResponse({"error": "not found" if status == 404 else "error"}, status_code=status)
    html = env.get_template("error.html").render(
        user=None, csrf="", flashes=[], path=request.url.path, request=request,
        message="Nothing here: it does not exist or is not yours." if status == 404 else
        getattr(exc, "detail", "error"))
    return HTMLResponse(html, status_code=status)


def csp(form_action: str = "'self'") -> str:
    """The Content-Security-Policy of a page; forms post to this site only, except on the
    connect pages (:func:`bridge.web.connect.platform_page`), whose forms end at the
    platform's authorization page."""
    return ("default-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'; "
            f"form-action {form_action}")


class SecurityHeaders:
    """Headers every answer carries: no sniffing, no framing (except app callbacks, which
    platforms may show in their admin), no referrer leaking tokens off-site."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framable = scope.get("path", "").startswith("/callbacks/")

        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                if not framable:
                    headers.append((b"x-frame-options", b"DENY"))
                    if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                        headers.append((b"content-security-policy", csp().encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


def create_app(scheduler: Any = None) -> Starlette:
    """The admin ASGI application; ``scheduler`` is the running one, if any (health)."""
    routes: list[Any] = [
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    for module in (login, home, dashboard, connect, products, orders, activity, settings, receivers):
        routes.extend(module.routes)
    extra: list[Any] = []
    try:
        get_manager().hook.register_routes(routes=extra)
    except Exception:  # a broken plugin must not take the admin pages down
        log.exception("a plugin failed to register routes")
    app = Starlette(routes=routes + extra,
                    exception_handlers={404: not_found, 405: not_found})
    app.add_middleware(SecurityHeaders)  # type: ignore[arg-type]
    app.state.scheduler = scheduler
    connecting.on_connected = scheduler.refresh_jobs if scheduler is not None else None
    return app
