"""The app flow: install code exchange, signed load/uninstall callbacks."""

from __future__ import annotations

import time

import pytest

from bridge.errors import NeedsReconnect, WebhookRejected
from bridge.models import WebhookRequest
from bridge_bigcommerce import auth, connector

REDIRECT = "https://bridge.example/callbacks/bigcommerce/auth"


def test_install_exchanges_the_code_and_reads_the_store(sandbox, app):
    params = sandbox.install_params(REDIRECT)
    result = connector.app_callback(app=app, name="auth", request=WebhookRequest(
        headers={}, body=b"", query=params))
    (info,) = result.stores
    assert info.remote_id == sandbox.store_hash
    assert info.credentials == {"access_token": sandbox.token}
    assert info.settings["base_url"] == app.settings["base_url"]
    assert (info.currency, info.timezone, info.name) == ("GBP", "Europe/London", "bridge sandbox store")
    assert info.warnings == []
    with pytest.raises(NeedsReconnect):  # a code is single-use
        auth.exchange(app, params, REDIRECT)


def test_install_warns_about_missing_scopes(sandbox, app):
    params = sandbox.install_params(REDIRECT, scope="store_v2_products_read_only")
    (info,) = connector.exchange_code(app=app, params=params, redirect_uri=REDIRECT)
    assert "store_v2_orders" in info.warnings[0] and "store_inventory" in info.warnings[0]


def test_install_with_another_redirect_uri_is_refused(sandbox, app):
    params = sandbox.install_params(REDIRECT)
    with pytest.raises(NeedsReconnect):
        auth.exchange(app, params, "https://elsewhere.example/auth")


def _callback(app, name: str, token: str):
    return connector.app_callback(app=app, name=name, request=WebhookRequest(
        headers={}, body=b"", query={"signed_payload_jwt": token}))


def test_uninstall_and_load_callbacks_verify_the_jwt(sandbox, app):
    result = _callback(app, "uninstall", sandbox.signed_payload_jwt())
    assert result.uninstalled_remote_ids == [sandbox.store_hash]
    assert _callback(app, "load", sandbox.signed_payload_jwt()).redirect_to == "/"
    token = sandbox.signed_payload_jwt()
    head, payload, sig = token.split(".")
    with pytest.raises(WebhookRejected, match="signature"):
        _callback(app, "uninstall", f"{head}.{payload}.{sig[:-2]}xx")
    with pytest.raises(WebhookRejected, match="expired"):
        _callback(app, "load", sandbox.signed_payload_jwt(now=time.time() - 3 * 86400))
    with pytest.raises(WebhookRejected):
        connector.app_callback(app=app, name="load", request=WebhookRequest(headers={}, body=b""))


def test_jwt_for_another_app_is_refused(sandbox):
    token = auth.sign_jwt({"aud": "other-app", "sub": "stores/x", "iat": time.time(),
                           "exp": time.time() + 60}, sandbox.client_secret)
    with pytest.raises(WebhookRejected, match="aud"):
        auth.verify_jwt(token, sandbox.client_secret, sandbox.client_id)
    good = auth.sign_jwt({"aud": sandbox.client_id, "sub": "stores/x", "iat": time.time(),
                          "exp": time.time() + 60}, sandbox.client_secret)
    assert auth.store_hash_of(auth.verify_jwt(good, sandbox.client_secret, sandbox.client_id)) == "x"
    with pytest.raises(WebhookRejected):
        auth.verify_jwt(good, "another-secret", sandbox.client_id)


def test_prerequisites_report_a_missing_location(sandbox, make_conn):
    checks = {p.key: p for p in connector.check_prerequisites(connection=make_conn({"location_id": 77}))}
    assert checks["store_live"].ok and checks["scope_orders"].ok
    assert not checks["inventory_location"].ok and checks["inventory_location"].blocking


def test_only_hs256_tokens_with_the_claims_are_accepted(sandbox):
    import base64
    import json

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"aud": sandbox.client_id, "sub": "stores/x", "iat": int(time.time()), "exp": int(time.time()) + 60}
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    with pytest.raises(WebhookRejected):
        auth.verify_jwt(unsigned, sandbox.client_secret, sandbox.client_id)
    import jwt

    with pytest.raises(WebhookRejected):
        auth.verify_jwt(jwt.encode(claims, sandbox.client_secret, algorithm="HS512"),
                        sandbox.client_secret, sandbox.client_id)
    without_exp = {k: v for k, v in claims.items() if k != "exp"}
    with pytest.raises(WebhookRejected):
        auth.verify_jwt(auth.sign_jwt(without_exp, sandbox.client_secret), sandbox.client_secret, sandbox.client_id)
    # the sandbox's token is made by hand, as BigCommerce documents it: PyJWT accepts it
    assert auth.verify_jwt(sandbox.signed_payload_jwt(), sandbox.client_secret, sandbox.client_id)["iss"] == "bc"
