"""Settings per shop: price rules, inventory rules, templates with a live preview, carrier
mapping (per organization), flows on/off and their intervals. Values are validated by the
flows' own parser (:func:`bridge.sync.options.shop_options`) before they are saved."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge import alerts, config, db, journal
from bridge.errors import BridgeError, Misconfigured
from bridge.models import Money, Product, Variant
from bridge.rules import active_stores
from bridge.stores import connection_for
from bridge.sync.base import load_builtin_flows
from bridge.sync.options import shop_options
from bridge.sync.refunds.verdicts import restock_setting
from bridge.tables import CarrierMapping, ListingLink, Store, utcnow
from bridge.web import access
from bridge.web.base import Ctx, parse_id, parse_int, view

NUMBERS = {"pricing": ("markup_percent", "markup_fixed"),
           "inventory": ("buffer_units", "buffer_percent", "threshold", "cap", "untracked_quantity")}


def _options_from_form(form: dict[str, str], current: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in current.items()}
    for section, names in NUMBERS.items():
        sec = dict(out.get(section) or {})
        for name in names:
            raw = form.get(f"{section}.{name}", "").strip()
            if raw == "":
                sec.pop(name, None)
            else:
                sec[name] = raw if name in ("markup_fixed", "markup_percent", "buffer_percent") else _num(section, name, raw)
        out[section] = sec
    out["pricing"]["rounding"] = form.get("pricing.rounding") or None
    out["pricing"]["compare_at_as_original"] = form.get("pricing.compare_at_as_original") == "on"
    out["templates"] = {"title": form.get("templates.title", "").strip() or None,
                        "description": form.get("templates.description", "").strip() or None}
    flows: dict[str, Any] = {}
    for name in load_builtin_flows():
        interval = form.get(f"flows.{name}.interval", "").strip()
        flows[name] = {"enabled": form.get(f"flows.{name}.enabled") == "on"}
        if interval:
            n = _num("flows", f"{name}.interval", interval)
            if n < 10:
                raise Misconfigured(f"the {name} interval must be at least 10 seconds")
            flows[name]["interval"] = n
    out["flows"] = flows
    products = dict(out.get("products") or {})  # listing behaviour (daily_limit, concurrency kept)
    for name in ("take_over_content", "recreate_deleted", "preflight"):
        products[name] = form.get(f"products.{name}") == "on"
    out["products"] = products
    if form.get("refunds.restock"):
        out["refunds"] = {**(out.get("refunds") or {}), "restock": form["refunds.restock"]}
        restock_setting(out)  # raises Misconfigured naming the bad value
    shop_options(out)  # raises Misconfigured naming the bad value
    return out


def _num(section: str, name: str, raw: str) -> int:
    value = parse_int(raw, -(2**31), 2**31 - 1)
    if value is None:
        raise Misconfigured(f"{section}.{name} must be a whole number, got '{raw[:20]}'")
    return value


def _shop(ctx: Ctx) -> Store:
    return access.store(ctx, ctx.param("store_id"), kind="channel")


def _providers(ctx: Ctx, shop: Store) -> list[Any]:
    if shop.status != "active" or not ctx.pm.has(shop.platform, "shipping_providers"):
        return []
    try:
        return list(ctx.pm.call(shop.platform, "shipping_providers",
                                connection=connection_for(shop, ctx.pm), order_id=None) or [])
    except BridgeError:
        return []


@view()
def page(ctx: Ctx) -> Response:
    """GET: the shop's settings. POST: save them (or a carrier mapping change)."""
    shop = _shop(ctx)
    if ctx.request.method == "POST":
        action = ctx.form.get("action", "save")
        if action == "carrier":
            _save_carrier(ctx, shop)
            return ctx.redirect(f"/stores/{shop.id}/settings", "Carrier mapping saved.")
        if action == "carrier_delete":
            _delete_carrier(ctx, shop)
            return ctx.redirect(f"/stores/{shop.id}/settings", "Carrier mapping removed.")
        if action in ("alerts", "alerts_test"):
            return ctx.redirect(f"/stores/{shop.id}/settings#alerts", *_save_alerts(ctx, shop, action))
        options = _options_from_form(ctx.form, dict(shop.options or {}))
        _check_templates(options, shop)
        with db.session() as s:
            row = s.get(Store, shop.id)
            assert row is not None
            row.options = options
            row.updated_at = utcnow()
            s.add(row)
        if ctx.scheduler is not None:  # flows switched on/off or re-timed take effect now
            ctx.scheduler.refresh_jobs()
        journal.record("store.settings", f"settings of '{shop.name}' changed by {ctx.user.email}",
                       org_id=shop.org_id, store_id=shop.id)
        return ctx.redirect(f"/stores/{shop.id}/settings", "Settings saved.")
    with db.session() as s:
        carriers = list(s.exec(select(CarrierMapping).where(CarrierMapping.org_id == shop.org_id)
                               .order_by(CarrierMapping.carrier)))
    flows = {name: config.get_int(spec.interval_key, 60) for name, spec in load_builtin_flows().items()}
    recipients = alerts.get_recipients(shop.org_id)
    return ctx.render("settings.html", shop=shop, o=shop.options or {}, flows=flows,
                      carriers=carriers, providers=_providers(ctx, shop), alert_to=recipients,
                      alert_shown=recipients.shown())


def _save_alerts(ctx: Ctx, shop: Store, action: str) -> tuple[str, str]:
    """The organization's alert recipients (every shop of it), or a test send; the flash and
    its level."""
    if action == "alerts_test":
        results = alerts.send_test(shop.org_id)
        failed = any(outcome.startswith("failed") for _, outcome in results)
        return " ".join(f"{channel}: {outcome}." for channel, outcome in results), "error" if failed else "ok"
    alerts.set_recipients(shop.org_id, emails=alerts.parse_emails(ctx.form.get("alerts.emails", "")),
                          webhook_url=ctx.form.get("alerts.webhook", "").strip() or None,
                          clear_webhook=ctx.form.get("alerts.no_webhook") == "on")
    return "Alert recipients saved.", "ok"


def _check_templates(options: dict[str, Any], shop: Store) -> None:
    """Render the templates once on the sample product: one over the limits (output size,
    loops, time) or that does not render is refused here, not in every products run."""
    from bridge.sync.listing import render

    templates = options.get("templates") or {}
    context = {"name": shop.name, "region": shop.region, "currency": shop.currency}
    for key, default in (("title", SAMPLE.title), ("description", SAMPLE.description_html)):
        if templates.get(key):
            render(templates[key], default, SAMPLE, context)


def _save_carrier(ctx: Ctx, shop: Store) -> None:
    carrier = ctx.form.get("carrier", "").strip()
    provider = ctx.form.get("provider_id", "").strip()
    if not carrier or not provider:
        raise Misconfigured("give the store's carrier name and the TikTok shipping provider")
    names = {p.id: p.name for p in _providers(ctx, shop)}
    with db.session() as s:
        row = s.exec(select(CarrierMapping).where(CarrierMapping.org_id == shop.org_id,
                                                  CarrierMapping.carrier == carrier)).first()
        row = row or CarrierMapping(org_id=shop.org_id, carrier=carrier, provider_id=provider)
        row.provider_id = provider
        row.provider_name = names.get(provider, ctx.form.get("provider_name", ""))
        s.add(row)


def _delete_carrier(ctx: Ctx, shop: Store) -> None:
    cid = ctx.form.get("carrier_id", "")
    with db.session() as s:
        ident = parse_id(cid)
        row = s.get(CarrierMapping, ident) if ident is not None else None
        if row is None or row.org_id != shop.org_id:
            raise HTTPException(404, "not found")
        s.delete(row)


SAMPLE = Product(remote_id="sample", title="Organic cotton T-shirt",
                 description_html="<p>Soft, breathable <b>organic cotton</b>.</p>", vendor="Acme",
                 product_type="T-shirts", tags=["summer"],
                 variants=[Variant(remote_id="v1", sku="TEE-M", price=Money(amount="19.99", currency="GBP"))])


def _sample(ctx: Ctx, shop: Store) -> Product:
    """One of the shop's own products when the store can be read, else a sample."""
    with db.session() as s:
        link = s.exec(select(ListingLink).where(ListingLink.channel_store_id == shop.id)).first()
        ecommerce = next(iter(active_stores(s, shop.org_id, "ecommerce")), None)
    if link is None or ecommerce is None or not ctx.pm.has(ecommerce.platform, "get_products"):
        return SAMPLE
    try:
        found = ctx.pm.call(ecommerce.platform, "get_products",
                            connection=connection_for(ecommerce, ctx.pm),
                            product_ids=[link.source_product_id])
    except BridgeError:
        return SAMPLE
    return found[0] if found else SAMPLE


@view()
def preview(ctx: Ctx) -> Response:
    """POST (JSON answer): the title and description the templates give a product."""
    from bridge.sync.listing import preview as render_preview

    shop = _shop(ctx)
    raw = {"templates": {"title": ctx.form.get("templates.title") or None,
                         "description": ctx.form.get("templates.description") or None}}
    try:
        out = render_preview(shop_options(raw), _sample(ctx, shop),
                             {"name": shop.name, "region": shop.region, "currency": shop.currency})
    except Misconfigured as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(out)


routes = [
    Route("/stores/{store_id}/settings", page, methods=["GET", "POST"]),
    Route("/stores/{store_id}/settings/preview", preview, methods=["POST"]),
]
