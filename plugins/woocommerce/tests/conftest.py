"""One WooCommerce sandbox served over loopback for the whole run; faults, latency and the active
tracking plugins are reset around each test, and each test gets a fresh connection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from bridge.connection import AppContext, Connection
from bridge.models import Address, Money, OrderDraft, OrderLine
from bridge.sandboxing import SandboxServer
from bridge_woocommerce.sandbox import WooSandbox


@pytest.fixture(scope="session")
def sandbox() -> WooSandbox:
    return WooSandbox({"seed": 8, "variants": 3})


@pytest.fixture(scope="session")
def server(sandbox: WooSandbox) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox.app) as s:
        yield s


@pytest.fixture(autouse=True)
def _reset(sandbox: WooSandbox) -> Iterator[None]:
    sandbox.faults.clear()
    sandbox.set_latency(0)
    sandbox.set_tracking("both")
    sandbox.aftership_format = "items"
    yield
    sandbox.faults.clear()


def make_connection(sandbox: WooSandbox, url: str, **settings: object) -> Connection:
    return Connection(platform="woocommerce", settings={**sandbox.base_url_setting(url), **settings},
                      credentials=dict(sandbox.credentials()), app=AppContext(platform="woocommerce"))


@pytest.fixture()
def conn(sandbox: WooSandbox, server: SandboxServer) -> Iterator[Connection]:
    c = make_connection(sandbox, server.url)
    yield c
    c.close()



def draft(source_id: str, product_id: str, variant_id: str, currency: str, *, quantity: int = 1,
          price: str = "12.50") -> OrderDraft:
    addr = Address(name="Ada Lovelace", first_name="Ada", last_name="Lovelace", line1="1 Test St", city="London",
                   postal_code="SW1A 1AA", country_code="GB", phone="+440000000000")
    unit = Money(amount=price, currency=currency)
    return OrderDraft(
        source="TikTok Shop", source_order_id=source_id, currency=currency,
        lines=[OrderLine(remote_id="L1", product_id=product_id, variant_id=variant_id, quantity=quantity,
                         unit_price=unit)],
        shipping_address=addr, buyer_email="buyer@example.com", buyer_name="Ada Lovelace",
        shipping=Money(amount="2.50", currency=currency),
        total=Money(amount=Decimal(price) * quantity + Decimal("2.50"), currency=currency),
        note=f"TikTok Shop order {source_id}")


@pytest.fixture()
def make_draft() -> Callable[..., OrderDraft]:
    """``make_draft(source_id, product_id, variant_id, currency, quantity=1, price="12.50")``."""
    return draft


@pytest.fixture()
def new_connection() -> Callable[..., Connection]:
    """``new_connection(sandbox, url, **settings)``: a connection with empty state."""
    return make_connection
