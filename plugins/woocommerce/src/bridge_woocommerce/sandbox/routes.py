"""The emulated REST routes: WP index, wc/v3 products, variations, orders, notes, webhooks,
settings and system status, and the tracking plugins' own routes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bridge_woocommerce.sandbox import orders as order_ops
from bridge_woocommerce.sandbox.http import (
    ApiError,
    Req,
    Resp,
    filter_collection,
    only_fields,
    paginate,
)
from bridge_woocommerce.sandbox.state import SiteState, now, slugify, stamp

Handler = Callable[..., Resp]
ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = []
PRODUCT_ORDERBY = ("date", "id", "include", "title", "slug", "modified", "price", "popularity", "rating")
ORDER_ORDERBY = ("date", "id", "include", "title", "slug")
WC_VERSION, WP_VERSION = "9.4.2", "6.7.1"
ST_NS, AS_NS = "wc-shipment-tracking/v3", "wc/aftership/v1"


def route(method: str, pattern: str, name: str | None = None) -> Callable[[Handler], Handler]:
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[\\w-]+)", pattern) + "/?$")

    def add(fn: Handler) -> Handler:
        ROUTES.append((method, regex, name or pattern, fn))
        return fn
    return add


def match(method: str, path: str) -> tuple[Handler, dict[str, str], str] | None | bool:
    """The handler for a route; False when the path exists with another method; None: no route."""
    other = False
    for m, regex, name, fn in ROUTES:
        found = regex.match(path)
        if found:
            if m == method:
                return fn, found.groupdict(), name
            other = True
    return False if other else None


def _out(req: Req, objs: list[dict[str, Any]]) -> Resp:
    page, headers = paginate(req, objs)
    fields = req.params.get("_fields")
    return Resp(200, [only_fields(o, fields) for o in page], headers)


def _meta_filter(req: Req, obj: dict[str, Any]) -> dict[str, Any]:
    keys = req.params.get("include_meta")
    if not keys or "meta_data" not in obj:
        return obj
    allowed = set(keys.split(","))
    return {**obj, "meta_data": [m for m in obj["meta_data"] if m["key"] in allowed]}


# --------------------------------------------------------------------------- index, settings


def namespaces(site: SiteState) -> list[str]:
    out = ["oembed/1.0", "wc/v1", "wc/v2", "wc/v3", "wc/store/v1", "wc-admin", "wp/v2", "wp-site-health/v1"]
    if site.shipment_tracking:
        out.append(ST_NS)
    if site.aftership:
        out.append(AS_NS)
    return out


@route("GET", "/")
def index(site: SiteState, req: Req) -> Resp:
    return Resp(200, {"name": site.name, "description": "A WooCommerce sandbox", "url": req.home, "home": req.home,
                      "gmt_offset": "0", "timezone_string": "UTC", "namespaces": namespaces(site),
                      "authentication": {}, "routes": {}})


@route("GET", "/wc/v3")
def wc_index(site: SiteState, req: Req) -> Resp:
    return Resp(200, {"namespace": "wc/v3", "routes": {name: {} for _, _, name, _ in ROUTES if name.startswith("/wc/v3")}})


@route("GET", "/wc/v3/system_status")
def system_status(site: SiteState, req: Req) -> Resp:
    plugins = [{"plugin": "woocommerce/woocommerce.php", "name": "WooCommerce", "version": WC_VERSION}]
    if site.aftership:
        plugins.append({"plugin": "aftership-woocommerce-tracking/aftership-woocommerce-tracking.php",
                        "name": "AfterShip Tracking - All-In-One WooCommerce Order Tracking", "version": "1.17.17"})
    if site.shipment_tracking:
        plugins.append({"plugin": "woocommerce-shipment-tracking/woocommerce-shipment-tracking.php",
                        "name": "WooCommerce Shipment Tracking", "version": "2.6.0"})
    body = {"environment": {"home_url": req.home, "site_url": req.home, "version": WC_VERSION,
                            "wp_version": WP_VERSION, "php_version": "8.2.0"},
            "active_plugins": plugins,
            "settings": {"api_enabled": True, "currency": site.currency, "currency_symbol": "&pound;",
                         "number_of_decimals": 2}}
    return Resp(200, only_fields(body, req.params.get("_fields")))


SETTINGS = {"general": {"woocommerce_currency": None, "woocommerce_default_country": "GB"},
            "products": {"woocommerce_weight_unit": "kg", "woocommerce_dimension_unit": "cm"}}


def _option(site: SiteState, group: str, oid: str) -> dict[str, Any]:
    value = site.currency if oid == "woocommerce_currency" else SETTINGS[group][oid]
    return {"id": oid, "label": oid, "description": "", "type": "select", "default": value, "value": value,
            "group_id": group}


@route("GET", "/wc/v3/settings/{group}")
def settings_group(site: SiteState, req: Req, group: str) -> Resp:
    if group not in SETTINGS:
        raise ApiError(404, "rest_setting_setting_group_invalid", "Invalid setting group.")
    return Resp(200, [_option(site, group, oid) for oid in SETTINGS[group]])


@route("GET", "/wc/v3/settings/{group}/{oid}")
def setting(site: SiteState, req: Req, group: str, oid: str) -> Resp:
    if oid not in SETTINGS.get(group, {}):
        raise ApiError(404, "rest_setting_setting_invalid", "Invalid setting.")
    return Resp(200, _option(site, group, oid))


# --------------------------------------------------------------------------- products


def _product(site: SiteState, pid: str) -> dict[str, Any]:
    obj = site.products.get(int(pid)) if pid.isdigit() else None
    if obj is None:
        raise ApiError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
    return obj


def _variation_out(v: dict[str, Any]) -> dict[str, Any]:
    return {k: val for k, val in v.items() if k != "parent_id"}


@route("GET", "/wc/v3/products")
def list_products(site: SiteState, req: Req) -> Resp:
    with site.lock:
        items = list(site.products.values())
        status = req.params.get("status") or "any"
        if status != "any":
            items = [p for p in items if p["status"] in status.split(",")]
        for key in ("type", "sku", "stock_status"):
            if req.params.get(key):
                items = [p for p in items if p.get(key) in req.params[key].split(",")]
        items = filter_collection(req, items, PRODUCT_ORDERBY)
        return _out(req, items)


@route("GET", "/wc/v3/products/{pid}")
def get_product(site: SiteState, req: Req, pid: str) -> Resp:
    with site.lock:
        v = site.variations.get(int(pid)) if pid.isdigit() else None
        if v is not None:  # wc_get_product() also loads variations
            return Resp(200, only_fields({**v, "type": "variation"}, req.params.get("_fields")))
        return Resp(200, only_fields(_product(site, pid), req.params.get("_fields")))


def _write_stock(site: SiteState, obj: dict[str, Any], body: dict[str, Any]) -> None:
    for key in ("name", "regular_price", "sale_price", "sku", "status", "description"):
        if key in body:
            obj[key] = body[key]
    if "manage_stock" in body:
        obj["manage_stock"] = bool(body["manage_stock"])
    if "stock_quantity" in body and obj.get("manage_stock"):
        obj["stock_quantity"] = int(body["stock_quantity"])
    elif not obj.get("manage_stock"):
        obj["stock_quantity"] = None
    if obj.get("manage_stock"):
        obj["stock_status"] = "instock" if (obj.get("stock_quantity") or 0) > 0 else "outofstock"
    if "regular_price" in body or "sale_price" in body:
        obj["price"] = obj.get("sale_price") or obj.get("regular_price") or ""
    site.touch(obj)
    site.emit("product.updated", dict(obj))


@route("PUT", "/wc/v3/products/{pid}")
def put_product(site: SiteState, req: Req, pid: str) -> Resp:
    with site.lock:
        obj = _product(site, pid)
        _write_stock(site, obj, req.json or {})
        return Resp(200, obj)


@route("GET", "/wc/v3/products/{pid}/variations")
def list_variations(site: SiteState, req: Req, pid: str) -> Resp:
    with site.lock:
        parent = _product(site, pid)
        items = [site.variations[v] for v in parent["variations"]]
        items = filter_collection(req, items, PRODUCT_ORDERBY)
        page, headers = paginate(req, items)
        fields = req.params.get("_fields")
        return Resp(200, [only_fields(_variation_out(v), fields) for v in page], headers)


def _variation(site: SiteState, pid: str, vid: str) -> dict[str, Any]:
    v = site.variations.get(int(vid)) if vid.isdigit() else None
    if v is None or str(v["parent_id"]) != pid:
        raise ApiError(404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
    return v


@route("GET", "/wc/v3/products/{pid}/variations/{vid}")
def get_variation(site: SiteState, req: Req, pid: str, vid: str) -> Resp:
    with site.lock:
        return Resp(200, only_fields(_variation_out(_variation(site, pid, vid)), req.params.get("_fields")))


@route("PUT", "/wc/v3/products/{pid}/variations/{vid}")
def put_variation(site: SiteState, req: Req, pid: str, vid: str) -> Resp:
    with site.lock:
        v = _variation(site, pid, vid)
        _write_stock(site, v, req.json or {})
        return Resp(200, _variation_out(v))


@route("GET", "/wc/v3/variations")
def all_variations(site: SiteState, req: Req) -> Resp:
    """WooCommerce 10.3+: every variation, with ``parent_id``."""
    with site.lock:
        return _out(req, filter_collection(req, list(site.variations.values()), PRODUCT_ORDERBY))


# --------------------------------------------------------------------------- webhooks


def _webhook_out(hook: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hook.items() if k not in ("secret", "failure_count")}


@route("GET", "/wc/v3/webhooks")
def list_webhooks(site: SiteState, req: Req) -> Resp:
    with site.lock:
        status = req.params.get("status") or "all"
        items = [h for h in site.webhooks.values() if status == "all" or h["status"] == status]
        return _out(req, [_webhook_out(h) for h in sorted(items, key=lambda h: -h["id"])])


@route("POST", "/wc/v3/webhooks")
def create_webhook(site: SiteState, req: Req) -> Resp:
    body = req.json or {}
    topic, url = str(body.get("topic") or ""), str(body.get("delivery_url") or "")
    if not topic or not url:
        raise ApiError(400, "rest_missing_callback_param", "Missing parameter(s): topic, delivery_url",
                       params=["topic", "delivery_url"])
    resource, _, event = topic.partition(".")
    if resource not in ("product", "order", "coupon", "customer", "action") or not event:
        raise ApiError(400, "woocommerce_rest_webhook_invalid_topic", "Webhook topic is invalid.")
    if not url.startswith(("http://", "https://")):
        raise ApiError(400, "woocommerce_rest_invalid_delivery_url", "Webhook delivery URL must be a valid URL.")
    ts = stamp(now())
    with site.lock:
        hid = site.new_id()
        hook = {"id": hid, "name": body.get("name") or f"Webhook created on {ts}", "status": body.get("status") or "active",
                "topic": topic, "resource": resource, "event": event, "hooks": [], "delivery_url": url,
                "date_created": ts, "date_created_gmt": ts, "date_modified": ts, "date_modified_gmt": ts,
                "secret": str(body.get("secret") or slugify(url)), "failure_count": 0}
        site.webhooks[hid] = hook
        site.emit("ping", {"webhook_id": hid})
    return Resp(201, _webhook_out(hook))


def _hook(site: SiteState, hid: str) -> dict[str, Any]:
    hook = site.webhooks.get(int(hid)) if hid.isdigit() else None
    if hook is None:
        raise ApiError(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
    return hook


@route("GET", "/wc/v3/webhooks/{hid}")
def get_webhook(site: SiteState, req: Req, hid: str) -> Resp:
    return Resp(200, _webhook_out(_hook(site, hid)))


@route("PUT", "/wc/v3/webhooks/{hid}")
def put_webhook(site: SiteState, req: Req, hid: str) -> Resp:
    with site.lock:
        hook = _hook(site, hid)
        for key in ("name", "status", "secret", "delivery_url"):
            if key in (req.json or {}):
                hook[key] = req.json[key]
        if (req.json or {}).get("status") == "active":
            hook["failure_count"] = 0
        hook["date_modified"] = hook["date_modified_gmt"] = stamp(now())
        return Resp(200, _webhook_out(hook))


@route("DELETE", "/wc/v3/webhooks/{hid}")
def delete_webhook(site: SiteState, req: Req, hid: str) -> Resp:
    if req.params.get("force") not in ("true", "1"):
        raise ApiError(501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.")
    with site.lock:
        hook = _hook(site, hid)
        del site.webhooks[hook["id"]]
        return Resp(200, _webhook_out(hook))


from bridge_woocommerce.sandbox import routes_orders as _orders  # noqa: E402,F401  (registers its routes)

__all__ = ["ROUTES", "match", "order_ops"]
