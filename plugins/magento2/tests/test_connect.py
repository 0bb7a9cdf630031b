"""Connecting: StoreInfo from the store configuration, auth modes, activation, prerequisites."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bridge.connection import AppContext
from bridge.errors import NeedsReconnect, WebhookRejected
from bridge.models import WebhookRequest
from bridge.sandboxing import SandboxServer
from bridge_magento2 import connector
from bridge_magento2.sandbox import MagentoSandbox


def test_connect_reads_store_configuration_and_detects_msi(conn: Any, server: SandboxServer) -> None:
    info = connector.connect(conn)
    assert info.currency == "GBP"
    assert info.timezone == "Europe/London"
    assert info.name == "Main Website Store / Default Store View"
    assert info.remote_id == f"{server.url.split('://')[1]}/default"
    assert info.settings["msi"] is True and info.settings["stock_id"] == 1
    assert info.settings["media_url"] == f"{server.url}/media/"
    assert info.settings["base_url"] == server.url
    assert info.details["locale"] == "en_GB"
    assert not any("secret" in str(v) for v in info.settings.values())


def test_connect_without_msi_keeps_legacy_stock(sandbox: MagentoSandbox, conn: Any) -> None:
    sandbox.set_msi(False)
    info = connector.connect(conn)
    assert info.settings["msi"] is False and "stock_id" not in info.settings
    assert "legacy" in info.details["inventory"]


def test_unknown_store_view_is_misconfigured(make_conn: Any) -> None:
    from bridge.errors import Rejected
    with pytest.raises(Rejected, match="Requested store is not found"):
        connector.connect(make_conn({"store_code": "fr"}))


def test_bad_signature_needs_reconnect(sandbox: MagentoSandbox, make_conn: Any) -> None:
    creds = {**sandbox.credentials(), "access_token_secret": "not-the-secret"}
    with pytest.raises(NeedsReconnect, match="signature is invalid"):
        connector.connect(make_conn(credentials=creds))


def test_bearer_works_when_the_store_allows_it(sandbox: MagentoSandbox, make_conn: Any, recorder: Any) -> None:
    sandbox.set_bearer(True)
    conn = make_conn({"auth_mode": "bearer"}, {"access_token": sandbox.credentials()["access_token"]})
    info = connector.connect(conn)
    assert info.settings["auth_mode"] == "bearer" and not info.warnings


def test_bearer_refused_falls_back_to_signing(sandbox: MagentoSandbox, make_conn: Any) -> None:
    conn = make_conn({"auth_mode": "bearer"})
    info = connector.connect(conn)
    assert info.settings["auth_mode"] == "oauth1"
    assert any("OAuth 1.0a" in w for w in info.warnings)
    assert sandbox.stats.by_route["GET /rest/{store}/V1/store/storeConfigs"] == 2  # bearer 401, then signed


def test_bearer_refused_without_oauth_values_needs_reconnect(sandbox: MagentoSandbox, make_conn: Any) -> None:
    conn = make_conn({"auth_mode": "bearer"}, {"access_token": sandbox.credentials()["access_token"]})
    with pytest.raises(NeedsReconnect, match="isn't authorized to access Magento_Catalog::products"):
        connector.connect(conn)


def test_activation_handshake_connects_the_store(sandbox: MagentoSandbox, server: SandboxServer) -> None:
    app = AppContext(platform="magento2", settings={"base_url": server.url})
    body = sandbox.activation_form("https://shop.example.com/")
    result = connector.app_callback(app=app, name="activate", request=WebhookRequest(
        headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body,
        query={"state": "STATE-OF-THE-USER"}))
    assert result.response_status == 200
    [store] = result.stores
    assert store.credentials == sandbox.credentials()
    assert store.settings["base_url"] == server.url and store.currency == "GBP"
    assert sandbox.stats.by_route["POST /oauth/token/request"] == 1
    assert sandbox.stats.by_route["POST /oauth/token/access"] == 1


def test_activation_with_a_wrong_verifier_is_refused(sandbox: MagentoSandbox, server: SandboxServer) -> None:
    app = AppContext(platform="magento2", settings={"base_url": server.url})
    body = sandbox.activation_form(server.url).replace(sandbox.integration.verifier.encode(), b"forged")
    with pytest.raises(NeedsReconnect):
        connector.app_callback(app=app, name="activate", request=WebhookRequest(headers={}, body=body,
                                                                                 query={"state": "S"}))
    with pytest.raises(WebhookRejected):
        connector.app_callback(app=app, name="activate", request=WebhookRequest(headers={}, body=b"x=1"))


def test_prerequisites_say_the_store_is_polled(conn: Any) -> None:
    checks = {p.key: p for p in connector.check_prerequisites(conn)}
    assert checks["polling"].ok and "no webhooks" in checks["polling"].detail
    assert "salable quantity of stock 1" in checks["inventory"].detail
    assert checks["orders_api"].ok and checks["shipments_api"].ok
    assert connector.describe_platform().webhooks is False


def _activate(app: AppContext, body: bytes, query: dict[str, str]) -> Any:
    return connector.app_callback(app=app, name="activate", request=WebhookRequest(
        headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body, query=query))


def test_activation_without_a_state_makes_no_request(sandbox: MagentoSandbox, server: SandboxServer) -> None:
    app = AppContext(platform="magento2", settings={"base_url": server.url})
    with pytest.raises(WebhookRejected, match=r"\?state="):
        _activate(app, sandbox.activation_form(server.url), {})
    assert sandbox.stats.by_route.get("POST /oauth/token/request", 0) == 0


@pytest.mark.parametrize("address", ["https://10.0.0.7/", "https://169.254.169.254/", "file:///etc/passwd",
                                     "http://shop.example.com/"])
def test_activation_to_a_refused_address_makes_no_request(sandbox: MagentoSandbox, address: str) -> None:
    from bridge.errors import Misconfigured

    requests: list[Any] = []
    app = AppContext(platform="magento2", transport=httpx.MockTransport(lambda r: requests.append(r)))
    with pytest.raises(Misconfigured):
        _activate(app, sandbox.activation_form(address), {"state": "S"})
    assert requests == []
