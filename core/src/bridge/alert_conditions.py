"""What needs a person, found in bridge's state (knows no platform).

Each :class:`Condition` is keyed by what it is about (``reconnect:12``,
``held_orders:3``), so :mod:`bridge.alerts` alerts it once while it lasts and again if it clears
and comes back:

- a store needs reconnecting (its status says so);
- a store's authorization ends soon: the threshold :func:`bridge.scheduler.check_auth_expiry`
  recorded as crossed (30, 7, 1 days; one alert per threshold, one when several are crossed at
  once);
- TikTok orders or tracking numbers held longer than ``alerts.held_after`` seconds;
- a flow that failed ``alerts.failures`` times in a row (the scheduler's count per job);
- webhook topics missing at the platform after bridge's reconcile (:mod:`bridge.subscriptions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from bridge import config, db
from bridge.statuses import OrderStatus, PushStatus, StoreStatus
from bridge.tables import Job, OrderLink, Store, TrackingPushRecord, utcnow

#: Longest journal/e-mail line kept of a flow's last error.
ERROR_CHARS = 300


@dataclass(frozen=True)
class Condition:
    """One thing a person should act on."""

    org_id: int
    key: str
    kind: str
    message: str
    store_id: int | None = None


def current() -> list[Condition]:
    """Every condition that holds now, across organizations."""
    with db.session() as s:
        stores = {st.id: st for st in s.exec(select(Store).where(Store.status != StoreStatus.DISCONNECTED))}
        found = [*_reconnect(stores), *_auth_expiring(stores), *_held(s, stores),
                 *_failing(s, stores), *_webhooks_missing(stores)]
    return found


def _reconnect(stores: dict[int | None, Store]) -> list[Condition]:
    return [Condition(st.org_id, f"reconnect:{st.id}", "reconnect",
                      f"{st.platform} store '{st.name}' needs reconnecting"
                      f"{': ' + st.status_message if st.status_message else ''}; its flows are paused "
                      f"until it is connected again (admin pages: Stores, or `bridge connect {st.platform}`)",
                      st.id)
            for st in stores.values() if st.status == StoreStatus.NEEDS_RECONNECT]


def _auth_expiring(stores: dict[int | None, Store]) -> list[Condition]:
    """The smallest threshold the scheduler's expiry check recorded, while it still holds."""
    now = utcnow()
    out = []
    for st in stores.values():
        warned = (st.details or {}).get("auth_warned") or []
        if st.status != StoreStatus.ACTIVE or st.auth_expires_at is None or not warned:
            continue
        ends = st.auth_expires_at if st.auth_expires_at.tzinfo else st.auth_expires_at.replace(tzinfo=now.tzinfo)
        left = (ends - now).total_seconds() / 86400
        threshold = min(int(d) for d in warned)
        if left <= threshold:  # a reconnect moved the end further: cleared
            out.append(Condition(st.org_id, f"auth_expiring:{st.id}:{threshold}", "auth_expiring",
                                 f"authorization of {st.platform} store '{st.name}' ends in "
                                 f"{max(0, int(left))} day(s), on {ends:%Y-%m-%d}: reconnect the "
                                 "store to renew it", st.id))
    return out


def _held(s: Session, stores: dict[int | None, Store]) -> list[Condition]:
    held_after = int(config.get("alerts.held_after"))
    before = utcnow() - timedelta(seconds=held_after)
    wait = _duration(held_after)
    orders = s.exec(select(OrderLink.channel_store_id, func.count(), func.min(OrderLink.channel_order_id))
                    .where(OrderLink.status == OrderStatus.HELD, OrderLink.updated_at < before)
                    .group_by(OrderLink.channel_store_id)).all()
    tracking = s.exec(select(OrderLink.channel_store_id, func.count(), func.min(TrackingPushRecord.tracking_number))
                      .join(OrderLink, col(OrderLink.id) == col(TrackingPushRecord.order_link_id))
                      .where(TrackingPushRecord.status == PushStatus.HELD,
                             TrackingPushRecord.updated_at < before)
                      .group_by(OrderLink.channel_store_id)).all()
    out = []
    for store_id, n, example in orders:
        st = stores.get(store_id)
        if st is not None:
            out.append(Condition(st.org_id, f"held_orders:{st.id}", "held_orders",
                                 f"{n} order(s) of '{st.name}' held for more than {wait} (e.g. "
                                 f"{example}): see Orders in the admin pages for what to fix", st.id))
    for store_id, n, example in tracking:
        st = stores.get(store_id)
        if st is not None:
            out.append(Condition(st.org_id, f"held_tracking:{st.id}", "held_tracking",
                                 f"{n} tracking number(s) for orders of '{st.name}' held for more "
                                 f"than {wait} (e.g. {example}): see Orders in the admin pages "
                                 "(a carrier mapping is often what is missing)", st.id))
    return out


def _failing(s: Session, stores: dict[int | None, Store]) -> list[Condition]:
    limit = int(config.get("alerts.failures"))
    out = []
    for job in s.exec(select(Job).where(Job.failures >= limit, Job.org_id != None)):  # noqa: E711
        st = stores.get(job.channel_store_id or job.store_id)
        where = f" for '{st.name}'" if st is not None else ""
        error = (job.last_error or "no error recorded")[:ERROR_CHARS]
        out.append(Condition(job.org_id, f"flow_failing:{job.key}", "flow_failing",  # type: ignore[arg-type]
                             f"the {job.flow} flow{where} failed {job.failures} times in a row; "
                             f"last error: {error}", st.id if st is not None else None))
    return out


def _webhooks_missing(stores: dict[int | None, Store]) -> list[Condition]:
    out = []
    for st in stores.values():
        hooks = (st.details or {}).get("webhooks") or {}
        if st.status == StoreStatus.ACTIVE and hooks.get("mode") == "webhooks" and hooks.get("missing"):
            topics = ", ".join(hooks["missing"])
            out.append(Condition(st.org_id, f"webhooks_missing:{st.id}", "webhooks_missing",
                                 f"{st.platform} store '{st.name}' has no webhook subscription for "
                                 f"{topics}: bridge polls meanwhile; `bridge doctor` tells why "
                                 "(the platform refused them, or the public URL changed)", st.id))
    return out


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} day(s)"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour(s)"
    if seconds % 60 == 0:
        return f"{seconds // 60} minute(s)"
    return f"{seconds} s"
