"""Platform-agnostic webhook handling: find the store, have its plugin verify the signature over
the raw body *before* anything is parsed, drop repeated deliveries, and turn the events into
scheduler triggers (the work is queued; the answer comes at once).

========================  ======================================================================
event (store kind)        what happens
========================  ======================================================================
product (eCommerce)       ``products`` flow for every shop of the organization, items = product ids
inventory (eCommerce)     ``inventory`` flow for every shop, items = the ids named
fulfillment               ``tracking`` flow, items = the ids named
order, order_cancelled    ``orders`` flow (channel: that shop, items = channel order ids)
refund                    ``refunds`` flow (channel: that shop, items = channel order ids;
                          eCommerce: each shop holding those store orders, items = its order ids)
product (channel)         ``products`` flow for that shop, items = the linked source products
listing_status (channel)  ``listings`` flow for that shop, items = the linked source products
inventory (channel)       ``inventory`` flow for that shop
uninstalled, deauthorized the store is marked needs-reconnect (its jobs pause)
ping, other               nothing
========================  ======================================================================
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bridge import db, journal, metrics, scheduler
from bridge.errors import Misconfigured, Unsupported, WebhookRejected
from bridge.models import WebhookDelivery, WebhookRequest
from bridge.plugins import PluginManager, get_manager
from bridge.statuses import StoreStatus
from bridge.stores import app_context, connection_for, mark_needs_reconnect
from bridge.tables import ListingLink, OrderLink, Store, WebhookSeen


@dataclass
class Outcome:
    """What a delivery led to: the HTTP status to answer and what was queued."""

    status: int
    message: str
    store_id: int | None = None
    triggered: list[str] = field(default_factory=list)
    duplicate: bool = False


def _store(platform: str, store_id: int | None, remote_id: str | None) -> Store | None:
    with db.session() as s:
        if store_id is not None:
            row = s.get(Store, store_id)
            return row if row is not None and row.platform == platform else None
        if remote_id is None:
            return None
        return s.exec(select(Store).where(Store.platform == platform,
                                          Store.remote_id == str(remote_id))).first()


def receive(platform: str, request: WebhookRequest, *, store_id: int | None = None,
            pm: PluginManager | None = None) -> Outcome:
    """Handle one delivery to ``/webhooks/<platform>[/<store_id>]``."""
    pm = pm or get_manager()
    try:
        pm.platform_plugin(platform)
    except Misconfigured:
        return Outcome(404, f"no plugin provides platform '{platform}'")
    if not pm.has(platform, "receive_webhook"):
        return Outcome(404, str(Unsupported(platform, "receive_webhook")))
    store = None
    if store_id is not None:
        store = _store(platform, store_id, None)
        if store is None or store.status == StoreStatus.DISCONNECTED:
            metrics.inc("bridge_webhooks_total", platform=platform, outcome="unknown_store")
            return Outcome(404, f"no connected {platform} store {store_id}")
    conn = connection_for(store, pm) if store is not None else None
    try:
        delivery: WebhookDelivery = pm.call(platform, "receive_webhook", app=app_context(platform, pm),
                                            connection=conn, request=request)
    except WebhookRejected as exc:
        return _rejected(platform, store, str(exc))
    if store is not None and delivery.store_remote_id is not None and \
            str(delivery.store_remote_id).lower() != str(store.remote_id).lower():
        return _rejected(platform, store, f"{platform} delivery names another store than "
                                          f"'{store.name}' (the store of its address)")
    if store is None:
        store = _store(platform, None, delivery.store_remote_id)
        if store is None or store.status == StoreStatus.DISCONNECTED:
            metrics.inc("bridge_webhooks_total", platform=platform, outcome="unknown_store")
            return Outcome(404, f"no connected {platform} store '{delivery.store_remote_id}'")
    delivery_id = delivery.delivery_id or "sha256:" + hashlib.sha256(request.body).hexdigest()
    try:
        with db.session() as s:
            s.add(WebhookSeen(platform=platform, delivery_id=f"{store.id}:{delivery_id}"))
    except IntegrityError:
        for topic in sorted({ev.topic for ev in delivery.events}) or [""]:
            metrics.inc("bridge_webhooks_total", platform=platform, outcome="duplicate", topic=topic)
        return Outcome(200, "duplicate delivery dropped", store_id=store.id, duplicate=True)
    triggered = dispatch(store, delivery)
    for topic in sorted({ev.topic for ev in delivery.events}) or [""]:
        metrics.inc("bridge_webhooks_total", platform=platform, outcome="accepted", topic=topic)
    return Outcome(200, "queued", store_id=store.id, triggered=triggered)


#: Refused deliveries journaled per platform and store per minute (the rest are counted only):
#: a stranger posting forged deliveries cannot fill the journal.
REJECTED_JOURNAL_PER_MINUTE = 10
_rejected_counts: dict[tuple[str, int | None], tuple[int, int]] = {}
_rejected_lock = threading.Lock()


def _journal_allowed(platform: str, store_id: int | None) -> bool:
    minute = int(time.monotonic() // 60)
    with _rejected_lock:
        if len(_rejected_counts) > 10_000:
            _rejected_counts.clear()
        seen_minute, count = _rejected_counts.get((platform, store_id), (minute, 0))
        if seen_minute != minute:
            count = 0
        _rejected_counts[(platform, store_id)] = (minute, count + 1)
        return count < REJECTED_JOURNAL_PER_MINUTE


def _rejected(platform: str, store: Store | None, reason: str) -> Outcome:
    metrics.inc("bridge_webhooks_total", platform=platform, outcome="rejected")
    store_id = store.id if store else None
    if _journal_allowed(platform, store_id):
        journal.record("webhook.rejected", f"{platform} webhook refused: {reason}", level="warning",
                       org_id=store.org_id if store else None, store_id=store_id,
                       data={"platform": platform})
    return Outcome(401, "bad signature", store_id=store_id)


def _source_ids(store: Store, remote_ids: list[str]) -> list[str] | None:
    if not remote_ids:
        return None
    with db.session() as s:
        rows = s.exec(select(ListingLink.source_product_id).where(
            ListingLink.channel_store_id == store.id,
            col(ListingLink.remote_product_id).in_(remote_ids)))
        return sorted(set(rows)) or None


def _channel_orders(store: Store, order_ids: list[str]) -> dict[int, list[str]]:
    """Channel order ids of these store orders, by channel shop."""
    if not order_ids:
        return {}
    out: dict[int, list[str]] = {}
    with db.session() as s:
        for link in s.exec(select(OrderLink).where(OrderLink.ecommerce_store_id == store.id,
                                                   col(OrderLink.ecommerce_order_id).in_(order_ids))):
            out.setdefault(link.channel_store_id, []).append(link.channel_order_id)
    return out


def dispatch(store: Store, delivery: WebhookDelivery) -> list[str]:
    """Turn a verified delivery's events into triggers; returns ``flow:items`` lines done."""
    done: list[str] = []
    org = store.org_id
    for ev in delivery.events:
        ids = [str(i) for i in ev.remote_ids] or None
        if ev.kind in ("uninstalled", "deauthorized"):
            mark_needs_reconnect(store.id, f"the app was {ev.kind} on {store.platform} store "  # type: ignore[arg-type]
                                           f"'{store.name}': connect it again")
            done.append(ev.kind)
            continue
        if ev.kind in ("ping", "other"):
            continue
        if store.kind == "ecommerce" and ev.kind == "refund":
            # a refund or an edit of store orders: the refunds flow of each shop with those orders
            for shop_id, channel_orders in _channel_orders(store, ids or []).items():
                scheduler.trigger("refunds", org, shop_id, channel_orders)
                done.append(f"refunds:{','.join(channel_orders)}")
            continue
        if store.kind == "ecommerce":
            flow = {"product": "products", "inventory": "inventory", "fulfillment": "tracking",
                    "order": "orders", "order_cancelled": "orders",
                    "listing_status": None}.get(ev.kind)
            if flow:
                scheduler.trigger(flow, org, None, ids)
                done.append(f"{flow}:{','.join(ids or [])}")
            continue
        if ev.kind == "refund":
            scheduler.trigger("refunds", org, store.id, ids)
            done.append(f"refunds:{','.join(ids or [])}")
        elif ev.kind in ("order", "order_cancelled", "fulfillment"):
            scheduler.trigger("orders", org, store.id, ids)
            done.append(f"orders:{','.join(ids or [])}")
        elif ev.kind in ("product", "listing_status"):
            # a status change is followed by the listings flow; other product changes on the
            # channel are compared again by the products flow
            flow = "listings" if ev.kind == "listing_status" else "products"
            items = _source_ids(store, ids or [])
            scheduler.trigger(flow, org, store.id, items)
            done.append(f"{flow}:{','.join(items or [])}")
        elif ev.kind == "inventory":
            scheduler.trigger("inventory", org, store.id, None)
            done.append("inventory:")
    if done:
        journal.record("webhook.received", f"{store.platform} webhook: {', '.join(done)}",
                       org_id=org, store_id=store.id, data={"delivery_id": delivery.delivery_id})
    return done
