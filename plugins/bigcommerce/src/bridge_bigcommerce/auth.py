"""Connecting: API-account credentials, the app install (code exchange at
``login.bigcommerce.com/oauth2/token``) and the signed ``load``/``uninstall`` callbacks (a JWT,
HS256 with the app's client secret).
"""

from __future__ import annotations

from typing import Any

import jwt

from bridge.connection import AppContext, Connection
from bridge.errors import Misconfigured, NeedsReconnect, Rejected, WebhookRejected
from bridge.models import StoreInfo
from bridge_bigcommerce.catalog import STORE_KEY
from bridge_bigcommerce.client import LOGIN_HOST, BigCommerceClient
from bridge_bigcommerce.errormap import error_message
from bridge_bigcommerce.mapping import store_facts, store_info

#: Scopes bridge needs (``scope`` of the install callback is checked against them).
NEEDED_SCOPES = {
    "store_v2_products": "read products and variants",
    "store_v2_orders": "create and read orders and shipments",
    "store_inventory": "read stock per location",
}
#: Clock skew allowed on ``nbf``/``exp``.
LEEWAY_S = 60


def connect_store(connection: Connection) -> StoreInfo:
    """``GET /v2/store`` with the connection's token: StoreInfo (and the store facts cached)."""
    client = BigCommerceClient(connection)
    store = client.call("GET", "v2", "store") or {}
    connection.state[STORE_KEY] = store_facts(store).as_dict()
    info = store_info(store, client.store_hash)
    if connection.base_url:
        info.settings["base_url"] = connection.base_url
    return info


# --------------------------------------------------------------------------- install


def login_base(app: AppContext) -> str:
    return str(app.settings.get("base_url") or LOGIN_HOST).rstrip("/")


def missing_scopes(granted: str) -> list[str]:
    have = set(granted.split())
    out = []
    for scope, why in NEEDED_SCOPES.items():
        if scope not in have and f"{scope}_read_only" not in have:
            out.append(f"{scope} ({why})")
    return out


def exchange(app: AppContext, params: dict, redirect_uri: str) -> list[StoreInfo]:
    """Exchange the install callback's ``code`` for the store's permanent access token."""
    client_id, secret = app.require("client_id"), app.require("client_secret")
    code, context = params.get("code"), params.get("context") or ""
    if not code or not context.startswith("stores/"):
        raise NeedsReconnect("the BigCommerce install callback lacks its code or context: "
                             "install the app again")
    body = {"client_id": client_id, "client_secret": secret, "code": code, "context": context,
            "scope": params.get("scope", ""), "grant_type": "authorization_code",
            "redirect_uri": redirect_uri}
    http = app.http_client(login_base(app))
    http.add_secret(str(secret))
    http.add_secret(str(code))
    response = http.post("/oauth2/token", json=body)
    if response.status_code in (400, 401, 403):
        raise NeedsReconnect("BigCommerce refused the install code (expired or already used): "
                             "install the app again", detail=error_message(response))
    if response.status_code >= 300:
        raise Rejected(f"BigCommerce token exchange failed ({response.status_code})",
                       code=response.status_code)
    token = response.json()
    access_token = token.get("access_token")
    if not access_token:
        raise NeedsReconnect("BigCommerce returned no access token: install the app again")
    store_hash = str(token.get("context") or context).split("/", 1)[-1]
    settings = {"store_hash": store_hash}
    if app.settings.get("base_url"):
        settings["base_url"] = str(app.settings["base_url"])
    conn = Connection(platform="bigcommerce", settings=settings,
                      credentials={"access_token": access_token}, app=app,
                      transport=app.transport)
    try:
        info = connect_store(conn)
    finally:
        conn.close()
    info.credentials = {"access_token": access_token}
    info.settings.update(settings)
    owner = token.get("owner") or token.get("user") or {}
    info.details.update({"account_uuid": token.get("account_uuid"), "owner_email": owner.get("email")})
    lacking = missing_scopes(str(token.get("scope") or params.get("scope") or ""))
    if lacking:
        info.warnings.append("the app was installed without these scopes: " + ", ".join(lacking))
    return [info]


# --------------------------------------------------------------------------- signed payloads


def sign_jwt(claims: dict[str, Any], secret: str) -> str:
    """An HS256 JWT (what BigCommerce sends as ``signed_payload_jwt``), made by PyJWT."""
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_jwt(token: str, secret: str, audience: str) -> dict[str, Any]:
    """Verify an HS256 ``signed_payload_jwt`` with PyJWT, as BigCommerce's guide does
    (``jwt.decode(token, client_secret, algorithms=["HS256"], audience=client_id)``): signature,
    algorithm (HS256 only), ``aud``, ``exp`` and ``nbf`` within :data:`LEEWAY_S`.

    :raises WebhookRejected: anything does not hold.
    """
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=audience, leeway=LEEWAY_S,
                            options={"require": ["aud", "exp", "sub"]})
    except jwt.InvalidAudienceError:
        raise WebhookRejected("BigCommerce signed payload is for another app (aud)") from None
    except jwt.ExpiredSignatureError:
        raise WebhookRejected("BigCommerce signed payload has expired") from None
    except jwt.ImmatureSignatureError:
        raise WebhookRejected("BigCommerce signed payload is not valid yet") from None
    except (jwt.InvalidSignatureError, jwt.DecodeError):
        raise WebhookRejected("BigCommerce signed payload has a bad signature or is malformed") from None
    except jwt.InvalidAlgorithmError:
        raise WebhookRejected("BigCommerce signed payload uses an unexpected algorithm") from None
    except jwt.PyJWTError as exc:
        raise WebhookRejected(f"malformed BigCommerce signed payload ({type(exc).__name__})") from None
    if not isinstance(claims, dict):
        raise WebhookRejected("malformed BigCommerce signed payload")
    return claims


def callback_claims(app: AppContext, query: dict[str, str]) -> dict[str, Any]:
    token = query.get("signed_payload_jwt")
    if not token:
        raise WebhookRejected("BigCommerce callback without signed_payload_jwt")
    try:
        secret, client_id = str(app.require("client_secret")), str(app.require("client_id"))
    except Misconfigured as exc:
        raise WebhookRejected(str(exc)) from exc
    return verify_jwt(token, secret, client_id)


def store_hash_of(claims: dict[str, Any]) -> str:
    sub = str(claims.get("sub") or "")
    if not sub.startswith("stores/"):
        raise WebhookRejected("BigCommerce signed payload names no store")
    return sub.split("/", 1)[1]
