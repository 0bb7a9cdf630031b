"""The dashboard's figures, each one aggregate query (GROUP BY in the database, never a loop
over rows): listings by status per shop, orders per day, tracking pushes by status, the time
since each flow's last finished run, and the failures of the last day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from bridge import db
from bridge.statuses import ListingStatus, OrderStatus, PushStatus, RunStatus
from bridge.tables import ItemError, Job, ListingLink, OrderLink, SyncRun, TrackingPushRecord

#: How the dashboard groups listing statuses (every status is in one group).
LISTING_GROUPS: dict[str, tuple[str, ...]] = {
    "live": (ListingStatus.LIVE,),
    "in review": (ListingStatus.PENDING, ListingStatus.DRAFT, ListingStatus.CREATING),
    "held": (ListingStatus.HELD, ListingStatus.WAITING, ListingStatus.UNMAPPED),
    "failed": (ListingStatus.FAILED,),
    "off sale": (ListingStatus.DEACTIVATED, ListingStatus.FROZEN, ListingStatus.DELETED,
                 ListingStatus.UNLINKED),
}
#: How the dashboard groups order statuses ("failed" is what older rows may hold).
ORDER_GROUPS: dict[str, tuple[str, ...]] = {
    "created": (OrderStatus.CREATED, OrderStatus.SHIPPED, OrderStatus.RECORDED),
    "waiting": (OrderStatus.PENDING, OrderStatus.CREATING),
    "held": (OrderStatus.HELD, "failed"),
    "cancelled": (OrderStatus.CANCELLED,),
}
#: How the dashboard groups tracking pushes.
PUSH_GROUPS: dict[str, tuple[str, ...]] = {
    "pushed": (PushStatus.PUSHED,),
    "waiting": (PushStatus.PENDING,),
    "held or failed": (PushStatus.HELD, PushStatus.FAILED),
}
#: Runs that went through (a partial run held some items but read everything).
FINISHED = (RunStatus.OK, RunStatus.PARTIAL)
FAILED_RUNS = (RunStatus.FAILED, RunStatus.ABORTED)


def _group(groups: dict[str, tuple[str, ...]], status: str) -> str:
    for name, members in groups.items():
        if status in members:
            return name
    return next(reversed(groups))  # an unknown status counts with the last group


@dataclass
class Lag:
    """One scheduled flow: of one shop, or of an organization (``shop_id`` None); seconds
    since its last finished run (None: none yet)."""

    flow: str
    org_id: int | None
    shop_id: int | None
    seconds: float | None
    interval_s: int = 60

    @property
    def behind(self) -> bool:
        """No finished run for three of its intervals (or none at all)."""
        return self.seconds is None or self.seconds > 3 * max(self.interval_s, 60)


@dataclass
class Failures:
    """One flow's failures over the last day."""

    flow: str
    failed_runs: int = 0
    partial_runs: int = 0
    item_errors: int = 0


@dataclass
class Figures:
    """Everything the dashboard draws."""

    listings: dict[int, dict[str, int]] = field(default_factory=dict)  # shop -> group -> n
    days: list[date] = field(default_factory=list)
    orders: dict[str, list[int]] = field(default_factory=dict)  # group -> a count per day
    tracking: dict[int, dict[str, int]] = field(default_factory=dict)  # shop -> group -> n
    lags: list[Lag] = field(default_factory=list)
    failures: list[Failures] = field(default_factory=list)


def listings_by_status(shop_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    out = {i: dict.fromkeys(LISTING_GROUPS, 0) for i in shop_ids}
    with db.session() as s:
        for shop, status, n in s.exec(
                select(ListingLink.channel_store_id, ListingLink.status, func.count())
                .where(col(ListingLink.channel_store_id).in_(shop_ids or [-1]))
                .group_by(ListingLink.channel_store_id, ListingLink.status)):
            out[shop][_group(LISTING_GROUPS, status)] += n
    return out


def orders_per_day(shop_ids: Sequence[int], now: datetime, days: int = 30) -> tuple[list[date], dict[str, list[int]]]:
    """Orders received on each of the last ``days`` days (UTC), by what became of them."""
    first = (now - timedelta(days=days - 1)).date()
    dates = [first + timedelta(days=i) for i in range(days)]
    index = {d.isoformat(): i for i, d in enumerate(dates)}
    out = {name: [0] * days for name in ORDER_GROUPS}
    day = func.date(OrderLink.created_at)
    with db.session() as s:
        for d, status, n in s.exec(
                select(day, OrderLink.status, func.count())
                .where(col(OrderLink.channel_store_id).in_(shop_ids or [-1]))
                .where(OrderLink.created_at >= datetime.combine(first, time.min, tzinfo=UTC))
                .group_by(day, OrderLink.status)):
            i = index.get(str(d)[:10])
            if i is not None:
                out[_group(ORDER_GROUPS, status)][i] += n
    return dates, out


def tracking_by_status(shop_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    out = {i: dict.fromkeys(PUSH_GROUPS, 0) for i in shop_ids}
    with db.session() as s:
        for shop, status, n in s.exec(
                select(OrderLink.channel_store_id, TrackingPushRecord.status, func.count())
                .join(OrderLink, col(OrderLink.id) == TrackingPushRecord.order_link_id)
                .where(col(OrderLink.channel_store_id).in_(shop_ids or [-1]))
                .group_by(OrderLink.channel_store_id, TrackingPushRecord.status)):
            out[shop][_group(PUSH_GROUPS, status)] += n
    return out


def flow_lags(org_ids: Sequence[int], now: datetime) -> list[Lag]:
    """Each scheduled flow (its job, paused ones left out) of these organizations, with the
    time since its last finished run."""
    ids = list(org_ids) or [-1]
    with db.session() as s:
        jobs = list(s.exec(select(Job).where(col(Job.org_id).in_(ids), Job.paused == False)  # noqa: E712
                           .order_by(Job.org_id, Job.channel_store_id, Job.flow)))
        last = {(flow, org, shop): at for flow, org, shop, at in s.exec(
            select(SyncRun.flow, SyncRun.org_id, SyncRun.channel_store_id, func.max(SyncRun.finished_at))
            .where(col(SyncRun.org_id).in_(ids), col(SyncRun.status).in_(FINISHED))
            .where(SyncRun.dry_run == False)  # noqa: E712
            .group_by(SyncRun.flow, SyncRun.org_id, SyncRun.channel_store_id))}
    out = []
    for job in jobs:
        at = last.get((job.flow, job.org_id, job.channel_store_id))
        out.append(Lag(job.flow, job.org_id, job.channel_store_id,
                       max(0.0, (now - at).total_seconds()) if at else None, job.interval_s))
    return out


def failures_last_day(org_ids: Sequence[int], now: datetime) -> list[Failures]:
    """Failed and partial runs, and item errors, per flow since 24 hours ago."""
    scope = col(SyncRun.org_id).in_(list(org_ids) or [-1])
    since = now - timedelta(days=1)
    out: dict[str, Failures] = {}
    with db.session() as s:
        for flow, status, n in s.exec(
                select(SyncRun.flow, SyncRun.status, func.count())
                .where(scope, SyncRun.started_at >= since, SyncRun.dry_run == False)  # noqa: E712
                .where(col(SyncRun.status).in_((*FAILED_RUNS, RunStatus.PARTIAL)))
                .group_by(SyncRun.flow, SyncRun.status)):
            f = out.setdefault(flow, Failures(flow))
            if status == RunStatus.PARTIAL:
                f.partial_runs += n
            else:
                f.failed_runs += n
        for flow, n in s.exec(
                select(SyncRun.flow, func.count(col(ItemError.id)))
                .join(SyncRun, col(SyncRun.id) == ItemError.run_id)
                .where(scope, ItemError.at >= since, SyncRun.dry_run == False)  # noqa: E712
                .group_by(SyncRun.flow)):
            out.setdefault(flow, Failures(flow)).item_errors += n
    return sorted(out.values(), key=lambda f: f.flow)


def figures(shop_ids: Sequence[int], org_ids: Sequence[int], now: datetime) -> Figures:
    """The dashboard's figures for these shops and organizations (all the user may see)."""
    days, orders = orders_per_day(shop_ids, now)
    return Figures(listings=listings_by_status(shop_ids), days=days, orders=orders,
                   tracking=tracking_by_status(shop_ids), lags=flow_lags(org_ids, now),
                   failures=failures_last_day(org_ids, now))
