"""End to end in a real browser: `bridge run` with the TikTok Shop and Shopify plugins pointed at
their sandboxes on loopback. Log in; connect a Shopify store and a TikTok shop through their
OAuth flows; see the currency check and the checklist; map a category; watch a product go live;
see an order and its tracking; disconnect. Every page is screenshotted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge.models import Tracking
from bridge.plugins import PluginManager
from bridge.sandboxing import SandboxServer, free_port
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLATFORMS = ("tiktokshop", "shopify")
NEEDS = ("authorization_url", "exchange_code", "sandbox", "list_categories")
PASSWORD = "browser test password"
BRIDGE = [str(Path(sys.executable).parent / "bridge")]


def _plugins() -> PluginManager:
    os.environ["BRIDGE_PLUGINS"] = ",".join(PLATFORMS)
    try:
        pm = PluginManager()
    finally:
        del os.environ["BRIDGE_PLUGINS"]
    for name in PLATFORMS:
        plugin = pm.platform_plugin(name, strict=False)
        if plugin is None:
            pytest.skip(f"the {name} plugin is not installed: end-to-end browser test skipped")
        missing = [op for op in NEEDS if op != "list_categories" or name == "tiktokshop"
                   if not pm.has(name, op)]
        if missing:
            pytest.skip(f"the {name} plugin lacks {', '.join(missing)}: end-to-end browser test skipped")
    return pm


class Stack:
    """The sandboxes, `bridge run`, and the environment they share."""

    def __init__(self, pm: PluginManager, tiktok, shopify, tt_url: str, sh_url: str) -> None:  # type: ignore[no-untyped-def]
        self.pm, self.tiktok, self.shopify = pm, tiktok, shopify
        self.tt_url, self.sh_url = tt_url, sh_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update({
            "BRIDGE_PLUGINS": ",".join(PLATFORMS), "BRIDGE_PUBLIC_URL": self.url,
            "BRIDGE_TIKTOKSHOP_BASE_URL": tt_url, "BRIDGE_SHOPIFY_BASE_URL": sh_url,
            "BRIDGE_INTERVAL_ORDERS": "2", "BRIDGE_INTERVAL_TRACKING": "2",
            "BRIDGE_INTERVAL_INVENTORY": "5", "BRIDGE_INTERVAL_PRODUCTS": "3",
            "BRIDGE_USER_PASSWORD": PASSWORD,
        })
        for platform, sb in (("tiktokshop", tiktok), ("shopify", shopify)):
            for key, value in sb.app_settings().items():
                env[f"BRIDGE_{platform.upper()}_{key.upper()}"] = str(value)
        self.env = env
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        r = subprocess.run([*BRIDGE, *args], env=self.env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def start(self) -> None:
        self.log = open(Path(self.env["BRIDGE_DATA_DIR"]) / "bridge-run.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen([*BRIDGE, "run", "--port", str(self.port), "--workers", "4"],
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

        def healthy() -> bool:
            assert self.proc is not None and self.proc.poll() is None, "bridge run exited"
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("bridge run to answer /healthz", healthy, timeout=30, every=0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.fixture()
def stack(tmp_path, bridge_image_server) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    pm = _plugins()
    tiktok = pm.call("tiktokshop", "sandbox", options={})
    shopify = pm.call("shopify", "sandbox", options={"seed": 3, "variants": 2})
    # the sandbox's product images name Shopify's CDN; serve them on loopback instead
    with shopify.state.lock:
        for product in shopify.state.products.values():
            for k, media in enumerate(product.get("media", [])):
                media["url"] = bridge_image_server.url(f"p{product['_num']}-{k}")
    with SandboxServer(tiktok.app) as tt, SandboxServer(shopify.app) as sh:
        s = Stack(pm, tiktok, shopify, tt.url, sh.url)
        s.cli("org", "create", "Acme")
        s.cli("user", "create", "ann@acme.test", "--org", "Acme")
        s.start()
        try:
            yield s
        finally:
            s.stop()
            log = (Path(s.env["BRIDGE_DATA_DIR"]) / "bridge-run.log").read_text()
            if "Traceback" in log:
                print(log[-6000:])


def _leaf_category(stack: Stack) -> tuple[str, str]:
    """A leaf category of the sandbox shop with the fewest required attributes."""
    conn = stack.tiktok.connection(stack.tt_url)
    try:
        leaves = [c for c in stack.pm.call("tiktokshop", "list_categories", connection=conn)
                  if c.is_leaf and not c.permission_required]
        assert leaves, "the TikTok sandbox has no leaf category"
        return leaves[0].id, leaves[0].name
    finally:
        conn.close()


def _diagnosis() -> str:
    """What the database says when a wait timed out: links, jobs, the journal's last entries."""
    from sqlmodel import col, select

    from bridge import db
    from bridge.tables import Event, Job, ListingLink

    with db.session() as s:
        links = [(x.source_product_id, x.status, x.reasons) for x in s.exec(select(ListingLink))]
        jobs = [(j.key, j.paused, j.failures, j.last_error) for j in s.exec(select(Job))]
        events = [(e.kind, e.item, e.message) for e in
                  s.exec(select(Event).order_by(col(Event.id).desc()).limit(15))]
    return f"links={links}\njobs={jobs}\nevents={events}"


def test_merchant_journey(browser, stack, shots):  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from bridge import db
    from bridge.tables import ListingLink, OrderLink, Store

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20000)
    base = stack.url

    # --- log in
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")
    shots(page, "login")
    page.fill("input[name=email]", "ann@acme.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "Acme" in page.inner_text("main")
    shots(page, "home-empty")

    # --- connect Shopify: installed eCommerce platforms only -> OAuth install
    page.click("#connect-ecommerce")
    shots(page, "connect-ecommerce")
    page.click("a[data-platform=shopify]")
    shots(page, "connect-shopify")
    page.fill("#oauth-form input[name=setting_shop]", stack.shopify.base_url_setting(stack.sh_url)["shop"])
    page.click("#authorize")
    page.wait_for_url(f"{base}/connect/done/**")
    text = page.inner_text("main")
    assert "is connected" in text and "Currency check" in text, text
    shots(page, "shopify-connected")

    # --- connect TikTok Shop: region choice (US offers the waitlist) -> authorize -> back
    page.goto(f"{base}/")
    page.click("#connect-channel")
    page.wait_for_url(f"{base}/connect/platform/tiktokshop")
    shots(page, "tiktok-regions")
    page.check("input[name=region][value=US]")
    page.click("#authorize")
    assert "waitlist" in page.inner_text("main")
    shots(page, "tiktok-waitlist")
    page.go_back()
    page.check("input[name=region][value=GB]")
    page.click("#authorize")
    page.wait_for_url(f"{base}/connect/done/**")
    text = page.inner_text("main")
    assert "Currency check passed" in text, text
    assert "Prerequisites" in text
    shots(page, "tiktok-connected-checklist")
    with db.session() as s:
        shop = s.exec(select(Store).where(Store.platform == "tiktokshop", Store.status == "active")).first()
    assert shop is not None and shop.currency == "GBP"

    # --- home and apps show both stores
    page.goto(f"{base}/")
    assert shop.name in page.inner_text("main")
    shots(page, "home")
    page.goto(f"{base}/apps")
    shots(page, "apps")

    # --- map a category with the search box, then fill the rule's required attributes
    cat_id, cat_name = _leaf_category(stack)
    page.goto(f"{base}/products?shop={shop.id}")
    page.select_option("#rule-form select[name=facet]", "all")
    page.fill("#rule-form .catsearch", cat_name[:12])
    page.click(f"#rule-form .catresults li[data-id='{cat_id}']")
    shots(page, "products-category-search")
    page.click("#rule-form button[type=submit]")
    assert "Rule added" in page.inner_text("main")
    page.click("#rules a:has-text('Attributes')")
    for choice in page.query_selector_all("#attributes-form select[required]"):
        choice.select_option(index=1)
    for field in page.query_selector_all("#attributes-form input[required]"):
        field.fill("Generic")
    shots(page, "rule-attributes")
    page.click("#attributes-form button[type=submit]")

    # --- watch a product go live
    def live() -> bool:
        page.goto(f"{base}/products?shop={shop.id}")
        if page.query_selector("#products .badge.pending"):
            page.click("#refresh-status")  # ask TikTok how its review went
        page.goto(f"{base}/products?shop={shop.id}&status=live")
        return page.query_selector("#products tr[data-product]") is not None

    try:
        wait_for("a product to go live on the TikTok shop", live, timeout=90, every=1.5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_diagnosis()}") from None
    shots(page, "products-live")
    page.goto(f"{base}/products?shop={shop.id}")
    shots(page, "products")

    # --- an order placed on TikTok reaches Shopify; its tracking comes back
    with db.session() as s:
        link = s.exec(select(ListingLink).where(ListingLink.channel_store_id == shop.id,
                                                ListingLink.status == "live")).first()
    assert link is not None
    product = next(p for p in stack.tiktok.products(shop.remote_id) if p["id"] == link.remote_product_id)
    order_id = stack.tiktok.create_order(shop.remote_id, [(product["skus"][0]["seller_sku"], 1)],
                                         released=True)

    def order_created() -> OrderLink | None:
        with db.session() as s:
            return s.exec(select(OrderLink).where(OrderLink.channel_order_id == order_id,
                                                  OrderLink.ecommerce_order_id != None)).first()  # noqa: E711

    created = wait_for("the TikTok order to be created in Shopify", order_created, timeout=60, every=0.5)
    page.goto(f"{base}/orders")
    row = page.inner_text(f"#orders tr[data-order='{order_id}']")
    assert created.ecommerce_order_number and created.ecommerce_order_number in row  # type: ignore[attr-defined]
    assert "gid://" not in page.inner_text("main")
    shots(page, "orders-created")
    stack.shopify.fulfill_order(created.ecommerce_order_id, Tracking(number="RM123456785GB",  # type: ignore[attr-defined]
                                                                     carrier="Royal Mail"))

    def tracked() -> bool:
        page.goto(f"{base}/orders")
        return "RM123456785GB" in page.inner_text(f"#orders tr[data-order='{order_id}'] .tracking")

    wait_for("the tracking number to be pushed to TikTok", tracked, timeout=60, every=1.5)
    shots(page, "orders-tracking")

    # --- the order's page: both sides as the orders flow kept them, the store's admin link
    page.click(f"#orders tr[data-order='{order_id}'] a.order-link")
    assert page.inner_text("#order-sides .store-order") == created.ecommerce_order_number  # type: ignore[attr-defined]
    assert page.get_attribute("#order-sides .store-order a", "href").startswith(f"{stack.sh_url}/admin/orders/")
    sku = product["skus"][0]["seller_sku"]
    cells = page.locator(f"#lines tr[data-sku='{sku}'] td").all_inner_texts()
    assert cells[2] == cells[5] == "1" and cells[3] == cells[6], cells  # one unit, same price both sides
    tiktok_total, store_total = page.locator("#totals tr[data-total='total'] td").all_inner_texts()
    assert tiktok_total == store_total != "—"
    assert "RM123456785GB" in page.inner_text("#packages")
    assert "gid://" not in page.inner_text("main")
    shots(page, "order-page")

    # --- the other pages
    page.goto(f"{base}/stores/{shop.id}/settings")
    page.fill("input[name='templates.title']", "{{ product.title }} | Acme")
    page.wait_for_selector("#preview .ptitle:has-text('| Acme')")
    shots(page, "settings-preview")
    page.goto(f"{base}/activity")
    shots(page, "activity")
    page.goto(f"{base}/stores/{shop.id}/prerequisites")
    shots(page, "checklist")

    # --- what a merchant knows, never a platform's bare id; the Shopify store's own health
    with db.session() as s:
        eco = s.exec(select(Store).where(Store.org_id == shop.org_id, Store.kind == "ecommerce")).one()
    for url in ("/", "/apps", f"/products?shop={shop.id}", "/orders", "/activity",
                f"/stores/{shop.id}/settings", f"/stores/{eco.id}/prerequisites"):
        page.goto(f"{base}{url}")
        assert "gid://" not in page.inner_text("main"), url
    page.goto(f"{base}/")
    assert "not run yet" not in page.inner_text(f"tr[data-store='{eco.id}']")
    shots(page, "home-after-runs")

    # --- disconnect with confirmation
    page.goto(f"{base}/apps")
    page.click(f"tr[data-store='{shop.id}'] a.danger")
    shots(page, "disconnect-confirm")
    page.fill("input[name=confirm]", shop.name)
    page.click("#confirm-disconnect")
    assert "disconnected" in page.inner_text("main")
    shots(page, "apps-after-disconnect")
    with db.session() as s:
        row = s.get(Store, shop.id)
        assert row is not None and row.status == "disconnected" and row.credentials_enc is None
    page.close()
