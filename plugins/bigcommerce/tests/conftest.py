"""Fixtures: one BigCommerce sandbox served over a real loopback socket for the whole session,
reset (and reseeded) before each test that uses it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bridge.connection import AppContext, Connection
from bridge.models import Address, Money, OrderDraft, OrderLine
from bridge.sandboxing import SandboxServer
from bridge_bigcommerce.sandbox import BigCommerceSandbox

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def served() -> Iterator[tuple[BigCommerceSandbox, SandboxServer]]:
    sandbox = BigCommerceSandbox({"seed": 0})
    with SandboxServer(sandbox.app) as server:
        yield sandbox, server


@pytest.fixture()
def sandbox(served: tuple[BigCommerceSandbox, SandboxServer]) -> BigCommerceSandbox:
    sb, _ = served
    sb.reset(12, 3, seed=7)
    return sb


@pytest.fixture()
def server(served: tuple[BigCommerceSandbox, SandboxServer]) -> SandboxServer:
    return served[1]


@pytest.fixture()
def app(sandbox: BigCommerceSandbox, server: SandboxServer) -> AppContext:
    return AppContext(platform="bigcommerce", settings={**sandbox.app_settings(), "base_url": server.url},
                      public_url="https://bridge.example")


@pytest.fixture()
def make_conn(sandbox: BigCommerceSandbox, server: SandboxServer,
              app: AppContext) -> Iterator[Callable[..., Connection]]:
    made: list[Connection] = []

    def make(settings: dict[str, Any] | None = None, **credentials: Any) -> Connection:
        conn = Connection(platform="bigcommerce",
                          settings={**sandbox.base_url_setting(server.url), **(settings or {})},
                          credentials={**sandbox.credentials(), **credentials}, app=app,
                          remote_id=f"test-{next(_ids)}")
        made.append(conn)
        return conn

    yield make
    for c in made:
        c.close()


@pytest.fixture()
def conn(make_conn: Callable[..., Connection]) -> Connection:
    return make_conn()



def draft(source_id: str = "576000000000000001", *, variant: str = "1001", product: str = "100",
          qty: int = 2, price: str = "19.00", total: str = "40.99", tax: str | None = None) -> OrderDraft:
    """A TikTok order draft for the sandbox's seeded product 100."""
    gbp = "GBP"
    addr = Address(name="Jane Doe", first_name="Jane", last_name="Doe", line1="1 Test Street",
                   city="London", region="Greater London", postal_code="SW1A 1AA", country_code="GB",
                   phone="+440000000000")
    return OrderDraft(
        source="TikTok Shop", source_order_id=source_id, currency=gbp,
        lines=[OrderLine(remote_id="L1", product_id=product, variant_id=variant, sku="X", title="Tee",
                         quantity=qty, unit_price=Money(amount=price, currency=gbp))],
        shipping_address=addr, buyer_email="buyer@example.invalid", buyer_name="Jane Doe",
        shipping=Money(amount="4.99", currency=gbp), total=Money(amount=total, currency=gbp),
        tax=Money(amount=tax, currency=gbp) if tax else None, note="TikTok Shop order " + source_id)


@pytest.fixture()
def make_draft() -> Callable[..., OrderDraft]:
    """:func:`draft`, for tests (plugin test modules are not importable by each other)."""
    return draft
