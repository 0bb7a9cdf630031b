"""The root fields the sandbox serves: ``QueryRoot`` and ``Mutation`` resolvers.

Only the operations bridge uses are served; a field outside them resolves to null (a non-null
one then errors, as graphql-core reports it).
"""

from __future__ import annotations

import time
from typing import Any

from bridge_shopify.sandbox import orders as order_ops
from bridge_shopify.sandbox.resolvers import (
    ORDER_FIELDS,
    PRODUCT_FIELDS,
    SORTS,
    Context,
    Views,
)
from bridge_shopify.sandbox.search import matches, paginate, parse_query
from bridge_shopify.sandbox.state import num_of

VARIANT_FIELDS = {"sku": lambda v: v["sku"], "product_id": lambda v: num_of(v["product"]),
                  "id": lambda v: v["_num"], "updated_at": lambda v: v["updatedAt"]}


PROTECTED = {"email", "phone", "shippingAddress", "billingAddress", "customer"}


def _selects_protected(nodes: Any) -> bool:
    """True when a selection reaches protected customer fields (at any depth)."""
    for node in nodes or ():
        name = getattr(getattr(node, "name", None), "value", None)
        if name in PROTECTED:
            return True
        selection = getattr(node, "selection_set", None)
        if selection is not None and _selects_protected(selection.selections):
            return True
    return False


def _filtered(records: dict[str, dict], query: str | None, fields: dict) -> list[dict]:
    if not query:
        return list(records.values())
    groups = parse_query(query)
    return [r for r in records.values() if matches(r, groups, fields)]


def root_value(ctx: Context) -> dict[str, Any]:
    """The root object of one request (queries and mutations)."""
    views = Views(ctx)
    s = ctx.state

    def products(info: Any, **a: Any) -> dict:
        with s.lock:
            items = _filtered(s.products, a.get("query"), PRODUCT_FIELDS)
            return paginate(items, a, SORTS.get(a.get("sortKey") or "ID", SORTS["ID"]), views.product)

    def products_count(info: Any, query: str | None = None, **a: Any) -> dict:
        with s.lock:
            n = len(_filtered(s.products, query, PRODUCT_FIELDS))
        limit = a.get("limit")
        if limit is not None and n > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": n, "precision": "EXACT"}

    def product_variants(info: Any, **a: Any) -> dict:
        with s.lock:
            items = _filtered(s.variants, a.get("query"), VARIANT_FIELDS)
            return paginate(items, a, SORTS.get(a.get("sortKey") or "ID", SORTS["ID"]), views.variant)

    def orders(info: Any, **a: Any) -> dict:
        if not ctx.protected_ok and _selects_protected(info.field_nodes):
            ctx.denied("orders")()
        with s.lock:
            items = _filtered(s.orders, a.get("query"), ORDER_FIELDS)
            if a.get("query"):  # the search index lags new orders (state.search_lag)
                now = time.monotonic()
                items = [o for o in items if o.get("_searchable_at", 0) <= now]
            return paginate(items, a, SORTS.get(a.get("sortKey") or "ID", SORTS["ID"]), views.order)

    def locations(info: Any, **a: Any) -> dict:
        items = [loc for loc in s.locations.values() if loc["isActive"] or a.get("includeInactive")]
        return paginate(items, a, SORTS["ID"], views.location)

    def webhook_subscriptions(info: Any, **a: Any) -> dict:
        subs = ctx.webhooks.subscriptions(a.get("callbackUrl"), a.get("topics"))
        return paginate(subs, a, SORTS["ID"], ctx.webhooks.view)

    def order_create(info: Any, order: dict, options: dict | None = None) -> dict:
        created, errors = order_ops.create_order(s, order, options)
        return {"order": views.order(created) if created else None, "userErrors": errors}

    def order_cancel(info: Any, orderId: str, refund: bool, restock: bool, reason: str,  # noqa: N803
                     notifyCustomer: bool | None = None, staffNote: str | None = None) -> dict:  # noqa: N803
        errors = order_ops.cancel_order(s, orderId, reason=reason, restock=restock,
                                        staff_note=staffNote)
        job = None if errors else {"id": f"gid://shopify/Job/{orderId.rsplit('/', 1)[-1]}",
                                   "done": True}
        return {"job": job, "orderCancelUserErrors": errors, "userErrors": errors}

    def refund_create(info: Any, input: dict) -> dict:  # noqa: A002 - the schema's argument name
        refund, errors = order_ops.create_refund(s, input)
        order = s.orders.get(input.get("orderId") or "")
        return {"refund": views.refund(refund, order) if refund and order else None,
                "order": views.order(order) if refund and order else None, "userErrors": errors}

    def bulk_run(info: Any, query: str) -> dict:
        return ctx.bulk.run(query, ctx)

    def bulk_cancel(info: Any, id: str) -> dict:  # noqa: A002 - the schema's argument name
        return ctx.bulk.cancel(id)

    def webhook_create(info: Any, topic: str, webhookSubscription: dict) -> dict:  # noqa: N803
        sub, errors = ctx.webhooks.create(topic, webhookSubscription)
        return {"webhookSubscription": ctx.webhooks.view(sub) if sub else None, "userErrors": errors}

    def webhook_delete(info: Any, id: str) -> dict:  # noqa: A002
        deleted, errors = ctx.webhooks.delete(id)
        return {"deletedWebhookSubscriptionId": deleted, "userErrors": errors}

    return {
        "shop": {
            **{k: v for k, v in s.shop.items() if k not in ("host", "country")},
            "primaryDomain": {"host": s.shop["host"], "url": f"https://{s.shop['host']}"},
            "billingAddress": {"countryCodeV2": s.shop["country"]},
            "url": f"https://{s.shop['host']}",
        },
        "products": products,
        "productsCount": products_count,
        "product": lambda info, id: views.node(id) if "/Product/" in id else None,
        "productVariants": product_variants,
        "nodes": lambda info, ids: [views.node(i) for i in ids],
        "node": lambda info, id: views.node(id),
        "orders": orders,
        "order": lambda info, id: views.node(id) if "/Order/" in id else None,
        "locations": locations,
        "webhookSubscriptions": webhook_subscriptions,
        "currentAppInstallation": {
            "id": "gid://shopify/AppInstallation/1",
            "accessScopes": [{"handle": h, "description": h} for h in ctx.scopes],
        },
        "currentBulkOperation": lambda info, type=None: ctx.bulk.current(),
        "orderCreate": order_create,
        "orderCancel": order_cancel,
        "refundCreate": refund_create,
        "bulkOperationRunQuery": bulk_run,
        "bulkOperationCancel": bulk_cancel,
        "webhookSubscriptionCreate": webhook_create,
        "webhookSubscriptionDelete": webhook_delete,
    }
