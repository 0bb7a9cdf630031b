"""Dashboard: the pictures a merchant looks at before reading a table — listings by status per
shop, orders per day over the last 30 days, tracking pushed vs waiting, how long since each
flow last finished a run, and the failures of the last day. Figures come from
:mod:`bridge.web.stats`; the charts are inline SVG from :mod:`bridge.web.charts`."""

from __future__ import annotations

from markupsafe import Markup
from starlette.responses import Response
from starlette.routing import Route

from bridge.tables import utcnow
from bridge.web import access, auth, charts, stats
from bridge.web.base import Ctx, view

LISTING_COLOURS = {"live": charts.GREEN, "in review": charts.BLUE, "held": charts.ORANGE,
                   "failed": charts.RED, "off sale": charts.GREY}
ORDER_COLOURS = {"created": charts.GREEN, "waiting": charts.BLUE, "held": charts.ORANGE,
                 "cancelled": charts.GREY}
PUSH_COLOURS = {"pushed": charts.GREEN, "waiting": charts.BLUE, "held or failed": charts.RED}


def duration(seconds: float | None) -> str:
    """``42 s``, ``5 min``, ``3 h 10 min``, ``2 d 4 h``; "none yet" for None."""
    if seconds is None:
        return "no finished run yet"
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _stacked(ident: str, title: str, desc: str, labels: list[str], counts: list[dict[str, int]],
             colours: dict[str, str], head: str) -> Markup:
    series = [charts.Series(name, colour, [c[name] for c in counts]) for name, colour in colours.items()]
    return charts.stacked_bars(ident, title, desc, labels, series, head=head)


@view()
def index(ctx: Ctx) -> Response:
    """The dashboard of every shop and organization the user may see."""
    now = utcnow()
    orgs = auth.visible_orgs(ctx.user)
    shops = access.stores(ctx, "channel")
    shop_ids = [s.id for s in shops if s.id is not None]
    f = stats.figures(shop_ids, [o.id for o in orgs if o.id is not None], now)
    names = {s.id: s.name for s in access.stores(ctx, include_disconnected=True)}
    org_names = {o.id: o.name for o in orgs}
    shop_names = [names[i] for i in shop_ids]

    listings = _stacked("listings", "Listings by status per shop",
                        "One bar per TikTok shop, split into live, in review, held, failed and "
                        "off-sale listings; the total at the end of each bar.",
                        shop_names, [f.listings[i] for i in shop_ids], LISTING_COLOURS, "Shop")
    orders = charts.columns(
        "orders", "Orders per day, last 30 days",
        "One column per day (UTC) of the TikTok orders received that day, split by what became "
        "of them: created in the store, waiting, held, cancelled.",
        [d.strftime("%d %b") for d in f.days],
        [charts.Series(name, ORDER_COLOURS[name], f.orders[name]) for name in ORDER_COLOURS],
        head="Day")
    tracking = _stacked("tracking", "Tracking numbers pushed to TikTok vs waiting",
                        "One bar per TikTok shop: tracking numbers pushed, waiting to be pushed, "
                        "and held or failed.",
                        shop_names, [f.tracking[i] for i in shop_ids], PUSH_COLOURS, "Shop")
    lag_rows = [charts.Bar(f"{names.get(lag.shop_id, '') or org_names.get(lag.org_id, '')} · {lag.flow}",
                           lag.seconds or 0,
                           duration(lag.seconds) + (" — behind" if lag.behind else ""))
                for lag in f.lags]
    lags = charts.bars("lag", "Time since each flow last finished a run",
                       "One bar per scheduled flow of each shop or organization: the time since "
                       "its last run that finished (ok or partial). Longer is further behind.",
                       lag_rows, colour=charts.PURPLE, head=("Flow", "Since the last finished run"))
    fail_rows = [charts.Bar(x.flow, x.failed_runs + x.partial_runs,
                            f"{x.failed_runs} failed, {x.partial_runs} partial, "
                            f"{x.item_errors} item errors")
                 for x in f.failures]
    failures = charts.bars("failures", "Failures over the last 24 hours",
                           "One bar per flow: its failed and partial runs since 24 hours ago; "
                           "the text also gives the number of items that failed.",
                           fail_rows, colour=charts.RED, head=("Flow", "Failures"))
    # (name, figure, the list it counts: filtered when a single shop is shown)
    one = f"shop={shop_ids[0]}&" if len(shop_ids) == 1 else ""
    totals = [
        ("Live listings", sum(c["live"] for c in f.listings.values()), f"/products?{one}status=live"),
        ("Failed listings", sum(c["failed"] for c in f.listings.values()), f"/products?{one}status=failed"),
        ("Orders, last 30 days", sum(sum(v) for v in f.orders.values()), "/orders"),
        ("Held orders, last 30 days", sum(f.orders["held"]), "/orders?status=held"),
        ("Tracking numbers waiting", sum(c["waiting"] for c in f.tracking.values()), "/orders"),
        ("Flows behind", sum(1 for lag in f.lags if lag.behind), "/activity"),
    ]
    return ctx.render("dashboard.html", totals=totals, now=now,
                      charts=[listings, orders, tracking, lags, failures])


routes = [Route("/dashboard", index)]
