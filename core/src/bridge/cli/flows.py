"""`bridge plan`, `bridge map ...`, `bridge drift`, `bridge journal export`, `bridge demo`."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from bridge.cli.output import emit

FLOW_NAMES = ["products", "inventory", "orders", "tracking", "refunds"]


def _org(ref: str | None) -> Any:
    from bridge.stores import get_org, list_orgs

    if ref:
        return get_org(ref)
    orgs = list_orgs()
    if len(orgs) != 1:
        raise click.UsageError("choose an organization with --org (see `bridge org list`)")
    return orgs[0]


def _shop(org: Any, ref: str | None) -> Any:
    """The organization's TikTok shop named by ``ref`` (id or name), or its only one."""
    from bridge.stores import list_stores

    shops = [s for s in list_stores(org.id, include_disconnected=False) if s.kind == "channel"]
    if ref:
        shops = [s for s in shops if str(s.id) == ref or s.name == ref]
    if len(shops) != 1:
        raise click.UsageError("choose the TikTok shop with --shop ID (see `bridge stores`)")
    return shops[0]


def _detail(entry: dict[str, Any]) -> str:
    skus = entry.get("skus")
    if skus:
        return "; ".join(f"{s['sku']}: {s['price']} ({s['price_rule']}), qty {s['quantity']} "
                         f"({s['quantity_rule']})" for s in skus)
    bits = [f"{k}={entry[k]}" for k in ("quantity", "was", "total", "restock", "lines", "tracking_number",
                                        "provider_id")
            if entry.get(k) is not None]
    return ", ".join(bits)


@click.command()
@click.argument("flow", required=False, type=click.Choice([*FLOW_NAMES, "all"]), default="all")
@click.option("--org", "org_ref", help="Organization (default: the only one).")
@click.option("--shop", "shop_ref", help="Only this TikTok shop (id or name).")
@click.option("--json", "as_json", is_flag=True)
def plan(flow: str, org_ref: str | None, shop_ref: str | None, as_json: bool) -> None:
    """Show what a sync would create, update, deactivate or push — with no write call."""
    from bridge.sync import plan_flow

    org = _org(org_ref)
    shop_id = _shop(org, shop_ref).id if shop_ref else None
    rows = []
    for f in FLOW_NAMES if flow == "all" else [flow]:
        for r in plan_flow(f, org.id, shop_id):
            for e in r.plan:
                rows.append({"flow": f, **e, "detail": _detail(e)})
    if as_json:
        emit(rows, [], True)
        return
    emit(rows, ["flow", "action", "item", "rule", "why", "detail"], False)


# =========================================================================== map


@click.group("map")
def map_cmd() -> None:
    """Category mapping: unmapped products, suggestions, rules, per-product choices, carriers."""


def _ctx(org: Any, shop: Any) -> Any:
    from bridge.plugins import get_manager
    from bridge.stores import list_stores
    from bridge.sync.base import FlowContext

    eco = next((s for s in list_stores(org.id, include_disconnected=False) if s.kind == "ecommerce"), None)
    if eco is None:
        raise click.UsageError("the organization has no eCommerce store connected")
    return FlowContext(flow="map", org_id=org.id, ecommerce=eco, channel=shop, pm=get_manager())


def _unmapped(ctx: Any, limit: int) -> list[tuple[Any, Any]]:
    from bridge.mapping import Mapper, load_overrides

    mapper = Mapper(ctx.channel.id, ctx.reader(ctx.channel).category_attributes)
    out = []
    for page in ctx.reader(ctx.ecommerce).list_products(None):
        overrides = load_overrides(ctx.channel.id, [p.remote_id for p in page.products])
        for p in page.products:
            if p.status != "active" or not p.published:
                continue
            m = mapper.resolve(p, overrides.get(p.remote_id))
            if not m.listable and not m.excluded:
                out.append((p, m))
                if len(out) >= limit:
                    return out
    return out


@map_cmd.command("unmapped")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
@click.option("--limit", default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def map_unmapped(org_ref: str | None, shop_ref: str | None, limit: int, as_json: bool) -> None:
    """Products that will not be listed, with what is missing."""
    org = _org(org_ref)
    ctx = _ctx(org, _shop(org, shop_ref))
    rows = [{"product": p.remote_id, "title": p.title, "type": p.product_type, "category": m.category_id,
             "missing": "; ".join(m.missing)} for p, m in _unmapped(ctx, limit)]
    emit(rows, ["product", "title", "type", "category", "missing"], as_json)


@map_cmd.command("suggest")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
@click.option("--facet", type=click.Choice(["product_type", "category", "vendor", "tag"]),
              default="product_type", show_default=True)
@click.option("--apply", is_flag=True, help="Create the suggested rules.")
@click.option("--json", "as_json", is_flag=True)
def map_suggest(org_ref: str | None, shop_ref: str | None, facet: str, apply: bool, as_json: bool) -> None:
    """TikTok's recommended category for each facet value of the unmapped products."""
    from bridge.mapping import facet_values, set_rule

    org = _org(org_ref)
    shop = _shop(org, shop_ref)
    ctx = _ctx(org, shop)
    samples: dict[str, list[Any]] = {}
    for p, m in _unmapped(ctx, 1000):
        if m.category_id:
            continue
        for v in facet_values(p, facet)[:1]:
            samples.setdefault(v, []).append(p)
    rows = []
    for value, products in sorted(samples.items()):
        p = products[0]
        cat = ctx.reader(shop).recommend_category(p.title, p.description_html[:500])
        needs = _rule_gaps(ctx, shop, facet, value, cat, products) if cat else []
        rows.append({"facet": facet, "value": value, "category_id": cat.id if cat else None,
                     "category": " > ".join(cat.path or [cat.name]) if cat else "(no suggestion)",
                     "sample": p.title, "needs": "; ".join(needs)})
        if apply and cat and not needs:  # a rule that would leave its products held is not made
            set_rule(shop.id, facet, value, cat.id, cat.name, {}, 0)
            rows[-1]["applied"] = "yes"
        elif apply:
            rows[-1]["applied"] = "no"
    emit(rows, ["facet", "value", "category_id", "category", "sample", "needs"] + (["applied"] if apply else []),
         as_json)
    if apply:
        click.echo(f"{sum(1 for r in rows if r.get('applied') == 'yes')} rule(s) set; the others need what "
                   "`needs` says (`bridge map attributes CATEGORY_ID`, then `bridge map rule ... --attr`)", err=True)


def _rule_gaps(ctx: Any, shop: Any, facet: str, value: str, cat: Any, products: list[Any]) -> list[str]:
    """What products of ``facet=value`` would still miss under a rule to ``cat`` (empty: none)."""
    from bridge.mapping import Mapper
    from bridge.models import Listing
    from bridge.sync.category_facts import CategoryFacts
    from bridge.sync.options import shop_options
    from bridge.sync.requirements import BrandRules, complete
    from bridge.tables import CategoryRule

    reader = ctx.reader(shop)
    mapper = Mapper(shop.id, reader.category_attributes)
    mapper.rules = [CategoryRule(channel_store_id=shop.id, facet=facet, value=value, category_id=cat.id)]
    facts = CategoryFacts(reader)
    brand_rules = BrandRules.parse(shop_options(shop.options).brands)
    gaps: list[str] = []
    for p in products[:20]:
        m = mapper.resolve(p, None)
        missing = list(m.missing)
        if not missing:
            listing = Listing(source_product_id=p.remote_id, title=p.title, description_html="",
                              category_id=cat.id, images=p.images, attributes=m.attributes, skus=[])
            missing = complete(listing, p, facts.rules(cat.id), {}, brand_rules, facts.brands, cat.name).missing
        gaps += [g for g in missing if g not in gaps]
    return gaps


def _attrs(pairs: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in pairs:
        if "=" not in item:
            raise click.UsageError(f"--attr takes NAME=VALUE, got '{item}'")
        k, v = item.split("=", 1)
        out.setdefault(k.strip(), []).append(v.strip())
    return out


@map_cmd.command("rule")
@click.argument("facet", type=click.Choice(["product_type", "category", "tag", "vendor", "all"]))
@click.argument("value")
@click.argument("category_id", required=False)
@click.option("--attr", "attrs", multiple=True, metavar="NAME=VALUE", help="Default attribute value.")
@click.option("--priority", type=int, default=0)
@click.option("--delete", is_flag=True, help="Remove the rule.")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
def map_rule(facet: str, value: str, category_id: str | None, attrs: tuple[str, ...], priority: int,
             delete: bool, org_ref: str | None, shop_ref: str | None) -> None:
    """Map products whose FACET is VALUE to CATEGORY_ID (`all *` maps every product)."""
    from sqlmodel import select

    from bridge import db
    from bridge.tables import CategoryRule

    shop = _shop(_org(org_ref), shop_ref)
    if delete:
        with db.session() as s:
            rows = s.exec(select(CategoryRule).where(CategoryRule.channel_store_id == shop.id,
                                                     CategoryRule.facet == facet, CategoryRule.value == value))
            n = 0
            for row in rows:
                s.delete(row)
                n += 1
        click.echo(f"{n} rule(s) removed")
        return
    if not category_id:
        raise click.UsageError("give the TikTok CATEGORY_ID (see `bridge map suggest`)")
    from bridge.mapping import set_rule

    set_rule(shop.id, facet, value, category_id, "", _attrs(attrs), priority)
    click.echo(f"rule set: {facet}={value} -> {category_id}")


@map_cmd.command("rules")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
@click.option("--json", "as_json", is_flag=True)
def map_rules(org_ref: str | None, shop_ref: str | None, as_json: bool) -> None:
    """The shop's mapping rules, first match first."""
    from bridge.mapping import load_rules

    shop = _shop(_org(org_ref), shop_ref)
    rows = [{"facet": r.facet, "value": r.value, "category_id": r.category_id, "priority": r.priority,
             "attributes": json.dumps(r.attributes)} for r in load_rules(shop.id)]
    emit(rows, ["facet", "value", "category_id", "priority", "attributes"], as_json)


@map_cmd.command("product")
@click.argument("product_id")
@click.argument("category_id", required=False)
@click.option("--attr", "attrs", multiple=True, metavar="NAME=VALUE")
@click.option("--exclude/--include", default=None, help="Keep the product off the shop (or not).")
@click.option("--title", help="The listing's title instead of the template's ('' clears it).")
@click.option("--description", help="The listing's description (HTML) instead of the template's ('' clears it).")
@click.option("--price", help="'12.50', '+10%', '-5% +1 round .99' instead of the shop's price rule ('' clears it).")
@click.option("--images", help="The product's image URLs to send, in order, space-separated ('' clears it).")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
def map_product(product_id: str, category_id: str | None, attrs: tuple[str, ...], exclude: bool | None,
                title: str | None, description: str | None, price: str | None, images: str | None,
                org_ref: str | None, shop_ref: str | None) -> None:
    """Override one product's category, attribute values, title, description, price or images
    on a shop (over the rules and templates; `bridge plan products` shows the effect)."""
    from bridge import overrides
    from bridge.errors import Misconfigured
    from bridge.mapping import load_overrides

    shop = _shop(_org(org_ref), shop_ref)
    texts = {"title": title, "description": description, "price": price, "images": images}
    try:
        values = overrides.changes({k: v for k, v in texts.items() if v is not None},
                                   [k for k, v in texts.items() if v is not None])
    except Misconfigured as exc:
        raise click.UsageError(str(exc)) from None
    if category_id:
        values["category_id"] = category_id
    if exclude is not None:
        values["excluded"] = exclude
    if attrs:
        current = load_overrides(shop.id, [product_id]).get(product_id)
        values["attributes"] = {**(current.attributes if current else {}), **_attrs(attrs)}
    overrides.save(shop.id, [product_id], values)
    click.echo(f"product {product_id} mapped")


@map_cmd.command("carrier")
@click.argument("carrier")
@click.argument("provider_id")
@click.option("--name", default="", help="The provider's name, for display.")
@click.option("--org", "org_ref")
def map_carrier(carrier: str, provider_id: str, name: str, org_ref: str | None) -> None:
    """Map the eCommerce store's CARRIER to a TikTok shipping provider (held pushes retry)."""
    from sqlmodel import select

    from bridge import db
    from bridge.tables import CarrierMapping

    org = _org(org_ref)
    with db.session() as s:
        row = s.exec(select(CarrierMapping).where(CarrierMapping.org_id == org.id,
                                                  CarrierMapping.carrier == carrier)).first()
        row = row or CarrierMapping(org_id=org.id, carrier=carrier, provider_id=provider_id)
        row.provider_id, row.provider_name = provider_id, name
        s.add(row)
    click.echo(f"carrier '{carrier}' -> provider {provider_id}")


@map_cmd.command("preview")
@click.argument("product_id")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
def map_preview(product_id: str, org_ref: str | None, shop_ref: str | None) -> None:
    """The title and description PRODUCT_ID gets on the shop, through its templates."""
    from bridge.sync.listing import preview
    from bridge.sync.options import shop_options

    org = _org(org_ref)
    shop = _shop(org, shop_ref)
    ctx = _ctx(org, shop)
    found = ctx.reader(ctx.ecommerce).get_products([product_id])
    if not found:
        raise click.ClickException(f"no product {product_id} in the eCommerce store")
    out = preview(shop_options(shop.options), found[0],
                  {"name": shop.name, "region": shop.region, "currency": shop.currency})
    click.echo(f"title: {out['title']}\n\n{out['description']}")


# =========================================================================== drift, journal


@click.command()
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
@click.option("--fix", "do_fix", is_flag=True, help="Repair every difference.")
@click.option("--json", "as_json", is_flag=True)
def drift(org_ref: str | None, shop_ref: str | None, do_fix: bool, as_json: bool) -> None:
    """List differences between each TikTok shop and the eCommerce store (quantity, price,
    listing status); --fix repairs them. Exits 1 when differences remain."""
    from bridge.sync import drift as d

    org = _org(org_ref)
    shop_id = _shop(org, shop_ref).id if shop_ref else None
    diffs = d.drift(org.id, shop_id)
    emit([x.row() for x in diffs], ["shop", "kind", "item", "expected", "actual"], as_json)
    if do_fix and diffs:
        d.fix(org.id, diffs)
        left = d.drift(org.id, shop_id)
        click.echo(f"fixed {len(diffs) - len(left)} of {len(diffs)} difference(s)", err=True)
        diffs = left
    if diffs:
        sys.exit(1)


@click.group()
def journal() -> None:
    """The journal of decisions and writes."""


@journal.command("export")
@click.option("--org", "org_ref")
@click.option("--flow")
@click.option("--kind", help="Event kind prefix.")
@click.option("-o", "--output", type=click.File("w"), default="-", help="File (default: stdout).")
def journal_export(org_ref: str | None, flow: str | None, kind: str | None, output: Any) -> None:
    """Write the journal as JSON lines, oldest first (secrets are never in it)."""
    from bridge import journal as j
    from bridge.stores import get_org

    org_id = get_org(org_ref).id if org_ref else None
    n = j.export_jsonl(output, org_id=org_id, flow=flow, kind=kind)
    click.echo(f"{n} entries", err=True)


@click.command()
@click.option("--platform", default="shopify", show_default=True, help="The eCommerce sandbox.")
@click.option("--products", default=50, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), help="Keep state here (default: temporary).")
@click.option("--serve", is_flag=True, help="Keep the daemon and the admin pages running.")
@click.option("--port", type=int, default=0, help="Admin pages port with --serve (default: free).")
def demo(platform: str, products: int, data_dir: str | None, serve: bool, port: int) -> None:
    """Run bridge end to end against sandboxes: list products, sync stock, create an order,
    push tracking back — then print a summary."""
    from bridge.demo import run_demo

    run_demo(platform=platform, products=products, data_dir=data_dir, serve=serve, port=port)
