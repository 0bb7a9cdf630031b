"""Bad input gets a 4xx, never a 500: non-ASCII where a signature or token is compared, digits
``int`` refuses (``²``), ids beyond the database's integer range, malformed form numbers."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bridge import stores
from tests.web.conftest import make_store, make_user

HUGE = "99999999999999999999"


@pytest.fixture()
def world(pm):  # type: ignore[no-untyped-def]
    org = stores.create_org("Acme")
    make_user("ann@acme.test", ["Acme"])
    shop = make_store(org.id, "fakechannel", "channel", "shop-1", "Fake Shop")  # type: ignore[arg-type]
    return org, shop


@pytest.fixture()
def raw(app):  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_a_non_ascii_csrf_token_is_refused_not_crashed(world, raw):
    raw.get("/login")  # the double-submit cookie
    r = raw.post("/login", data={"email": "ann@acme.test", "password": "x", "csrf_token": "é"})
    assert 400 <= r.status_code < 500


@pytest.mark.parametrize("store_id", [HUGE, "²", "١٢", "-1"])
def test_odd_store_ids_in_webhook_addresses_are_not_found(world, raw, store_id):
    r = raw.post(f"/webhooks/fakeshop/{store_id}", content=b"{}")
    assert r.status_code == 404


@pytest.mark.parametrize("url", [f"/orders?page={HUGE}", "/orders?page=²", f"/products?shop={HUGE}",
                                 "/products?shop=²", f"/products/{HUGE}/categories",
                                 f"/stores/{HUGE}/settings", f"/products?page={HUGE}"])
def test_odd_numbers_in_pages_are_4xx_or_fine(world, signed_in, url):
    ann = signed_in("ann@acme.test")
    with TestClient(ann.app, raise_server_exceptions=False, cookies=ann.cookies) as c:
        r = c.get(url)
    assert r.status_code < 500


@pytest.mark.parametrize("priority", ["abc", "²", HUGE])
def test_a_bad_rule_priority_is_a_clear_400(world, signed_in, priority):
    _org, shop = world
    ann = signed_in("ann@acme.test")
    r = ann.form(f"/products/{shop.id}/rules", {"facet": "all", "category_id": "c1", "priority": priority})
    assert r.status_code == 400 and "priority must be a whole number" in r.text
