"""`bridge products link|unlink|link-sku|unlink-sku|relist` and `bridge map attributes|brands`:
linking by hand, and what a TikTok category asks for (attributes, allowed values, brands, size
chart, certifications)."""

from __future__ import annotations

import json
from typing import Any

import click

from bridge.cli.flows import _ctx, _org, _shop, map_cmd
from bridge.cli.output import emit


@click.group("products")
def products_cmd() -> None:
    """Listings by hand: link a store product to a TikTok product, unlink, list again."""


def _pairs(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise click.UsageError(f"--sku takes VARIANT_ID_OR_SKU=TIKTOK_SKU_ID, got '{item}'")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


@products_cmd.command("link")
@click.argument("product_id")
@click.argument("tiktok_product_id")
@click.option("--sku", "skus", multiple=True, metavar="VARIANT=TIKTOK_SKU_ID",
              help="A variant (id or SKU) whose seller SKU differs on TikTok.")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
def products_link(product_id: str, tiktok_product_id: str, skus: tuple[str, ...], org_ref: str | None,
                  shop_ref: str | None) -> None:
    """Link store product PRODUCT_ID to TIKTOK_PRODUCT_ID (SKUs matched by seller SKU)."""
    from bridge.sync.manual_links import LinkError, link_product

    org = _org(org_ref)
    try:
        out = link_product(_ctx(org, _shop(org, shop_ref)), product_id, tiktok_product_id, _pairs(skus))
    except LinkError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"linked {len(out.linked)} SKU(s) to TikTok product {out.remote_product_id}")
    if out.unmatched:
        click.echo("not matched (link them with --sku or `bridge products link-sku`): " + ", ".join(out.unmatched))


@products_cmd.command("unlink")
@click.argument("product_id")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
def products_unlink(product_id: str, org_ref: str | None, shop_ref: str | None) -> None:
    """Forget PRODUCT_ID's TikTok product (left as it is on TikTok); bridge then leaves it alone."""
    from bridge.sync.manual_links import unlink_product

    shop = _shop(_org(org_ref), shop_ref)
    click.echo("unlinked" if unlink_product(shop.id, product_id) else f"product {product_id} was not linked")


@products_cmd.command("link-sku")
@click.argument("variant_id")
@click.argument("tiktok_sku_id")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
def products_link_sku(variant_id: str, tiktok_sku_id: str, org_ref: str | None, shop_ref: str | None) -> None:
    """Point store variant VARIANT_ID at TikTok SKU TIKTOK_SKU_ID (of its linked product)."""
    from bridge.sync.manual_links import LinkError, link_sku

    try:
        link_sku(_shop(_org(org_ref), shop_ref).id, variant_id, tiktok_sku_id)
    except LinkError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"variant {variant_id} -> TikTok SKU {tiktok_sku_id}")


@products_cmd.command("unlink-sku")
@click.argument("variant_id")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
def products_unlink_sku(variant_id: str, org_ref: str | None, shop_ref: str | None) -> None:
    """Forget VARIANT_ID's TikTok SKU (the next sync adds the variant to its TikTok product)."""
    from bridge.sync.manual_links import unlink_sku

    ok = unlink_sku(_shop(_org(org_ref), shop_ref).id, variant_id)
    click.echo("unlinked" if ok else f"variant {variant_id} was not linked")


@products_cmd.command("relist")
@click.argument("product_id")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
def products_relist(product_id: str, org_ref: str | None, shop_ref: str | None) -> None:
    """List again a product deleted on TikTok Shop (or unlinked): the next sync creates it."""
    from bridge.sync.manual_links import relist

    ok = relist(_shop(_org(org_ref), shop_ref).id, product_id)
    click.echo("will be listed again by the next sync" if ok
               else f"product {product_id} is neither deleted on TikTok nor unlinked")


# =========================================================================== map


@map_cmd.command("attributes")
@click.argument("category_id")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
@click.option("--json", "as_json", is_flag=True)
def map_attributes(category_id: str, org_ref: str | None, shop_ref: str | None, as_json: bool) -> None:
    """A TikTok category's attributes with their allowed values, and what else it asks for."""
    org = _org(org_ref)
    shop = _shop(org, shop_ref)
    ctx = _ctx(org, shop)
    reader = ctx.reader(shop)
    rows: list[dict[str, Any]] = []
    for a in reader.category_attributes(category_id):
        values = ", ".join(v.name for v in a.values[:40]) + (" ..." if len(a.values) > 40 else "")
        rows.append({"attribute": a.name, "id": a.id, "kind": "sales (variant option)" if a.sales else "product",
                     "required": "yes" if a.required else "no",
                     "values": (values or "any") + (" (or your own)" if a.custom_values_allowed and a.values else "")})
    if reader.has("category_rules"):
        r = reader.category_rules(category_id)
        rows.append({"attribute": "@size_chart", "id": "", "kind": "rule",
                     "required": "yes" if r.size_chart_required else "no",
                     "values": "image URL or template:ID" if r.size_chart_supported else "not supported"})
        for c in r.required_certifications:
            rows.append({"attribute": f"@certification:{c.id}", "id": c.id, "kind": "rule",
                         "required": "yes" if c.required else "when " + ", ".join(f"{a}={v}" for a, v in c.conditions),
                         "values": f"{c.name}: document image URL(s)"})
        if r.brand_required:
            rows.append({"attribute": "@brand", "id": "", "kind": "rule", "required": "yes",
                         "values": "see `bridge map brands --category " + category_id + "`"})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    emit(rows, ["attribute", "id", "kind", "required", "values"], False)


@map_cmd.command("brands")
@click.option("--category", "category_id", help="Brands usable in this category.")
@click.option("--org", "org_ref")
@click.option("--shop", "shop_ref")
@click.option("--json", "as_json", is_flag=True)
def map_brands(category_id: str | None, org_ref: str | None, shop_ref: str | None, as_json: bool) -> None:
    """TikTok brands the shop may use (for the shop option brands.map or `--attr "@brand=NAME"`)."""
    org = _org(org_ref)
    shop = _shop(org, shop_ref)
    ctx = _ctx(org, shop)
    rows = [{"brand": b.name, "id": b.id, "usable": "yes" if b.authorized else "no (authorization needed)"}
            for b in ctx.reader(shop).list_brands(category_id)]
    emit(rows, ["brand", "id", "usable"], as_json)
