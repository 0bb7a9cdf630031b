"""Every request body the plugin sends validates against BigCommerce's OpenAPI specs
(``../shared/specs/bigcommerce`` from the repository root), and names only declared fields."""

from __future__ import annotations

import functools
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bridge.errors import Rejected
from bridge.models import Money, RefundDraft, RefundLine, Tracking
from bridge_bigcommerce import orders, refunds, webhooks

SPECS = Path(os.environ.get("BRIDGE_SHARED_DIR") or Path(__file__).resolve().parents[3].parent / "shared") \
    / "specs" / "bigcommerce"
pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason="shared/specs/bigcommerce is not beside the repository")
#: sandbox route -> (spec file, spec path, method)
ROUTES = {
    ("POST", "/v2/orders"): ("orders.v2.oas2.yml", "/orders", "post"),
    ("PUT", "/v2/orders/{order_id:int}"): ("orders.v2.oas2.yml", "/orders/{order_id}", "put"),
    ("POST", "/v3/hooks"): ("webhooks.v3.yml", "/hooks", "post"),
    ("PUT", "/v3/hooks/{hook_id:int}"): ("webhooks.v3.yml", "/hooks/{webhook_id}", "put"),
}


@functools.cache
def spec(name: str) -> dict:
    return yaml.safe_load((SPECS / name).read_text())


def request_schema(name: str, path: str, method: str) -> dict:
    return spec(name)["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def resolve(name: str, schema: dict) -> dict:
    while "$ref" in schema:
        node: Any = spec(name)
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def declared(name: str, schema: dict) -> set[str]:
    """Property names an object schema declares (through allOf/anyOf/oneOf and $ref)."""
    schema = resolve(name, schema)
    out = set(schema.get("properties", {}))
    for sub in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
        out |= declared(name, sub)
    return out


def validate(name: str, schema: dict, body: Any) -> None:
    registry = Registry().with_resource(f"urn:{name}", Resource(contents=spec(name),
                                                                specification=DRAFT202012))
    ref = schema.get("$ref")
    root = {"$ref": f"urn:{name}{ref}"} if ref else schema
    errors = sorted(Draft202012Validator(root, registry=registry).iter_errors(body), key=str)
    assert not errors, f"{name}: " + "; ".join(e.message for e in errors[:5])
    undeclared = set(body) - declared(name, schema)
    assert not undeclared, f"{name}: fields not in the schema: {sorted(undeclared)}"


def test_every_body_sent_conforms(sandbox, conn, make_draft):
    created = orders.create(conn, make_draft("SPEC-1", tax="3.00", total="40.99"))
    orders.create(conn, make_draft("SPEC-2"))
    orders.cancel(conn, created.remote_id, "spec")
    ids = webhooks.register(conn, "https://bridge.example/webhooks/bigcommerce/1")
    sandbox.state.hooks[int(ids[0])]["is_active"] = False
    webhooks.register(conn, "https://bridge.example/webhooks/bigcommerce/1")
    sandbox.fulfill_order(created.remote_id, Tracking(number="T", carrier="DHL"))
    bodies = sandbox.written_bodies()
    seen = {(m, r) for m, r, _ in bodies}
    assert seen == set(ROUTES), f"unexpected writes: {seen ^ set(ROUTES)}"
    for method, route, body in bodies:
        name, path, verb = ROUTES[(method, route)]
        validate(name, request_schema(name, path, verb), body)


REFUND_ROUTES = {
    ("POST", "/v3/orders/{order_id:int}/payment_actions/refund_quotes"):
        ("orders.v3.yml", "/orders/{order_id}/payment_actions/refund_quotes", "post"),
    ("POST", "/v3/orders/{order_id:int}/payment_actions/refunds"):
        ("orders.v3.yml", "/orders/{order_id}/payment_actions/refunds", "post"),
    ("POST", "/v3/inventory/adjustments/relative"):
        ("inventory.v3.yml", "/inventory/adjustments/relative", "post"),
}


def test_refund_bodies_conform_and_money_moves_offline_only(sandbox, conn, make_draft):
    created = orders.create(conn, make_draft("SPEC-R1", qty=2, total="40.99"))
    sandbox.written_bodies()
    with sandbox.gate.lock:
        sandbox.gate.bodies.clear()
    gbp = "GBP"
    sku = sandbox.state.order_lines[int(created.remote_id)][0]["sku"]
    before = sandbox.quantity(sku)
    variant = str(sandbox.state.order_lines[int(created.remote_id)][0]["variant_id"])
    made = refunds.create_refund(conn, RefundDraft(
        order_id=created.remote_id, key="tiktok-return-77", note="TikTok Shop return 77 (tiktok-return-77)",
        lines=[RefundLine(variant_id=variant, quantity=1, amount=Money(amount=Decimal("19.00"), currency=gbp))],
        shipping=Money(amount=Decimal("2.99"), currency=gbp), total=Money(amount=Decimal("21.99"), currency=gbp),
        restock=True))
    assert made.restocked and sandbox.quantity(sku) == before + 1
    [ref] = sandbox.state.refunds[int(created.remote_id)]
    assert [(p["provider_id"], p["offline"]) for p in ref["payments"]] == [("custom", True)]
    assert ref["total_amount"] == 21.99 and sandbox.state.orders[int(created.remote_id)]["status_id"] == 14
    assert refunds.find_refund(conn, created.remote_id, "tiktok-return-77").remote_id == made.remote_id
    assert refunds.find_refund(conn, created.remote_id, "tiktok-return-78") is None
    # more units than are left: refused before anything is sent
    with pytest.raises(Rejected) as err:
        refunds.create_refund(conn, RefundDraft(
            order_id=created.remote_id, key="tiktok-return-79", note="x tiktok-return-79",
            lines=[RefundLine(variant_id=variant, quantity=2)], total=Money(amount=Decimal("1"), currency=gbp)))
    assert err.value.code == "ALREADY_REFUNDED"
    bodies = sandbox.written_bodies()
    assert {(m, r) for m, r, _ in bodies} == set(REFUND_ROUTES)
    for method, route, body in bodies:
        name, path, verb = REFUND_ROUTES[(method, route)]
        validate(name, request_schema(name, path, verb), body)


def test_the_validator_catches_a_wrong_body():
    name, path, verb = ROUTES[("POST", "/v2/orders")]
    with pytest.raises(AssertionError):
        validate(name, request_schema(name, path, verb), {"billing_address": {"zip": 12345},
                                                          "products": []})
    with pytest.raises(AssertionError, match="not in the schema"):
        validate(name, request_schema(name, path, verb), {"externl_order_id": "x"})
