"""The integration activation handshake (Magento's "Activate" button on an integration).

Magento POSTs, form-encoded, to the integration's Callback URL (bridge's
``/callbacks/magento2/activate``): ``oauth_consumer_key``, ``oauth_consumer_secret``,
``store_base_url`` and ``oauth_verifier``. Bridge then

1. asks for a request token: ``POST {store}/oauth/token/request`` signed with the consumer key
   and secret (HMAC-SHA256, no token) -> ``oauth_token=...&oauth_token_secret=...``;
2. exchanges it: ``POST {store}/oauth/token/access`` signed with the request token and the
   verifier -> the access token and its secret;
3. connects with the four values (which validates them) and returns the store.

The Callback URL the merchant gives the integration is the one bridge's connect page shows,
ending in ``?state=…``: the core checks that state (a connect flow the same user started) before
this runs; a callback without one is refused before any request. ``store_base_url`` comes from
the request, so it passes the outbound policy before the token calls.

``app.settings["base_url"]`` overrides ``store_base_url`` (a sandbox), and goes into the
StoreInfo's settings so the store keeps using it.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx

from bridge.connection import AppContext, Connection
from bridge.errors import NeedsReconnect, WebhookRejected
from bridge.http import check_base_url
from bridge.models import CallbackResult, WebhookRequest
from bridge_magento2.client import PLATFORM, raise_for
from bridge_magento2.oauth import authorization_header
from bridge_magento2.store import store_info

FIELDS = ("oauth_consumer_key", "oauth_consumer_secret", "store_base_url", "oauth_verifier")


def _token_call(http: httpx.Client | object, url: str, header: str) -> dict[str, str]:
    response = http.post(url, headers={"Authorization": header,  # type: ignore[attr-defined]
                                       "Accept": "application/x-www-form-urlencoded"})
    if response.status_code in (400, 401):
        raise NeedsReconnect("Magento refused the integration's token exchange: activate the integration "
                             "again (the consumer key may have expired)")
    raise_for(response)
    values = {k: v[0] for k, v in parse_qs(response.text).items()}
    if not values.get("oauth_token") or not values.get("oauth_token_secret"):
        raise NeedsReconnect("Magento's token exchange answered without a token: activate the integration again")
    return values


def activate(app: AppContext, request: WebhookRequest) -> CallbackResult:
    """Complete the handshake and return the connected store (with its four credentials)."""
    if not request.query.get("state"):
        raise WebhookRejected("Magento activation callback without ?state=: give the integration the "
                              "Callback URL shown on bridge's Connect Magento 2 page")
    form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
    missing = [f for f in FIELDS if not form.get(f)]
    if missing:
        raise WebhookRejected(f"Magento activation callback without {', '.join(missing)}")
    key, secret = form["oauth_consumer_key"], form["oauth_consumer_secret"]
    base = check_base_url(str(app.settings.get("base_url") or form["store_base_url"]))
    http = app.http_client(base)
    request_token = _token_call(http, f"{base}/oauth/token/request",
                                authorization_header("POST", f"{base}/oauth/token/request", key, secret))
    access = _token_call(http, f"{base}/oauth/token/access", authorization_header(
        "POST", f"{base}/oauth/token/access", key, secret, token=request_token["oauth_token"],
        token_secret=request_token["oauth_token_secret"],
        extra={"oauth_verifier": form["oauth_verifier"]}))
    credentials = {"consumer_key": key, "consumer_secret": secret, "access_token": access["oauth_token"],
                   "access_token_secret": access["oauth_token_secret"]}
    conn = Connection(platform=PLATFORM, settings={"base_url": base, "auth_mode": "oauth1"},
                      credentials=dict(credentials), app=app, transport=app.transport)
    try:
        info = store_info(conn)
    finally:
        conn.close()
    info.settings["base_url"] = base
    info.credentials = credentials
    return CallbackResult(stores=[info], response_status=200, response_body="")
