"""Products: mapping status per product and shop, mapping rules, one-by-one mapping with category
search and suggestions, the required-attributes form, listing status with the channel's reasons,
bulk actions. Changes trigger the products flow for the items concerned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge import db, overrides, scheduler
from bridge.errors import BridgeError, Misconfigured
from bridge.facade import StoreReader
from bridge.mapping import drafted, load_overrides
from bridge.models import Category, CategoryAttribute
from bridge.statuses import IN_REVIEW, ListingStatus
from bridge.stores import connection_for
from bridge.sync import manual_links, plan_flow
from bridge.tables import CategoryRule, ListingLink, ProductMapping, SkuLink, Store, utcnow
from bridge.web import access, product_page, queries
from bridge.web.base import Ctx, parse_id, parse_int, view
from bridge.web.product_page import flow_context

FACETS = ("product_type", "category", "tag", "vendor", "all")


def _call(ctx: Ctx, shop: Store, op: str, **kw: Any) -> Any:
    if not ctx.pm.has(shop.platform, op):
        return None
    return ctx.pm.call(shop.platform, op, connection=connection_for(shop, ctx.pm), **kw)


def search_categories(ctx: Ctx, shop: Store, query: str, limit: int = 30) -> list[Category]:
    words = query.lower().split()
    out = []
    for c in _call(ctx, shop, "list_categories") or []:
        text = " ".join([*c.path, c.name]).lower()
        if c.is_leaf and all(w in text for w in words):
            out.append(c)
            if len(out) >= limit:
                break
    return out


def _attributes(ctx: Ctx, shop: Store, category_id: str) -> list[CategoryAttribute]:
    if not category_id:
        return []
    return [a for a in _call(ctx, shop, "category_attributes", category_id=category_id) or []
            if not a.sales]


def _attribute_values(attrs: list[CategoryAttribute], form: dict[str, str]) -> dict[str, list[str]]:
    """Attribute id -> value ids (or custom values) from the form; required ones enforced."""
    out: dict[str, list[str]] = {}
    for a in attrs:
        raw = form.get(f"attr_{a.id}", "").strip()
        if not raw:
            if a.required:
                raise Misconfigured(f"'{a.name}' is required for this category")
            continue
        if a.values and raw not in {v.id for v in a.values} and not a.custom_values_allowed:
            raise Misconfigured(f"'{a.name}' must be one of {', '.join(v.name for v in a.values)}")
        out[a.id] = [raw]
    return out


def _shop(ctx: Ctx) -> Store:
    return access.store(ctx, ctx.param("shop_id"), kind="channel")


@view()
def index(ctx: Ctx) -> Response:
    """Listing/mapping status of one shop's products, filterable, paged."""
    shops = access.stores(ctx, "channel")
    if not shops:
        return ctx.render("products.html", shops=[], shop=None)
    shop = access.store(ctx, ctx.q("shop") or shops[0].id, kind="channel")  # type: ignore[arg-type]
    page = ctx.page()
    sort = ctx.q("sort") if ctx.q("sort").lstrip("-") in queries.LISTING_SORTS else ""
    rows, total = queries.listings(shop.id, status=ctx.q("status"), search=ctx.q("q"), page=page,  # type: ignore[arg-type]
                                   sort=sort)
    ids = [r.source_product_id for r, _ in rows]
    problems: list[str] = []
    in_store = store_products(ctx, shop, ids, problems)
    on_tiktok = tiktok_stock(ctx, shop, ids, problems)
    with db.session() as s:
        mappings = {m.source_product_id: m for m in s.exec(select(ProductMapping).where(
            ProductMapping.channel_store_id == shop.id, col(ProductMapping.source_product_id).in_(ids or [""])))}
        rules = list(s.exec(select(CategoryRule).where(CategoryRule.channel_store_id == shop.id)
                            .order_by(col(CategoryRule.priority).desc(), CategoryRule.id)))
    return ctx.render("products.html", shops=shops, shop=shop, rows=rows, mappings=mappings,
                      rules=rules, counts=queries.listing_counts(shop.id),  # type: ignore[arg-type]
                      pager=queries.pages(total, page), facets=FACETS, in_store=in_store, on_tiktok=on_tiktok,
                      problems=problems, sort=sort, sorts=SORTS, bulk_fields=BULK_FIELDS,
                      fstatus=ctx.q("status"), search=ctx.q("q"))


SORTS = {"": "oldest first", "title": "title A–Z", "-title": "title Z–A", "status": "status",
         "-updated": "recently changed", "price": "price sent, lowest", "-price": "price sent, highest",
         "stock": "stock sent, lowest", "-stock": "stock sent, highest"}
BULK_FIELDS = {"title": "title", "description": "description (HTML)", "price": "price", "images": "images (URLs)",
               "category": "category id", "attribute": "attribute (Name=Value)"}


@dataclass
class StoreSide:
    """A product as the eCommerce store has it now: thumbnail, price range, stock."""

    thumbnail: str | None
    price: str
    stock: int | None


def store_products(ctx: Ctx, shop: Store, ids: list[str], problems: list[str]) -> dict[str, StoreSide]:
    """The page's products as the store has them, in one call (none when it cannot be read)."""
    if not ids:
        return {}
    try:
        fc = flow_context(ctx, shop)
        assert fc.ecommerce is not None
        found = fc.reader(fc.ecommerce).get_products(ids)
    except BridgeError as exc:
        problems.append(f"the store's prices and stock could not be read: {exc}")
        return {}
    out = {}
    for p in found:
        prices = sorted(v.price.amount for v in p.variants)
        tracked = [v.quantity or 0 for v in p.variants if v.inventory_tracked]
        image = min(p.images, key=lambda i: i.position).url if p.images else next(
            (v.image_url for v in p.variants if v.image_url), None)
        price = "" if not prices else f"{prices[0]:.2f}" if prices[0] == prices[-1] else f"{prices[0]:.2f}–{prices[-1]:.2f}"
        out[p.remote_id] = StoreSide(image, price, sum(tracked) if tracked else None)
    return out


def tiktok_stock(ctx: Ctx, shop: Store, ids: list[str], problems: list[str]) -> dict[str, int]:
    """The page's products' stock as TikTok reports it now (sales on TikTok lower it until the
    next inventory sync): one query for their SKUs, one read of the shop."""
    with db.session() as s:
        skus = list(s.exec(select(SkuLink.source_product_id, SkuLink.remote_sku_id).where(
            SkuLink.channel_store_id == shop.id, col(SkuLink.source_product_id).in_(ids or [""]),
            col(SkuLink.remote_sku_id).is_not(None))))
    product_of = {sku_id: pid for pid, sku_id in skus}
    if not product_of or not ctx.pm.has(shop.platform, "read_inventory"):
        return {}
    try:
        levels = list(StoreReader(ctx.pm, shop).read_inventory(list(product_of)))
    except BridgeError as exc:
        problems.append(f"TikTok's stock could not be read: {exc}")
        return {}
    out: dict[str, int] = {}
    for lv in levels:
        pid = product_of.get(lv.variant_id)
        if pid is not None:
            out[pid] = out.get(pid, 0) + lv.quantity
    return out


@view()
def categories(ctx: Ctx) -> Response:
    """JSON: leaf categories matching ``q``, and the channel's suggestion for ``title``."""
    shop = _shop(ctx)
    found = [{"id": c.id, "name": c.name, "path": " › ".join(c.path or [c.name])}
             for c in search_categories(ctx, shop, ctx.q("q"))] if ctx.q("q") else []
    suggestion = None
    if ctx.q("title"):
        rec = _call(ctx, shop, "recommend_category", title=ctx.q("title"), description="")
        if rec is not None:
            suggestion = {"id": rec.id, "name": rec.name, "path": " › ".join(rec.path or [rec.name])}
    return JSONResponse({"categories": found, "suggestion": suggestion})


@view()
def add_rule(ctx: Ctx) -> Response:
    shop = _shop(ctx)
    facet = ctx.form.get("facet", "")
    if facet not in FACETS:
        raise Misconfigured(f"a rule matches one of {', '.join(FACETS)}")
    category_id = ctx.form.get("category_id", "").strip()
    if not category_id:
        raise Misconfigured("choose a category for the rule")
    with db.session() as s:
        s.add(CategoryRule(channel_store_id=shop.id, facet=facet,  # type: ignore[arg-type]
                           value=ctx.form.get("value", "").strip() if facet != "all" else "*",
                           category_id=category_id, category_name=ctx.form.get("category_name", ""),
                           priority=_priority(ctx.form.get("priority", ""))))
    scheduler.trigger("products", shop.org_id, shop.id, None)
    return ctx.redirect(f"/products?shop={shop.id}", "Rule added: the products it matches will be listed.")


def _priority(raw: str) -> int:
    if not raw.strip():
        return 0
    value = parse_int(raw, -1000, 1000)
    if value is None:
        raise Misconfigured(f"priority must be a whole number from -1000 to 1000, got '{raw[:20]}'")
    return value


def _rule(ctx: Ctx, shop: Store) -> CategoryRule:
    rid = parse_id(ctx.param("rule_id"))
    with db.session() as s:
        rule = s.get(CategoryRule, rid) if rid is not None else None
    if rule is None or rule.channel_store_id != shop.id:
        raise HTTPException(404, "not found")
    return rule


@view()
def rule_page(ctx: Ctx) -> Response:
    """GET: a rule's required-attributes form. POST ``delete`` or the attribute values."""
    shop = _shop(ctx)
    rule = _rule(ctx, shop)
    attrs = _attributes(ctx, shop, rule.category_id)
    if ctx.request.method == "POST":
        with db.session() as s:
            row = s.get(CategoryRule, rule.id)
            assert row is not None
            if ctx.form.get("action") == "delete":
                s.delete(row)
            else:
                row.attributes = _attribute_values(attrs, ctx.form)
                s.add(row)
        scheduler.trigger("products", shop.org_id, shop.id, None)
        return ctx.redirect(f"/products?shop={shop.id}", "Rule saved.")
    return ctx.render("mapping.html", shop=shop, rule=rule, attrs=attrs, values=rule.attributes,
                      link=None, mapping=None, category_id=rule.category_id)


@view()
def item_page(ctx: Ctx) -> Response:
    """One product: its category (search, suggestion) and required attributes."""
    shop = _shop(ctx)
    pid = ctx.param("product_id")
    with db.session() as s:
        link = s.exec(select(ListingLink).where(ListingLink.channel_store_id == shop.id,
                                                ListingLink.source_product_id == pid)).first()
        mapping = s.exec(select(ProductMapping).where(ProductMapping.channel_store_id == shop.id,
                                                      ProductMapping.source_product_id == pid)).first()
    if link is None and mapping is None:
        raise HTTPException(404, "not found")
    category_id = ctx.form.get("category_id") or ctx.q("category_id") or (mapping.category_id if mapping else "") or ""
    attrs = _attributes(ctx, shop, category_id)
    if ctx.request.method == "POST" and ctx.form.get("action") == "save":
        values = _attribute_values(attrs, ctx.form)
        _set_mapping(shop, [pid], category_id=category_id or None, attributes=values)
        return ctx.redirect(f"/products?shop={shop.id}", f"Mapping of '{link.title if link else pid}' saved.")
    found = search_categories(ctx, shop, ctx.q("q")) if ctx.q("q") else []
    suggestion = None
    if link is not None and link.title:
        suggestion = _call(ctx, shop, "recommend_category", title=link.title, description="")
    return ctx.render("mapping.html", shop=shop, rule=None, link=link, mapping=mapping, attrs=attrs,
                      values=(mapping.attributes if mapping else {}), category_id=category_id,
                      found=found, suggestion=suggestion, search=ctx.q("q"))


def _set_mapping(shop: Store, ids: list[str], **fields: Any) -> None:
    assert shop.id is not None
    overrides.save(shop.id, ids, fields)
    scheduler.trigger("products", shop.org_id, shop.id, ids)


@view()
def bulk(ctx: Ctx) -> Response:
    """Bulk actions on the selected products: map to a category, exclude, include, retry."""
    shop = _shop(ctx)
    ids = [i for i in ctx.lists.get("ids", []) if i]
    action = ctx.form.get("action", "")
    if not ids:
        raise Misconfigured("select at least one product")
    if action == "category":
        cid = ctx.form.get("category_id", "").strip()
        if not cid:
            raise Misconfigured("choose the category to map the selected products to")
        _set_mapping(shop, ids, category_id=cid)
    elif action in ("exclude", "include"):
        _set_mapping(shop, ids, excluded=action == "exclude")
    elif action == "retry":
        manual_links.retry(shop.id, ids)  # type: ignore[arg-type]
        scheduler.trigger("products", shop.org_id, shop.id, ids)
    else:
        raise Misconfigured("choose an action")
    return ctx.redirect(f"/products?shop={shop.id}", f"{action}: {len(ids)} product(s) queued.")


#: The most products one bulk edit previews and applies (the list's page holds 50).
BULK_LIMIT = 200


@view()
def bulk_edit(ctx: Ctx) -> Response:
    """The bulk editor: set one override field (``field``, ``value``) on the selected products.
    ``step=preview`` shows the plan for those products with the value applied, saving nothing;
    ``step=apply`` saves it and queues the products flow for them."""
    shop = _shop(ctx)
    assert shop.id is not None
    ids = list(dict.fromkeys(i for i in ctx.lists.get("ids", []) if i))
    if not ids:
        raise Misconfigured("select at least one product")
    if len(ids) > BULK_LIMIT:
        raise Misconfigured(f"select at most {BULK_LIMIT} products at once")
    name = ctx.form.get("field", "")
    values = overrides.changes({name: ctx.form.get("value", "")}, [name])
    merge = name == "attribute"  # one attribute's value, the product's others kept
    if ctx.form.get("step") == "apply":
        n = overrides.save(shop.id, ids, values, merge_attributes=merge)
        scheduler.trigger("products", shop.org_id, shop.id, ids)
        return ctx.redirect(f"/products?shop={shop.id}",
                            f"{BULK_FIELDS.get(name, name)} set on {n} product(s): the next sync sends the change.")
    current = load_overrides(shop.id, ids)
    drafts = {pid: {**values, "attributes": overrides.merged_attributes(
        current[pid].attributes if pid in current else {}, values["attributes"])} if merge else values
        for pid in ids}
    with drafted(shop.id, drafts):
        plan = [row for r in plan_flow("products", shop.org_id, shop.id, items=ids, pm=ctx.pm) for row in r.plan]
    with db.session() as s:
        titles = {ln.source_product_id: ln.title for ln in s.exec(select(ListingLink).where(
            ListingLink.channel_store_id == shop.id, col(ListingLink.source_product_id).in_(ids)))}
        was = {r.seller_sku: r.last_price for r in s.exec(select(SkuLink).where(
            SkuLink.channel_store_id == shop.id, col(SkuLink.source_product_id).in_(ids)))}
    planned = {row["item"] for row in plan}
    return ctx.render("bulk_edit.html", shop=shop, ids=ids, field=name, label=BULK_FIELDS.get(name, name),
                      value=ctx.form.get("value", ""), plan=plan, titles=titles, was=was,
                      unchanged=[pid for pid in ids if pid not in planned])


@view()
def refresh(ctx: Ctx) -> Response:
    """Ask the channel for the current status (and reasons) of the shop's listings that are
    still pending or failed, and record it."""
    shop = _shop(ctx)
    with db.session() as s:
        rows = list(s.exec(select(ListingLink).where(
            ListingLink.channel_store_id == shop.id, col(ListingLink.remote_product_id).is_not(None),
            col(ListingLink.status).in_((*IN_REVIEW, ListingStatus.FAILED))).limit(200)))
    if not rows:
        return ctx.redirect(f"/products?shop={shop.id}", "No listing is waiting for TikTok's review.")
    by_remote = {r.remote_product_id: r for r in rows}
    results = _call(ctx, shop, "listing_status", remote_product_ids=list(by_remote)) or []
    changed = 0
    with db.session() as s:
        for res in results:
            link = by_remote.get(res.remote_product_id)
            if link is None or (link.status, link.reasons) == (res.status, res.reasons):
                continue
            row = s.get(ListingLink, link.id)
            if row is not None:
                row.status, row.reasons, row.updated_at = res.status, list(res.reasons), utcnow()
                s.add(row)
                changed += 1
    return ctx.redirect(f"/products?shop={shop.id}",
                        f"Checked {len(results)} listing(s) on {shop.name}: {changed} changed.")


routes = [
    Route("/products/{shop_id}/refresh", refresh, methods=["POST"]),
    Route("/products", index),
    Route("/products/{shop_id}/categories", categories),
    Route("/products/{shop_id}/rules", add_rule, methods=["POST"]),
    Route("/products/{shop_id}/rules/{rule_id}", rule_page, methods=["GET", "POST"]),
    Route("/products/{shop_id}/bulk", bulk, methods=["POST"]),
    Route("/products/{shop_id}/item/{product_id:path}", item_page, methods=["GET", "POST"]),
    Route("/products/{shop_id}/edit", bulk_edit, methods=["POST"]),
    *product_page.routes,
]
