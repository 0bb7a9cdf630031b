"""The dashboard: its SVG charts (accessible names, text alternative, escaping, scales), its
figures (one GROUP BY query each, scoped to the user's shops, bounded in time) and the page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bridge import db
from bridge.tables import (
    ItemError,
    Job,
    ListingLink,
    OrderLink,
    SyncRun,
    TrackingPushRecord,
    utcnow,
)
from bridge.web import charts, stats
from bridge.web.dashboard import duration
from tests.web.conftest import make_store, make_user


def test_bars_have_an_accessible_name_a_description_and_the_figures_in_a_table():
    html = str(charts.bars("lag", "Lag <now>", "One bar per flow", [
        charts.Bar("Shop · orders", 600, "10 min"), charts.Bar("<script>x</script>", 60)],
        head=("Flow", "Since")))
    assert 'role="img" aria-labelledby="lag-t lag-d"' in html
    assert '<title id="lag-t">Lag &lt;now&gt;</title><desc id="lag-d">One bar per flow</desc>' in html
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)"', html)]
    assert widths[0] == pytest.approx(widths[1] * 10, abs=0.5)  # scaled to the longest
    assert ('<tr><th scope="row">Shop · orders</th><td>10 min</td></tr>'
            '<tr><th scope="row">&lt;script&gt;x&lt;/script&gt;</th><td>60</td></tr>') in html


def test_stacked_bars_name_each_series_in_a_legend_and_total_each_row():
    html = str(charts.stacked_bars("l", "Listings", "d", ["Shop A", "Shop B"], [
        charts.Series("live", charts.GREEN, [3, 0]), charts.Series("held", charts.ORANGE, [1, 2])],
        head="Shop"))
    assert [t for t in re.findall(r"<li>.*?</svg>(.*?)</li>", html)] == ["live", "held"]
    assert '<th scope="col">Shop</th><th scope="col">live</th><th scope="col">held</th><th scope="col">Total</th>' in html
    assert '<th scope="row">Shop B</th><td>0</td><td>2</td><td>2</td>' in html
    assert html.count("<rect x=") == 3  # no zero-width segment drawn


def test_columns_label_the_last_day_and_every_seventh_back_from_it_on_a_rounded_axis():
    days = [f"d{i}" for i in range(30)]
    html = str(charts.columns("o", "Orders", "d", days, [charts.Series("created", charts.GREEN, [7] * 30)]))
    under = re.findall(r'text-anchor="(?:middle|end)" fill="#1d2430">(d\d+)</text>', html)
    assert under == ["d1", "d8", "d15", "d22", "d29"]
    axis = re.findall(r'text-anchor="end" fill="#1d2430">([\d.]+)</text>', html)
    assert axis == ["0", "5", "10"]  # 7 rounds up to 10
    assert len(re.findall(r'<tr><th scope="row">', html)) == 30


def test_a_chart_with_nothing_says_so():
    assert "Nothing to show yet" in str(charts.bars("x", "X", "d", []))
    assert "<svg" not in str(charts.columns("x", "X", "d", [], []))


@pytest.mark.parametrize(("seconds", "text"), [(None, "no finished run yet"), (42, "42 s"),
                                               (300, "5 min"), (11400, "3 h 10 min"), (187200, "2 d 4 h")])
def test_duration(seconds, text):
    assert duration(seconds) == text


@pytest.fixture()
def shops(pm):  # type: ignore[no-untyped-def]
    """Acme (a shop and its store, ann's) and Other (a shop ann must not see), with figures."""
    from bridge import stores

    acme, other = stores.create_org("Acme"), stores.create_org("Other")
    eco = make_store(acme.id, "fakeshop", "ecommerce", "e1", "Acme Store")
    shop = make_store(acme.id, "fakechannel", "channel", "s1", "Acme Shop")
    foreign = make_store(other.id, "fakechannel", "channel", "s2", "Other Shop")
    make_user("ann@acme.test", ["Acme"])
    now = utcnow()
    with db.session() as s:
        for i, status in enumerate(["live"] * 4 + ["pending", "draft", "held", "waiting", "failed", "frozen"]):
            s.add(ListingLink(channel_store_id=shop.id, source_product_id=f"p{i}", status=status))
        s.add(ListingLink(channel_store_id=foreign.id, source_product_id="x", status="live"))
        orders = [OrderLink(channel_store_id=shop.id, channel_order_id=f"T{i}", status=status,
                            created_at=now - timedelta(days=age))
                  for i, (status, age) in enumerate([("created", 0), ("shipped", 0), ("held", 0),
                                                     ("cancelled", 1), ("pending", 29), ("created", 31)])]
        orders.append(OrderLink(channel_store_id=foreign.id, channel_order_id="F1", status="created",
                                created_at=now))
        s.add_all(orders)
        s.flush()
        for o, status in zip(orders, ["pushed", "pending", "failed", "pushed", "held", "pushed", "pushed"],
                             strict=True):
            s.add(TrackingPushRecord(order_link_id=o.id, tracking_number=f"N{o.id}", status=status))  # type: ignore[arg-type]
        s.add(Job(key="orders:a", flow="orders", org_id=acme.id, channel_store_id=shop.id, interval_s=60))
        s.add(Job(key="tracking:a", flow="tracking", org_id=acme.id, channel_store_id=shop.id, interval_s=60))
        s.add(Job(key="inventory:a", flow="inventory", org_id=acme.id, channel_store_id=shop.id, paused=True))
        s.add(Job(key="orders:o", flow="orders", org_id=other.id, channel_store_id=foreign.id))
        runs = [SyncRun(flow="orders", org_id=acme.id, store_id=eco.id, channel_store_id=shop.id, status=st,
                        started_at=now - timedelta(minutes=m), finished_at=now - timedelta(minutes=m),
                        dry_run=dry)
                for st, m, dry in [("ok", 10, False), ("partial", 2, False), ("failed", 1, False),
                                   ("ok", 0, True), ("failed", 60 * 25, False)]]
        runs.append(SyncRun(flow="orders", org_id=other.id, channel_store_id=foreign.id, status="failed",
                            started_at=now, finished_at=now))
        s.add_all(runs)
        s.flush()
        s.add(ItemError(run_id=runs[1].id, item="T2", message="variant unknown"))  # type: ignore[arg-type]
        s.add(ItemError(run_id=runs[4].id, item="T9", message="old", at=now - timedelta(hours=25)))  # type: ignore[arg-type]
    return acme, shop, foreign, now


def test_figures_group_by_status_day_and_flow_within_the_users_shops(shops):
    acme, shop, foreign, now = shops
    f = stats.figures([shop.id], [acme.id], now)
    assert f.listings == {shop.id: {"live": 4, "in review": 2, "held": 2, "failed": 1, "off sale": 1}}
    assert len(f.days) == 30 and f.days[-1] == now.date()
    assert f.orders["created"][-1] == 2 and f.orders["held"][-1] == 1
    assert f.orders["cancelled"][-2] == 1 and f.orders["waiting"][0] == 1
    assert sum(sum(v) for v in f.orders.values()) == 5  # 31 days old and the other org's left out
    assert f.tracking == {shop.id: {"pushed": 3, "waiting": 1, "held or failed": 2}}
    lags = {lag.flow: lag for lag in f.lags}
    assert set(lags) == {"orders", "tracking"}  # paused jobs and other organizations left out
    assert lags["orders"].seconds == pytest.approx(120, abs=1)  # the partial run, not the failed one
    assert not lags["orders"].behind
    assert lags["tracking"].seconds is None and lags["tracking"].behind
    assert [(x.flow, x.failed_runs, x.partial_runs, x.item_errors) for x in f.failures] == [("orders", 1, 1, 1)]


def test_the_dashboard_page_draws_the_users_figures(shops, signed_in):
    acme, shop, foreign, now = shops
    ann = signed_in("ann@acme.test")
    page = ann.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    assert 'href="/dashboard" class="on" aria-current="page"' in html
    for ident in ("listings", "orders", "tracking", "lag", "failures"):
        assert f'<figure class="chart" id="{ident}">' in html
    assert "Acme Shop" in html and "Other Shop" not in html
    assert f'<dt>Live listings</dt><dd><a href="/products?shop={shop.id}&amp;status=live">4</a></dd>' in html
    assert '<dt>Flows behind</dt><dd><a href="/activity">1</a></dd>' in html
    assert "Acme Shop · tracking</th><td>no finished run yet — behind" in html
    assert "1 failed, 1 partial, 1 item errors" in html


def test_the_dashboard_needs_a_signed_in_user(app):
    from starlette.testclient import TestClient

    r = TestClient(app).get("/dashboard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
