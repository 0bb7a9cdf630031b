"""One product on one TikTok shop: its images and variants with the store's price and stock
beside what bridge last sent and what TikTok reports now, its category and attributes (and
where they come from), TikTok's status and reasons, what the next sync would do (the plan), its
journal, its overrides, and the actions: ask TikTok for its status now, retry, exclude / include,
re-activate, link to a TikTok product by hand, unlink, list again. Every action calls the core
function the CLI calls (the listings flow, for the status)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlmodel import col, select
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from bridge import db, overrides, scheduler
from bridge.errors import BridgeError, Misconfigured
from bridge.mapping import Mapped, Mapper
from bridge.models import Product
from bridge.stores import list_stores
from bridge.sync import manual_links, plan_flow, run_flow
from bridge.sync.base import FlowContext
from bridge.tables import Event, ListingLink, ProductMapping, SkuLink, Store
from bridge.web import access
from bridge.web.base import Ctx, view

JOURNAL = 50


@dataclass
class VariantRow:
    """One variant: the store's figures, bridge's last sent ones, TikTok's reported quantity."""

    variant_id: str
    sku: str
    title: str
    store_price: str | None
    store_quantity: int | None
    sent_price: str | None
    sent_quantity: int | None
    tiktok_quantity: int | None
    remote_sku_id: str | None

    @property
    def differs(self) -> bool:
        """TikTok's quantity is not the one bridge last sent (a sale, or an edit on TikTok)."""
        return self.tiktok_quantity is not None and self.sent_quantity is not None \
            and self.tiktok_quantity != self.sent_quantity


def flow_context(ctx: Ctx, shop: Store) -> FlowContext:
    """A read-only flow context of the shop and its organization's eCommerce store."""
    eco = next((s for s in list_stores(shop.org_id, include_disconnected=False) if s.kind == "ecommerce"), None)
    if eco is None:
        raise Misconfigured("the organization has no eCommerce store connected: connect one under Apps")
    return FlowContext(flow="products", org_id=shop.org_id, ecommerce=eco, channel=shop, pm=ctx.pm)


def _store_product(fc: FlowContext, pid: str, problems: list[str]) -> Product | None:
    """The product as the store has it now (None: gone, or the store could not say why)."""
    assert fc.ecommerce is not None
    try:
        found = fc.reader(fc.ecommerce).get_products([pid])
    except BridgeError as exc:
        problems.append(f"{fc.ecommerce.name} could not be read: {exc}")
        return None
    return found[0] if found else None


def _reported(fc: FlowContext, skus: list[SkuLink], problems: list[str]) -> dict[str, int]:
    """TikTok's quantity of each linked SKU, now (channel SKU id -> quantity)."""
    assert fc.channel is not None
    ids = [s.remote_sku_id for s in skus if s.remote_sku_id]
    reader = fc.reader(fc.channel)
    if not ids or not reader.has("read_inventory"):
        return {}
    try:
        return {lv.variant_id: lv.quantity for lv in reader.read_inventory(ids)}
    except BridgeError as exc:
        problems.append(f"TikTok's stock could not be read: {exc}")
        return {}


def variant_rows(product: Product | None, skus: list[SkuLink], reported: dict[str, int]) -> list[VariantRow]:
    """The store's variants (or, when the store could not say, the linked SKUs) side by side."""
    by_variant = {s.source_variant_id: s for s in skus}
    rows = []
    for v in product.variants if product is not None else []:
        link = by_variant.pop(v.remote_id, None)
        rows.append(VariantRow(
            v.remote_id, v.sku or "", v.title, str(v.price.amount),
            v.quantity if v.inventory_tracked else None,
            link.last_price if link else None, link.last_quantity if link else None,
            reported.get(link.remote_sku_id or "") if link else None, link.remote_sku_id if link else None))
    for link in by_variant.values():  # linked SKUs the store no longer has (or could not show)
        rows.append(VariantRow(link.source_variant_id, link.seller_sku, "", None, None, link.last_price,
                               link.last_quantity, reported.get(link.remote_sku_id or ""), link.remote_sku_id))
    return rows


def _mapped(fc: FlowContext, product: Product | None, mapping: ProductMapping | None,
            problems: list[str]) -> tuple[Mapped | None, dict[str, list[str]]]:
    """Where the product goes (category, attributes, what is missing), and each attribute's
    values by name."""
    assert fc.channel is not None and fc.channel.id is not None
    if product is None:
        return None, {}
    mapper = Mapper(fc.channel.id, fc.reader(fc.channel).category_attributes)
    try:
        mapped = mapper.resolve(product, mapping)
        attrs = {a.id: a for a in mapper.attributes(mapped.category_id)} if mapped.category_id else {}
    except BridgeError as exc:
        problems.append(f"the category's attributes could not be read: {exc}")
        return None, {}
    names = {}
    for la in mapped.attributes:
        known = {v.id: v.name for v in attrs[la.id].values} if la.id in attrs else {}
        names[la.id] = [known.get(i, i) for i in la.value_ids] + list(la.values)
    return mapped, names


def next_sync(fc: FlowContext, pid: str, problems: list[str]) -> list[dict[str, Any]]:
    """What the next products sync would do for this product (the plan: nothing is written)."""
    assert fc.channel is not None
    try:
        return [row for r in plan_flow("products", fc.org_id, fc.channel.id, items=[pid], pm=fc.pm)
                for row in r.plan]
    except BridgeError as exc:
        problems.append(f"the plan could not be made: {exc}")
        return []


def journal(org_id: int, pid: str) -> list[Event]:
    """The product's latest journal entries (of every store of the organization), newest first."""
    with db.session() as s:
        return list(s.exec(select(Event).where(Event.org_id == org_id, Event.item == pid)
                           .order_by(col(Event.id).desc()).limit(JOURNAL)))


def _rows(shop: Store, pid: str) -> tuple[ListingLink | None, ProductMapping | None, list[SkuLink]]:
    """What bridge keeps of the product on the shop: its link, its overrides, its SKU links."""
    with db.session() as s:
        link = s.exec(select(ListingLink).where(ListingLink.channel_store_id == shop.id,
                                                ListingLink.source_product_id == pid)).first()
        mapping = s.exec(select(ProductMapping).where(ProductMapping.channel_store_id == shop.id,
                                                      ProductMapping.source_product_id == pid)).first()
        skus = list(s.exec(select(SkuLink).where(SkuLink.channel_store_id == shop.id,
                                                 SkuLink.source_product_id == pid).order_by(SkuLink.id)))
    return link, mapping, skus


@view()
def page(ctx: Ctx) -> Response:
    """GET: the product page. POST: one of its actions (``action``)."""
    shop = access.store(ctx, ctx.param("shop_id"), kind="channel")
    pid = ctx.param("product_id")
    if ctx.request.method == "POST":
        return act(ctx, shop, pid)
    link, mapping, skus = _rows(shop, pid)
    fc = flow_context(ctx, shop)
    problems: list[str] = []
    product = _store_product(fc, pid, problems)
    if product is None and link is None and mapping is None:
        raise HTTPException(404, "not found")
    mapped, values = _mapped(fc, product, mapping, problems)
    plan = next_sync(fc, pid, problems) if product is not None else []
    images = sorted(product.images, key=lambda i: i.position) if product is not None else []
    chosen = list(mapping.images) if mapping is not None else []
    return ctx.render(
        "product.html", shop=shop, pid=pid, link=link, mapping=mapping, product=product, mapped=mapped,
        values=values,
        variants=variant_rows(product, skus, _reported(fc, skus, problems)), plan=plan,
        events=journal(shop.org_id, pid), problems=problems, images=images,
        chosen=chosen, price_text=overrides.describe_price(mapping.price if mapping else {}),
        own_prices=(mapping.price or {}).get("skus") or {} if mapping else {},
        price_help=overrides.PRICE_HELP, title=(link.title if link and link.title else
                                                product.title if product else pid))


def _chosen_images(form: dict[str, str], lists: dict[str, list[str]]) -> list[str]:
    """The ticked images in the order their positions say; [] when that is the product's own."""
    urls = lists.get("image", [])
    every = lists.get("all_images", [])
    order = []
    for n, url in enumerate(urls):
        raw = form.get(f"pos_{every.index(url)}" if url in every else "", "")
        order.append((int(raw) if raw.strip().isdigit() else 1000 + n, n, url))
    chosen = [u for _, _, u in sorted(order)]
    return [] if chosen == every else chosen


def act(ctx: Ctx, shop: Store, pid: str) -> Response:
    """Run one action of the product page and come back to it with what happened."""
    assert shop.id is not None
    action = ctx.form.get("action", "")
    here = f"/products/{shop.id}/product/{quote(pid, safe='/:')}"
    message = ""
    if action == "retry":
        done = manual_links.retry(shop.id, [pid])
        message = "Queued: the next sync sends it again." if done else "Nothing to retry: it has not failed or been held."
    elif action in ("exclude", "include", "reactivate"):
        overrides.save(shop.id, [pid], {"excluded": action == "exclude"})
        message = {"exclude": "Excluded: the next sync takes it off the shop.",
                   "include": "Included: the next sync lists it if it is published and mapped.",
                   "reactivate": "Re-activation queued: the next sync puts it on sale again if it is "
                                 "published and mapped."}[action]
    elif action == "relink":
        remote = ctx.form.get("remote_product_id", "").strip()
        if not remote:
            raise Misconfigured("enter the TikTok product id to link this product to")
        out = manual_links.link_product(flow_context(ctx, shop), pid, remote)
        message = f"Linked {len(out.linked)} SKU(s) to TikTok product {remote}." + (
            f" Not matched: {', '.join(out.unmatched)}." if out.unmatched else "")
    elif action == "check":  # the listings flow for this product alone: TikTok's status now
        run_flow("listings", shop.org_id, shop.id, items=[pid], pm=ctx.pm)
        link = _rows(shop, pid)[0]
        message = f"TikTok says: {link.status}." if link is not None else "Not on TikTok."
    elif action == "unlink":
        ok = manual_links.unlink_product(shop.id, pid)
        message = "Unlinked: bridge leaves its TikTok product alone." if ok else "It was not linked."
    elif action == "relist":
        ok = manual_links.relist(shop.id, pid)
        message = "The next sync lists it again." if ok else "Only a product deleted on TikTok or unlinked is listed again."
    elif action == "overrides":
        values = overrides.changes(ctx.form, ["title", "description", "price"])
        if ctx.lists.get("all_images"):  # the page showed the product's images to choose from
            values["images"] = _chosen_images(ctx.form, ctx.lists)
        if "vid" in ctx.lists:  # the page showed the store's variants: their own prices
            own = overrides.parse_variant_prices(dict(zip(ctx.lists["vid"], ctx.lists.get("vprice", []), strict=False)))
        else:
            current = _rows(shop, pid)[1]
            own = dict((current.price or {}).get("skus") or {}) if current is not None else {}
        if own:
            values["price"] = {**values["price"], "skus": own}
        n = overrides.save(shop.id, [pid], values)
        message = "Overrides saved: the next sync sends them." if n else "Nothing changed."
    else:
        raise Misconfigured("choose an action")
    scheduler.trigger("products", shop.org_id, shop.id, [pid])
    return ctx.redirect(here, message)


routes = [Route("/products/{shop_id}/product/{product_id:path}", page, methods=["GET", "POST"])]
