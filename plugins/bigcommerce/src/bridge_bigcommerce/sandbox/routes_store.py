"""Sandbox routes of store information (``/v2/store``, ``/v2/time``), webhooks (``/v3/hooks``)
and the app install's token exchange (``POST /oauth2/token`` of login.bigcommerce.com)."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bridge.http import is_loopback
from bridge_bigcommerce.sandbox.gate import ApiError
from bridge_bigcommerce.sandbox.routes_catalog import paginate
from bridge_bigcommerce.sandbox.state import StoreState


class StoreRoutes:
    def __init__(self, state: StoreState, *, client_id: str, client_secret: str, token: str) -> None:
        self.st = state
        self.client_id = client_id
        self.client_secret = client_secret
        self.token = token
        self.codes: dict[str, dict[str, str]] = {}
        """Install codes not yet exchanged: code -> {context, scope, redirect_uri}."""

    # ------------------------------------------------------------------ store

    def store(self, request: Request) -> dict[str, Any]:
        return {
            "id": self.st.store_hash, "account_uuid": "8d4d492f-17a1-4d95-b396-e1c5720815a5",
            "domain": "sandbox-store.example", "secure_url": "https://sandbox-store.example",
            "control_panel_base_url": f"https://store-{self.st.store_hash}.mybigcommerce.com",
            "status": "live", "name": "bridge sandbox store", "first_name": "Sam",
            "last_name": "Sandbox", "address": "1 Sandbox Street, London", "country": "United Kingdom",
            "country_code": "GB", "phone": "+44 20 0000 0000", "admin_email": "owner@example.invalid",
            "order_email": "orders@example.invalid", "favicon_url": "", "timezone": {
                "name": "Europe/London", "raw_offset": 0, "dst_offset": 3600, "dst_correction": True,
                "date_format": {"display": "jS M Y", "export": "M jS Y", "extended_display": "M jS Y @ g:i A"}},
            "language": "en", "currency": self.st.currency, "currency_symbol": "£",
            "decimal_separator": ".", "thousands_separator": ",", "decimal_places": 2,
            "currency_symbol_location": "left", "weight_units": self.st.weight_units,
            "dimension_units": self.st.dimension_units, "dimension_decimal_places": 2,
            "dimension_decimal_token": ".", "dimension_thousands_token": ",",
            "plan_name": "Standard", "plan_level": "Standard", "plan_is_trial": False,
            "industry": "Apparel", "logo": [], "is_price_entered_with_tax": True,
            "store_id": 1001, "default_site_id": 1000, "default_channel_id": 1,
            "active_comparison_modules": [], "infrastructure_region": "europe-west",
            "features": {"stencil_enabled": True, "sitewidehttps_enabled": True,
                         "facebook_catalog_id": "", "checkout_type": "optimized",
                         "wishlists_enabled": False, "graphql_storefront_api_enabled": True,
                         "shopper_consent_tracking_enabled": False, "multi_storefront_enabled": False,
                         "storefront_limits": {"active": 1, "total_including_inactive": 1}},
        }

    def time(self, request: Request) -> dict[str, int]:
        return {"time": int(time.time())}

    # ------------------------------------------------------------------ hooks

    def _hook(self, request: Request) -> dict:
        hook = self.st.hooks.get(int(request.path_params["hook_id"]))
        if hook is None:
            raise ApiError(404, "Webhook not found")
        return hook

    @staticmethod
    def _check_destination(url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "https" and (parts.port in (None, 443)):
            return
        if parts.scheme in ("http", "https") and parts.hostname and is_loopback(parts.hostname):
            return  # the sandbox delivers to loopback receivers too
        raise ApiError(422, "Destination must be an https URL on port 443",
                       {"destination": "invalid"})

    def hooks(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        with self.st.lock:
            rows = [h for h in self.st.hooks.values()
                    if (not q.get("scope") or h["scope"] == q["scope"])
                    and (not q.get("destination") or h["destination"] == q["destination"])
                    and (q.get("is_active") is None or h["is_active"] == (q["is_active"] == "true"))]
            page, meta = paginate(rows, request)
        return {"data": page, "meta": meta}

    def create_hook(self, request: Request, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not body.get("scope") or not body.get("destination"):
            raise ApiError(422, "scope and destination are required",
                           {"scope": "required", "destination": "required"})
        scope = str(body["scope"])
        if not scope.startswith("store/"):
            raise ApiError(422, f"Invalid scope {scope}", {"scope": "invalid"})
        self._check_destination(str(body["destination"]))
        with self.st.lock:
            if any(h["scope"] == scope and h["destination"] == body["destination"]
                   for h in self.st.hooks.values()):
                raise ApiError(422, "A webhook with this scope and destination already exists",
                               {"scope": "duplicate"})
            stamp = int(time.time())
            hook = {"id": self.st.next_id("hook"), "client_id": self.client_id,
                    "store_hash": self.st.store_hash, "scope": scope,
                    "destination": body["destination"], "is_active": bool(body.get("is_active", True)),
                    "headers": dict(body.get("headers") or {}), "created_at": stamp,
                    "updated_at": stamp}
            self.st.hooks[hook["id"]] = hook
        return {"data": hook, "meta": {}}

    def hook(self, request: Request) -> dict[str, Any]:
        with self.st.lock:
            return {"data": self._hook(request), "meta": {}}

    def update_hook(self, request: Request, body: Any) -> dict[str, Any]:
        with self.st.lock:
            hook = self._hook(request)
            if "destination" in body:
                self._check_destination(str(body["destination"]))
            for key in ("scope", "destination", "is_active", "headers"):
                if key in body:
                    hook[key] = body[key]
            hook["updated_at"] = int(time.time())
            return {"data": hook, "meta": {}}

    def delete_hook(self, request: Request) -> dict[str, Any]:
        with self.st.lock:
            hook = self._hook(request)
            del self.st.hooks[hook["id"]]
            return {"data": hook, "meta": {}}

    # ------------------------------------------------------------------ oauth

    def issue_code(self, redirect_uri: str, scope: str) -> dict[str, str]:
        code = secrets.token_hex(8)
        params = {"code": code, "scope": scope, "context": f"stores/{self.st.store_hash}",
                  "account_uuid": "8d4d492f-17a1-4d95-b396-e1c5720815a5"}
        self.codes[code] = {**params, "redirect_uri": redirect_uri}
        return params

    def token_exchange(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            return JSONResponse({"error": "Invalid client id or secret"}, status_code=401)
        grant = self.codes.pop(str(body.get("code")), None)
        if (grant is None or body.get("grant_type") != "authorization_code"
                or body.get("context") != grant["context"]
                or body.get("redirect_uri") != grant["redirect_uri"]):
            return JSONResponse({"error": "Invalid grant: the code is invalid, used or expired, "
                                          "or redirect_uri differs"}, status_code=400)
        return JSONResponse({
            "access_token": self.token, "scope": grant["scope"],
            "user": {"id": 24654, "username": "owner@example.invalid", "email": "owner@example.invalid"},
            "owner": {"id": 24654, "username": "owner@example.invalid", "email": "owner@example.invalid"},
            "context": grant["context"], "account_uuid": grant["account_uuid"]})
