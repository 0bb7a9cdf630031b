"""The sandbox's Starlette application: the request pipeline every route shares.

Latency and injected faults come from the sandbox kit (:func:`render_fault` gives them Magento's
error shape). For each request: count it (``stats``), check authentication (REST routes), then
run the route; ``/media/catalog/product/...`` serves the catalog's images. ``/rest/V1/...`` and ``/index.php/rest/...`` reach the ``default`` store view as in
Magento; unknown routes get Magento's ``Request does not match any route.`` 404.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge.sandboxing import Fault, retry_after_headers
from bridge.sandboxing.images import image_response
from bridge_magento2.sandbox.auth import AuthError
from bridge_magento2.sandbox.criteria import SearchError

if TYPE_CHECKING:  # pragma: no cover
    from bridge_magento2.sandbox import MagentoSandbox

Handler = Callable[[Request], Awaitable[Any]]
REST = "/rest/{store}/V1/"


class NotFound(Exception):
    """A Magento NoSuchEntityException: 404 with ``message`` and ``parameters``."""

    def __init__(self, message: str, parameters: list[str] | dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message, self.parameters = message, parameters or []


class BadRequest(NotFound):
    """A Magento InputException / LocalizedException: 400."""


def error(status: int, message: str, parameters: Any = None) -> JSONResponse:
    return JSONResponse({"message": message, "parameters": parameters or [], "trace": None}, status_code=status)


def render_fault(fault: Fault, scope: dict[str, Any]) -> Response:
    """An injected error as Magento's web API answers an exception it does not expose."""
    body = {"message": "Internal Error. Details are available in Magento log file. Report ID: %1",
            "parameters": ["webapi-sandbox"], "trace": None}
    return JSONResponse(body, status_code=int(fault.status or 500), headers=retry_after_headers(fault) or None)


MEDIA = "/media/catalog/product/"


async def media(request: Request) -> Response:
    """A catalog image file (``{base_media_url}catalog/product/m/b/sku.png``), generated."""
    return image_response(request.path_params["file"].rsplit("/", 1)[-1].rsplit(".", 1)[0])


def signed_url(request: Request) -> str:
    """The URL as the client signed it: scheme, Host header, raw (still encoded) path."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}{raw.decode('latin-1')}"


def endpoint(sb: MagentoSandbox, template: str, fn: Handler, *, rest: bool = True) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        sb.stats.record(request.method, template)
        if rest and request.path_params.get("store") not in ("default", "all"):
            return error(400, "Requested store is not found")
        try:
            if rest:
                sb.gate.check(request.method, signed_url(request), request.url.query,
                              request.headers.get("authorization"))
            result = await fn(request)
        except AuthError as exc:
            return error(401, exc.message, exc.parameters)
        except BadRequest as exc:
            return error(400, exc.message, exc.parameters)
        except NotFound as exc:
            return error(404, exc.message, exc.parameters)
        except SearchError as exc:
            return error(400, str(exc))
        if isinstance(result, Response):
            return result
        return Response(json.dumps(result, separators=(",", ":")), media_type="application/json")

    return run


async def body_json(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise BadRequest("Decoding error: %1", ["Syntax error"]) from None
    if not isinstance(data, dict):
        raise BadRequest("Decoding error: %1", ["an object was expected"])
    return data


class PathAliases:
    """ASGI wrapper: ``/rest/V1`` -> ``/rest/default/V1``, ``/index.php/rest`` -> ``/rest``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            raw: bytes = scope.get("raw_path") or path.encode()
            for old, new in (("/index.php/rest/", "/rest/"), ("/rest/V1/", "/rest/default/V1/")):
                if path.startswith(old):
                    path, raw = new + path[len(old):], new.encode() + raw[len(old):]
            scope = {**scope, "path": path, "raw_path": raw}
        await self.app(scope, receive, send)


def build(sb: MagentoSandbox, routes: list[tuple[str, str, Handler, bool]]) -> Any:
    """The ASGI app: ``routes`` are (method, path, handler, authenticated REST?)."""
    table = [Route(path, endpoint(sb, path, fn, rest=rest), methods=[method])
             for method, path, fn, rest in routes]
    table.append(Route(MEDIA + "{file:path}", endpoint(sb, MEDIA + "{file}", media, rest=False),
                       methods=["GET", "HEAD"]))

    async def not_found(request: Request, exc: Exception) -> Response:
        sb.stats.record(request.method, "unmatched")
        return error(404, "Request does not match any route.")

    app = Starlette(routes=table, exception_handlers={404: not_found, 405: not_found})
    return PathAliases(app)
