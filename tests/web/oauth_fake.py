"""``oauthchannel``: a fake channel platform that connects by OAuth and app callbacks only, with
regions and a consent page of its own (served by its sandbox), for the web tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import Route

from bridge import hookimpl
from bridge.connection import AppContext, Connection
from bridge.errors import NeedsReconnect, WebhookRejected
from bridge.models import (
    CallbackResult,
    Market,
    Markets,
    PlatformInfo,
    Prerequisite,
    StoreInfo,
    WebhookDelivery,
    WebhookEvent,
    WebhookRequest,
)
from tests.fakes.common import webhook_payload

SECRET = "oauth-fake-secret"
#: The names of the app callbacks the plugin was asked to handle (a test clears it).
CALLS: list[str] = []
#: code -> the shops it authorizes (TikTok authorizes several shops at once).
CODES: dict[str, list[dict[str, str]]] = {
    "code-gb": [{"id": "shop-gb-1", "name": "GB Shop", "currency": "GBP", "region": "GB"}],
    "code-two": [{"id": "shop-gb-2", "name": "GB Shop Two", "currency": "GBP", "region": "GB"},
                 {"id": "shop-gb-3", "name": "GB Shop Three", "currency": "GBP", "region": "GB"}],
    "code-eur": [{"id": "shop-de-1", "name": "Euro Shop", "currency": "EUR", "region": "GB"}],
}


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@hookimpl
def describe_platform() -> PlatformInfo:
    return PlatformInfo(name="oauthchannel", kind="channel", display_name="OAuth Channel",
                        connect_methods=["oauth", "callback"], webhooks=True,
                        markets=Markets(served=[Market(code="GB", name="United Kingdom"),
                                                Market(code="SG", name="Singapore")],
                                        waitlist=[Market(code="US", name="United States")]))


@hookimpl
def authorization_url(app: AppContext, state: str, redirect_uri: str, settings: dict) -> str:
    base = app.settings.get("base_url") or "https://auth.oauthchannel.invalid"
    return f"{base}/authorize?" + urlencode({"state": state, "redirect_uri": redirect_uri,
                                             "region": settings.get("region", "")})


@hookimpl
def exchange_code(app: AppContext, params: dict, redirect_uri: str) -> list[StoreInfo]:
    shops = CODES.get(params.get("code", ""))
    if shops is None:
        raise NeedsReconnect("oauthchannel: the code is invalid or expired: authorize again")
    return [StoreInfo(remote_id=s["id"], name=s["name"], currency=s["currency"], region=s["region"],
                      credentials={"token": f"tok-{s['id']}"}) for s in shops]


@hookimpl
def app_callback(app: AppContext, name: str, request: WebhookRequest) -> CallbackResult:
    CALLS.append(name)
    if request.header("X-Sig") != sign(request.body):
        raise WebhookRejected("oauthchannel: bad callback signature")
    try:
        data = json.loads(request.body)
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str)
                                                 for k in ("id", *(("name", "token") if name == "keys" else ()))):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("oauthchannel: callback body is not what the platform sends") from None
    if name == "keys":
        return CallbackResult(stores=[StoreInfo(remote_id=data["id"], name=data["name"], currency="GBP",
                                                region="GB", credentials={"token": data["token"]})],
                              response_body='{"ok": true}')
    if name == "uninstall":
        return CallbackResult(uninstalled_remote_ids=[data["id"]])
    return CallbackResult(response_status=404, response_body="unknown callback")


@hookimpl
def connect(connection: Connection) -> StoreInfo:
    return StoreInfo(remote_id=connection.remote_id or "x", name="x", currency="GBP", region="GB")


@hookimpl
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    return [Prerequisite(key="warehouse", title="Warehouse address", ok=True),
            Prerequisite(key="shipping", title="Shipping template", ok=False,
                         fix="Add a shipping template in Seller Center", flows=["products"])]


@hookimpl
def receive_webhook(connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    if request.header("X-Sig") != sign(request.body):
        raise WebhookRejected("oauthchannel: bad webhook signature")
    data = webhook_payload(request.body, "oauthchannel")
    if not isinstance(data.get("shop"), str | None) or not isinstance(data.get("id"), str | None):
        raise WebhookRejected("oauthchannel: not a delivery (id, shop)")
    return WebhookDelivery(delivery_id=data.get("id"), store_remote_id=data.get("shop"),
                           events=[WebhookEvent(kind=data["kind"], remote_ids=data.get("ids", []))])


class ConsentSandbox:
    """The platform's consent page: 'Authorize' sends the browser back with a code."""

    def __init__(self, code: str = "code-gb") -> None:
        self.code = code
        self.app = Starlette(routes=[Route("/authorize", self._authorize),
                                     Route("/approve", self._approve)])

    async def _authorize(self, r: Request) -> HTMLResponse:
        q = urlencode({"state": r.query_params["state"], "redirect_uri": r.query_params["redirect_uri"]})
        return HTMLResponse(f"<h1>OAuth Channel</h1><p>Authorize bridge?</p>"
                            f"<a id='approve' href='/approve?{q}'>Authorize</a>")

    async def _approve(self, r: Request) -> RedirectResponse:
        q = urlencode({"code": self.code, "state": r.query_params["state"]})
        return RedirectResponse(f"{r.query_params['redirect_uri']}?{q}", status_code=302)


@hookimpl
def sandbox(options: dict[str, Any]) -> ConsentSandbox:
    return ConsentSandbox(str(options.get("code", "code-gb")))
