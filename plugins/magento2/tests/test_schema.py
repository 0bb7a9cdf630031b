"""Every request the plugin sends exists in Magento's REST schema, and every body validates.

The schema is Adobe's admin schema for 2.4.8 (``../shared/specs/magento2`` from the repository
root). It is parsed once per run; each body is checked against its operation's body schema
with only the definitions it reaches.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bridge.models import Tracking
from bridge_magento2 import connector
from bridge_magento2.sandbox import MagentoSandbox

from .test_orders import draft

SPEC = Path(os.environ.get("BRIDGE_SHARED_DIR") or Path(__file__).resolve().parents[3] / ".." / "shared") \
    / "specs" / "magento2" / "admin-schema-2.4.8.yaml"


@cache
def spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"REST schema not found at {SPEC}")
    with SPEC.open("rb") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def operations() -> list[tuple[re.Pattern[str], int, str, str]]:
    out = []
    for template, methods in spec()["paths"].items():
        regex = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        literal = sum(1 for seg in template.split("/") if "{" not in seg)
        for method in methods:
            out.append((regex, literal, method.upper(), template))
    return out


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    rel = re.sub(r"^/rest/[^/]+(?=/V1/)", "", path)
    hits = [(lit, t) for rx, lit, m, t in operations() if m == method and rx.match(rel)]
    assert hits, f"{method} {rel} is not in Magento's REST schema"
    template = max(hits)[1]
    return template, spec()["paths"][template][method.lower()]


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            name = ref.rsplit("/", 1)[1]
            if name not in found:
                found.add(name)
                _refs(spec()["definitions"][name], found)
        for v in node.values():
            _refs(v, found)
    elif isinstance(node, list):
        for v in node:
            _refs(v, found)


@cache
def body_validator(template: str, method: str) -> jsonschema.Draft4Validator:
    op = spec()["paths"][template][method.lower()]
    [param] = [p for p in op.get("parameters", []) if p.get("in") == "body"]
    needed: set[str] = set()
    _refs(param["schema"], needed)
    schema = {**param["schema"], "definitions": {n: spec()["definitions"][n] for n in needed}}
    return jsonschema.Draft4Validator(schema)


def test_every_request_matches_the_rest_schema(sandbox: MagentoSandbox, conn: Any, recorder: Any) -> None:
    sandbox.seed_catalog(3, 2)
    sandbox.seed_catalog(1, 1)
    connector.connect(conn)
    connector.check_prerequisites(conn)
    list(connector.list_products(conn, None))
    list(connector.read_inventory(conn, None))
    created = connector.create_order(conn, draft(conn, "576111"))
    connector.create_order(conn, draft(conn, "576111"))
    shipped = connector.create_order(conn, draft(conn, "576222"))
    sandbox.fulfill_order(shipped.remote_id, Tracking(number="T1", carrier="DPD"))
    connector.list_fulfillments(conn, [shipped.remote_id])
    connector.cancel_order(conn, created.remote_id, "buyer cancelled")
    list(connector.list_orders(conn, None))
    connector.get_orders(conn, [created.remote_id])

    bodies = 0
    seen = set()
    for method, path, content in recorder.sent:
        template, op = operation(method, path)
        seen.add(f"{method} {template}")
        if content:
            validator = body_validator(template, method)
            errors = sorted(validator.iter_errors(json.loads(content)), key=str)
            assert not errors, f"{method} {template}: {errors[0].message} at {list(errors[0].absolute_path)}"
            bodies += 1
        else:
            assert not any(p.get("in") == "body" and p.get("required") for p in op.get("parameters", []))
    assert bodies >= 4  # two orders, their comments, the cancel comment
    assert {"POST /V1/orders", "POST /V1/orders/{id}/comments", "POST /V1/orders/{id}/cancel",
            "GET /V1/shipments", "GET /V1/inventory/export-stock-salable-qty/{salesChannelType}/{salesChannelCode}",
            "GET /V1/products", "GET /V1/store/storeConfigs"} <= seen


def test_refund_requests_match_the_rest_schema(sandbox: MagentoSandbox, conn: Any, recorder: Any) -> None:
    from decimal import Decimal

    from bridge.models import Money, RefundDraft, RefundLine

    sandbox.seed_catalog(1, 1)
    created = connector.create_order(conn, draft(conn, "576333"))
    sandbox.fulfill_order(created.remote_id, Tracking(number="T2", carrier="DPD"))
    order = sandbox.state.orders[int(created.remote_id)]
    item = order["items"][0]
    gbp = order["order_currency_code"]
    recorder.sent.clear()
    connector.create_refund(conn, RefundDraft(
        order_id=created.remote_id, key="tiktok-return-91", note="TikTok Shop return 91 (tiktok-return-91)",
        lines=[RefundLine(variant_id=str(item["product_id"]), quantity=1,
                          amount=Money(amount=Decimal(str(item["price"])), currency=gbp))],
        total=Money(amount=Decimal(str(item["price"])) + 1, currency=gbp),
        shipping=Money(amount=Decimal("1"), currency=gbp), restock=True))
    found = connector.find_refund(conn, created.remote_id, "tiktok-return-91")
    assert found is not None
    seen = set()
    for method, path, content in recorder.sent:
        template, _ = operation(method, path)
        seen.add(f"{method} {template}")
        if content:
            errors = sorted(body_validator(template, method).iter_errors(json.loads(content)), key=str)
            assert not errors, f"{method} {template}: {errors[0].message} at {list(errors[0].absolute_path)}"
    assert {"POST /V1/order/{orderId}/invoice", "POST /V1/order/{orderId}/refund", "GET /V1/creditmemos"} <= seen
    from bridge_magento2.client import MagentoClient

    memos = MagentoClient(conn).get("creditmemos", {
        "searchCriteria[filterGroups][0][filters][0][field]": "order_id",
        "searchCriteria[filterGroups][0][filters][0][value]": created.remote_id})
    errors = sorted(response_validator("/V1/creditmemos").iter_errors(memos), key=str)
    assert not errors, f"{errors[0].message} at {list(errors[0].absolute_path)}"


def test_schema_check_catches_a_bad_body() -> None:
    validator = body_validator("/V1/orders", "POST")
    assert list(validator.iter_errors({"entity": {"grand_total": "x", "items": [{}]}}))


@cache
def response_validator(template: str) -> jsonschema.Draft4Validator:
    schema = spec()["paths"][template]["get"]["responses"]["200"]["schema"]
    needed: set[str] = set()
    _refs(schema, needed)
    return jsonschema.Draft4Validator({**schema, "definitions": {n: spec()["definitions"][n] for n in needed}})


def test_attributes_answer_validates_against_the_schema(sandbox: MagentoSandbox, conn: Any) -> None:
    from bridge_magento2.client import MagentoClient

    page = MagentoClient(conn).get("products/attributes", {"searchCriteria[pageSize]": "10"})
    errors = sorted(response_validator("/V1/products/attributes").iter_errors(page), key=str)
    assert not errors, f"{errors[0].message} at {list(errors[0].absolute_path)}"
    required = spec()["definitions"]["catalog-data-product-attribute-interface"]["required"]
    assert {"entity_type_id", "is_required", "frontend_labels"} <= set(required)
    assert page["items"] and all(set(required) <= set(item) for item in page["items"])


def test_stock_items_carry_every_required_field(sandbox: MagentoSandbox, conn: Any) -> None:
    from bridge_magento2.client import MagentoClient

    sandbox.seed_catalog(1, 1)
    sku = next(iter(sandbox.state.by_sku))
    item = MagentoClient(conn).get(f"stockItems/{sku}")
    required = spec()["definitions"]["catalog-inventory-data-stock-item-interface"]["required"]
    assert set(required) <= set(item), sorted(set(required) - set(item))
