"""Changes to listed products, each with the lightest call TikTok offers (reference §5.8-§5.14):

* :func:`update_prices` — ``prices/update``, one call per product with all its SKUs (live at
  once, no review; the product must be ``ACTIVATE`` and not in a promotion: 12019045);
* :func:`partial_edit` — ``partial_edit`` with only the changed top-level properties;
* :func:`full_edit` — Get Product, change it, ``PUT`` everything back (TikTok's advice: a full
  edit overwrites every field and deletes the SKUs left out, so nothing set in Seller Center —
  brand, certifications, size chart, video, identifier codes — may be blanked);
* :func:`activate` — ``products/activate`` (back to review, then live);
* :func:`check` — ``listing_check``, the create's checks without creating.

An edit TikTok refuses is looked up once (Get Product): a product TikTok froze, took off sale
or that was deleted in Seller Center is reported with code ``FROZEN`` / ``DELETED`` so the core
holds it instead of trying again.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from bridge.errors import Rejected
from bridge.models import ItemResult, Listing, ListingCheck, ListingResult, PriceUpdate
from bridge_tiktokshop import errormap, mapping
from bridge_tiktokshop.catalog import P, _payload, _result, category_version, remember_checked
from bridge_tiktokshop.client import TikTokClient

PRICE_LOCKED = 12019045
#: bridge's listing parts -> TikTok's top-level product properties.
PART_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title",), "description": ("description",), "images": ("main_images",),
    "attributes": ("product_attributes",), "package": ("package_weight", "package_dimensions"),
    "brand": ("brand_id",), "size_chart": ("size_chart",), "certifications": ("certifications",),
    "category": ("category_id", "product_attributes"),
}
#: Properties of Get Product that a full edit sends back as TikTok holds them, unless bridge
#: sets them.
KEPT = ("brand_id", "certifications", "size_chart", "video", "is_cod_allowed", "package_weight",
        "package_dimensions", "product_attributes")


def _need_id(listing: Listing) -> str:
    if not listing.remote_product_id:
        raise Rejected("an edit needs the TikTok product id", code="NO_PRODUCT_ID", item=listing.source_product_id)
    return listing.remote_product_id


def refusal(client: TikTokClient, product_id: str, exc: Rejected) -> Rejected:
    """The error to raise for a refused edit: FROZEN / DELETED when the product's status is
    why (looked up once), else TikTok's own."""
    return _why(product_id, exc, *_lookup(client, product_id))


def _lookup(client: TikTokClient, product_id: str, query: dict[str, Any] | None = None,
            ) -> tuple[dict[str, Any] | None, Rejected | None]:
    """Get Product: its data, or the refusal TikTok answered instead."""
    try:
        return client.call("GET", f"{P}/products/{product_id}", query=query), None
    except Rejected as lookup:
        return None, lookup


def _why(product_id: str, exc: Rejected, data: dict[str, Any] | None, lookup: Rejected | None) -> Rejected:
    """:func:`refusal` from a Get Product already made (``data``, or its refusal ``lookup``)."""
    if lookup is not None:
        if lookup.code and lookup.code.isdigit() and int(lookup.code) in errormap.NOT_FOUND:
            return Rejected(f"TikTok product {product_id} was deleted on TikTok Shop: it is not re-created "
                            "unless you ask (`bridge products relist` or the shop option "
                            "products.recreate_deleted)", code="DELETED", item=product_id)
        return exc
    status = (data or {}).get("status")
    if status in mapping.FROZEN_REASONS:
        return Rejected(mapping.FROZEN_REASONS[status], code="FROZEN", item=product_id,
                        detail=f"TikTok said: {exc.message}")
    if status == "DELETED":
        return Rejected(f"TikTok product {product_id} was deleted on TikTok Shop", code="DELETED", item=product_id)
    return exc


def _send(client: TikTokClient, method: str, path: str, product_id: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return client.call(method, path, body=body)
    except Rejected as exc:
        raise refusal(client, product_id, exc) from None


# --------------------------------------------------------------------------- prices


def update_prices(client: TikTokClient, updates: list[PriceUpdate]) -> list[ItemResult]:
    """One ``prices/update`` per product with all its SKUs; refusals reported per item."""
    by_product: OrderedDict[str, list[PriceUpdate]] = OrderedDict()
    for u in updates:
        by_product.setdefault(u.product_id, []).append(u)
    results: dict[int, ItemResult] = {}
    for product_id, items in by_product.items():
        body = {"skus": [{"id": u.sku_id, "price": {"amount": str(u.price.amount), "currency": u.price.currency}}
                         for u in items]}
        code: str | None = None
        message: str | None = None
        try:
            client.call("POST", f"{P}/products/{product_id}/prices/update", body=body)
        except Rejected as exc:
            if exc.code == str(PRICE_LOCKED):
                code, message = "PRICE_LOCKED", ("the price is locked by a running TikTok promotion: "
                                                  f"retried later ({exc.message})")
            else:  # one Get Product tells both: frozen/deleted, or not live yet
                data, lookup = _lookup(client, product_id)
                why = _why(product_id, exc, data, lookup)
                code, message = why.code, why.message
                if why is exc:
                    status = (data or {}).get("status")
                    if status and status != "ACTIVATE":
                        code, message = "NOT_LIVE", f"the product is {status} on TikTok Shop: its price waits until it is live"
        for u in items:
            results[id(u)] = ItemResult(key=u.sku_id, ok=code is None, code=code, message=message)
    return [results[id(u)] for u in updates]


# --------------------------------------------------------------------------- edits


def partial_edit(client: TikTokClient, listing: Listing, parts: list[str]) -> ListingResult:
    """Send only the properties of ``parts``; everything else stays as TikTok holds it."""
    product_id = _need_id(listing)
    unknown = [p for p in parts if p not in PART_KEYS]
    if unknown or not parts:
        raise Rejected(f"partial edit of unknown or no parts: {unknown or parts}", code="BAD_PARTS",
                       item=listing.source_product_id)
    full, warnings = _payload(client, listing, None, parts=set(parts))
    body: dict[str, Any] = {"category_version": category_version(client)}
    if "category" not in parts:
        body["category_id"] = full["category_id"]  # not a change: tells TikTok which rules apply
    for part in parts:
        for key in PART_KEYS[part]:
            if key in full:  # a property bridge does not set is left as TikTok holds it
                body[key] = full[key]
    data = _send(client, "POST", f"{P}/products/{product_id}/partial_edit", product_id, body)
    data.setdefault("product_id", product_id)
    return _result(data, "pending", warnings)


def full_edit(client: TikTokClient, listing: Listing) -> ListingResult:
    """Get Product, put bridge's listing over it, send everything back (``PUT``)."""
    product_id = _need_id(listing)
    current, lookup = _lookup(client, product_id, {"return_under_review_version": True})
    if lookup is not None:  # this Get Product is the lookup: not made twice
        raise _why(product_id, lookup, None, lookup)
    assert current is not None
    if current.get("status") in mapping.FROZEN_REASONS:
        raise Rejected(mapping.FROZEN_REASONS[current["status"]], code="FROZEN", item=product_id)
    ours, warnings = _payload(client, listing, None)
    body = kept_properties(current)
    body.update(ours)
    theirs = {str(s.get("id")): s for s in current.get("skus") or []}
    for sku in body["skus"]:
        old = theirs.get(str(sku.get("id") or ""))
        if old and old.get("identifier_code") and "identifier_code" not in sku:
            sku["identifier_code"] = old["identifier_code"]
    data = _send(client, "PUT", f"{P}/products/{product_id}", product_id, body)
    data.setdefault("product_id", product_id)
    return _result(data, "pending", warnings)


def kept_properties(current: dict[str, Any]) -> dict[str, Any]:
    """What a full edit sends back of Get Product's answer, in the edit's shape."""
    out: dict[str, Any] = {}
    for key in KEPT:
        if current.get(key) not in (None, "", [], {}):
            out[key] = current[key]
    brand = current.get("brand") or {}
    if brand.get("id"):
        out["brand_id"] = str(brand["id"])
    if out.get("product_attributes"):
        out["product_attributes"] = [
            {"id": a["id"], "values": [{"id": v["id"]} if v.get("id") else {"name": v.get("name", "")}
                                       for v in a.get("values") or []]} for a in out["product_attributes"]]
    if out.get("certifications"):
        out["certifications"] = [
            {"id": c["id"], "images": [{"uri": i["uri"]} for i in c.get("images") or [] if i.get("uri")],
             **({"files": c["files"]} if c.get("files") else {})} for c in out["certifications"]]
    if out.get("video"):
        out["video"] = {"id": out["video"].get("id")}
    return out


def activate(client: TikTokClient, product_id: str) -> ListingResult:
    data = client.call("POST", f"{P}/products/activate", body={"product_ids": [product_id]})
    err = {str((e.get("detail") or {}).get("product_id")): e for e in data.get("errors") or []}.get(product_id)
    if err:
        raise refusal(client, product_id, Rejected(
            f"TikTok Shop did not activate product {product_id}: {err.get('message')}",
            code=str(err.get("code")), item=product_id))
    return ListingResult(remote_product_id=product_id, status="pending")


# --------------------------------------------------------------------------- pre-flight


def check(client: TikTokClient, listing: Listing, dry_run: bool) -> ListingCheck:
    """``listing_check`` with the create's body. A dry run uploads nothing: images not on TikTok
    yet are left out of the check, and what TikTok says about images is then not counted
    (``checked=False``: the images are checked at sync time)."""
    skipped: list[str] = []
    try:
        body, warnings = _payload(client, listing, None, upload=not dry_run, skipped=skipped)
    except Rejected as exc:
        return ListingCheck(ok=False, reasons=[exc.message])
    if not dry_run:  # its create sends this body (catalog.checked_body)
        remember_checked(client, listing, body, warnings)
    data = client.call("POST", f"{P}/products/listing_check", body=body)
    reasons = [str(r.get("message") or r) for r in data.get("fail_reasons") or []]
    if skipped:
        reasons = [r for r in reasons if "image" not in r.lower()]
        warnings.append(f"{len(skipped)} image(s) not uploaded yet: TikTok checks them when the product is synced")
    for d in data.get("diagnoses") or []:
        for r in d.get("diagnosis_results") or []:
            warnings.append(f"{d.get('field', '').lower() or 'listing'}: {r.get('code')}"
                            + (f" ({r['how_to_solve']})" if r.get("how_to_solve") else ""))
    return ListingCheck(ok=not reasons, reasons=reasons, warnings=warnings, checked=not skipped)
