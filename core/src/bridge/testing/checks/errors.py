"""Error mapping, checked by faults injected in the sandbox: 401 -> NeedsReconnect, 429 ->
RateLimited with the wait the platform asked for, 5xx -> Transient, any other 4xx -> Rejected.

The faults go through the sandbox kit, so each answer comes in the platform's own error shape.
A 429 asks for a wait longer than the shared HTTP layer waits inline (30 s): the layer hands it
to the connector, which must let it reach the core with its wait intact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.errors import BridgeError, NeedsReconnect, RateLimited, Rejected, Transient
from bridge.models import InventoryUpdate
from bridge.testing.checks import add_check
from bridge.testing.harness import CheckSkipped, Harness, NotWritten

RATE_LIMIT_WAIT = 45.0
EXPECTED: dict[int, type[BridgeError]] = {401: NeedsReconnect, 429: RateLimited, 500: Transient,
                                          503: Transient, 400: Rejected, 422: Rejected}


def _connect(h: Harness) -> Callable[[], Any]:
    conn = h.memo_connection()
    return lambda: h.call("connect", connection=conn)


def _list_products(h: Harness) -> Callable[[], Any]:
    h.need("list_products")
    conn = h.memo_connection()
    return lambda: next(iter(h.call("list_products", connection=conn, cursor=None)))


def _list_orders(h: Harness) -> Callable[[], Any]:
    h.need("list_orders")
    conn = h.memo_connection()
    return lambda: h.stream("list_orders", connection=conn, cursor=None)


def _create_order(h: Harness) -> Callable[[], Any]:
    from bridge.testing.checks.orders import draft

    h.need("create_order")
    d, _ = draft(h, "FAULT")
    conn = h.memo_connection()
    return lambda: h.call("create_order", connection=conn, draft=d)


def _update_inventory(h: Harness) -> Callable[[], Any]:
    from bridge.testing.checks.channel import listed

    h.need("update_inventory")
    _listing, result = listed(h)
    updates = [InventoryUpdate(product_id=result.remote_product_id, sku_id=sid, quantity=3)
               for sid in result.sku_ids.values()]
    conn = h.memo_connection()
    return lambda: h.call("update_inventory", connection=conn, updates=updates)


def _make(operation: str, prepare: Callable[[Harness], Callable[[], Any]], status: int,
          kind: str | None) -> Callable[[Harness], None]:
    expected = EXPECTED[status]

    def run(h: Harness) -> None:
        if kind:
            h.need_kind(kind)
        act = prepare(h)  # everything the call needs is read before the fault
        retry_after = RATE_LIMIT_WAIT if status == 429 else (0 if status >= 500 else None)
        try:
            with h.fault(status, retry_after=retry_after):
                act()
        except expected as exc:
            if status == 429:
                wait = exc.retry_after  # type: ignore[attr-defined]
                if h.rate_limit_wait:
                    assert abs(wait - RATE_LIMIT_WAIT) < 1, (
                        f"{operation}: RateLimited waits {wait:g} s; the platform asked for {RATE_LIMIT_WAIT:g} s")
                else:
                    assert wait > 0, f"{operation}: RateLimited must come with a positive wait"
            assert str(exc), f"{operation}: the {expected.__name__} has no message for the user"
            return
        except (CheckSkipped, NotWritten):
            raise
        except BridgeError as exc:
            raise AssertionError(f"{operation}: HTTP {status} raised {type(exc).__name__} ({exc}); "
                                 f"it maps to {expected.__name__}") from None
        except Exception as exc:  # noqa: BLE001 - reported as the wrong mapping
            raise AssertionError(f"{operation}: HTTP {status} raised {type(exc).__name__}: {exc}; "
                                 f"it maps to {expected.__name__}") from None
        raise AssertionError(f"{operation}: HTTP {status} raised nothing; it maps to {expected.__name__}")

    run.__doc__ = f"HTTP {status} during {operation} raises {expected.__name__}."
    return run


CASES: list[tuple[str, Callable[[Harness], Callable[[], Any]], list[int], str | None]] = [
    ("connect", _connect, [401, 429, 500, 503], None),
    ("list_products", _list_products, [401, 429, 503], "ecommerce"),
    ("create_order", _create_order, [400, 422, 500], "ecommerce"),
    ("list_orders", _list_orders, [401, 429, 503], "channel"),
    ("update_inventory", _update_inventory, [400, 422, 500], "channel"),
]

for _op, _prepare, _statuses, _kind in CASES:
    for _status in _statuses:
        add_check("errors", f"{_op}_{_status}_is_{EXPECTED[_status].__name__}",
                  _make(_op, _prepare, _status, _kind), _kind)
