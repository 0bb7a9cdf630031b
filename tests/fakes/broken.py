"""Deliberately broken copies of the fake connectors: each has one realistic bug planted, for the
connector test kit's own tests (every bug must be caught by the check named beside it).

A broken plugin is the good fake's hook implementations with one or two replaced, registered
under the fake's platform name in a plugin manager of its own.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bridge import hookimpl
from bridge.connection import Connection
from bridge.errors import NeedsReconnect, RateLimited, Rejected, Transient
from bridge.models import (
    CreatedOrder,
    Fulfillment,
    OrderDraft,
    PlatformInfo,
    ProductPage,
    Setting,
    StoreInfo,
    Tracking,
    WebhookDelivery,
    WebhookEvent,
    WebhookRequest,
)
from bridge.plugins import PluginManager
from tests.fakes import fake_channel, fake_ecommerce
from tests.fakes.fake_ecommerce import _client, _product, check_response, find_order


def plugin(base: types.ModuleType, name: str, **overrides: Any) -> types.ModuleType:
    """``base``'s hook implementations with ``overrides`` in place of some."""
    mod = types.ModuleType(f"broken_{name}")
    for attr, value in vars(base).items():
        if callable(value) and hasattr(value, "bridge_impl"):
            setattr(mod, attr, value)
    for attr, value in overrides.items():
        assert hasattr(mod, attr) or attr in {"list_fulfillments"}, f"{attr} is not a hook of {base.__name__}"
        setattr(mod, attr, hookimpl(value))
    return mod


# ---------------------------------------------------------------- the planted bugs (eCommerce)


def first_page_only(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    """Pagination stops after the first page (the cursor claims the stream is done)."""
    data = check_response(_client(connection).get("/products", params={"after": 0, "page": 0}))
    yield ProductPage(products=[_product(p) for p in data["products"]],
                      cursor=json.dumps({"after": data["max_seq"], "page": 0}))


def carrier_dropped(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    """The fulfilment's carrier is not read (only the tracking number)."""
    out = []
    for oid in order_ids:
        for f in check_response(_client(connection).get(f"/orders/{oid}/fulfillments"))["fulfillments"]:
            out.append(Fulfillment(remote_id=f["id"], order_id=oid, tracking=[Tracking(number=f["number"])]))
    return out


def strict_seconds_cursor(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    """The cursor keeps the last update time seen and asks for changes strictly after it, in
    whole seconds: a change in that same second is lost."""
    state = json.loads(cursor) if cursor else {"since": -1, "page": 0, "top": -1}
    client = _client(connection)
    top = state.get("top", -1)
    while True:
        data = check_response(client.get("/products", params={"updated_after": state["since"],
                                                               "page": state["page"]}))
        if not data["products"]:
            return
        top = max([top, *(p["updated"] for p in data["products"])])
        done = data["next_page"] is None
        state = ({"since": top, "page": 0, "top": top} if done
                 else {"since": state["since"], "page": data["next_page"], "top": top})
        yield ProductPage(products=[_product(p) for p in data["products"]], cursor=json.dumps(state))
        if done:
            return


def order_without_prices(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    """The order is created with lines only: the store prices them from its catalog."""
    existing = find_order(connection, draft.source_order_id)
    if existing:
        return CreatedOrder(remote_id=existing, existed=True)
    body = {"source_id": draft.source_order_id, "note": draft.note, "buyer_email": draft.buyer_email,
            "buyer_name": draft.buyer_name, "shipping": str(draft.shipping.amount),
            "lines": [{"variant_id": ln.variant_id, "quantity": ln.quantity} for ln in draft.lines]}
    data = check_response(_client(connection).post("/orders", json=body), item=draft.source_order_id)
    return CreatedOrder(remote_id=data["id"])


def token_not_secret() -> PlatformInfo:
    """The API token is declared without saying it is secret (stored and shown in clear)."""
    return PlatformInfo(name="fakeshop", kind="ecommerce", display_name="Fake Shop",
                        settings=[Setting(name="token", required=True, help="API token")], webhooks=True)


def order_created_twice(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    """No lookup before creating: a retried order is created again."""
    body = {"source_id": draft.source_order_id, "note": draft.note, "buyer_email": draft.buyer_email,
            "buyer_name": draft.buyer_name, "shipping": str(draft.shipping.amount), "total": str(draft.total.amount),
            "lines": [{"variant_id": ln.variant_id, "quantity": ln.quantity, "price": str(ln.unit_price.amount)}
                      for ln in draft.lines]}
    data = check_response(_client(connection).post("/orders", json=body), item=draft.source_order_id)
    return CreatedOrder(remote_id=data["id"])


def unverified_webhook(connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    """The delivery is parsed without checking its signature."""
    data = json.loads(request.body)
    return WebhookDelivery(delivery_id=data.get("delivery_id"), store_remote_id="fakeshop-1",
                           events=[WebhookEvent(kind=data.get("kind", "other"), remote_ids=data.get("ids", []))])


def unauthenticated_connect(connection: Connection) -> StoreInfo:
    """connect answers from settings alone, never asking the platform with the credentials."""
    return StoreInfo(remote_id="fakeshop-1", name="Fake Shop", currency="GBP")


def _lax_check(resp: Any, item: str | None = None) -> Any:
    """A 401 read as a passing network fault, and the platform's wait thrown away."""
    if resp.status_code == 401 or resp.status_code >= 500:
        raise Transient(f"fake: error {resp.status_code}")
    if resp.status_code >= 400:
        raise Rejected("refused", code=resp.status_code, item=item)
    return resp.json()


def auth_as_transient(connection: Connection) -> StoreInfo:
    """A refused token is reported as a transient failure (retried for ever, never reconnected)."""
    data = _lax_check(_client(connection).get("/shop"))
    return StoreInfo(remote_id=data["id"], name=data["name"], currency=data["currency"])


def wait_thrown_away(connection: Connection) -> StoreInfo:
    """A rate limit is turned into a plain transient failure: the platform's wait is lost."""
    try:
        data = check_response(_client(connection).get("/shop"))
    except RateLimited as exc:
        raise Transient(f"fake: busy ({exc})") from None
    except NeedsReconnect:
        raise
    return StoreInfo(remote_id=data["id"], name=data["name"], currency=data["currency"])


@dataclass(frozen=True)
class Bug:
    name: str
    platform: str
    overrides: dict[str, Any]
    caught_by: str
    """The kit check that must fail."""
    already_caught: bool = False
    """True for the bugs the kit caught before it grew (the issue's three)."""

    def manager(self) -> PluginManager:
        base = fake_ecommerce if self.platform == "fakeshop" else fake_channel
        other = fake_channel if self.platform == "fakeshop" else fake_ecommerce
        pm = PluginManager(load_entrypoints=False)
        pm.register(plugin(base, self.name, **self.overrides), name=self.platform, distribution="tests", version="0")
        pm.register(other, name=other.__name__.rsplit(".", 1)[-1], distribution="tests", version="0")
        return pm


BUGS = [
    Bug("pagination stops after the first page", "fakeshop", {"list_products": first_page_only},
        "catalog/stream_covers_the_whole_catalog_in_pages"),
    Bug("fulfilment drops the carrier", "fakeshop", {"list_fulfillments": carrier_dropped},
        "fulfilment/fulfilment_carries_tracking_and_carrier"),
    Bug("cursor loses changes made in the same second", "fakeshop", {"list_products": strict_seconds_cursor},
        "catalog/changes_in_the_cursors_second_are_not_lost"),
    Bug("order created without the channel's prices", "fakeshop", {"create_order": order_without_prices},
        "orders/created_order_is_what_the_channel_charged"),
    Bug("secret setting not declared secret", "fakeshop", {"describe_platform": token_not_secret},
        "describing/every_setting_says_whether_it_is_secret"),
    Bug("order creation not idempotent", "fakeshop", {"create_order": order_created_twice},
        "orders/create_order_is_idempotent", already_caught=True),
    Bug("webhook signature not verified", "fakeshop", {"receive_webhook": unverified_webhook},
        "webhooks/unsigned_delivery_is_refused", already_caught=True),
    Bug("connect makes no authenticated call", "fakeshop", {"connect": unauthenticated_connect},
        "connecting/bad_credentials_are_refused", already_caught=True),
    Bug("401 mapped to Transient", "fakeshop", {"connect": auth_as_transient},
        "errors/connect_401_is_NeedsReconnect"),
    Bug("429 wait thrown away", "fakeshop", {"connect": wait_thrown_away},
        "errors/connect_429_is_RateLimited"),
]
