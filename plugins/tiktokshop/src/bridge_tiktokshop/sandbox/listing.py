"""The sandbox's product lifecycle, as the reference describes it (§5.7-§5.14):

* a create is validated (title, description, leaf category, images, required attributes, the
  category's rules: package dimensions, size chart, certifications), then audited (``PENDING``
  until ``audit_seconds`` have passed, or ``FAILED`` with the reasons a test set);
* a **full edit** overwrites every field, blanks included, and deletes the SKUs left out; price
  and inventory of a kept SKU stay when omitted;
* a **partial edit** changes only the top-level properties sent; a sent array replaces the whole
  property (``skus`` drops the SKUs left out);
* a content edit of a live product goes to review while the live version stays on sale (Get
  Product shows the live version; ``return_under_review_version=true`` the one in review); a
  seller-deactivated product stays deactivated whatever is edited (only ``activate`` brings it
  back, through a new review); ``FREEZE``, ``PLATFORM_DEACTIVATED`` and ``DELETED`` products
  refuse edits;
* price and inventory edits are live at once (no review).

Where the reference is silent (error codes of some refusals, what the live SKU set is while a
new version is in review) the sandbox picks the answer hardest on bridge; the plugin README
lists those choices.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from bridge_tiktokshop.markets import title_limits
from bridge_tiktokshop.sandbox import seed
from bridge_tiktokshop.sandbox.state import ApiError, Shop

if TYPE_CHECKING:
    from bridge_tiktokshop.sandbox import TikTokSandbox

EDITABLE = {"DRAFT", "PENDING", "FAILED", "ACTIVATE", "SELLER_DEACTIVATED"}
SKU_RE = re.compile(r"^\S{1,50}$")
CONTENT = ("title", "description", "category_id", "brand_id", "main_images", "product_attributes",
           "package_weight", "package_dimensions", "certifications", "size_chart", "video",
           "external_product_id", "is_cod_allowed")
"""Top-level properties whose change sends a live product back to review."""
NOT_EDITABLE_CODE = 12019109  # reference silent on the code: one code for every status refusal
NOT_LIVE_CODE = 12019110      # reference: prices/update needs ACTIVATE; code not documented
PRICE_LOCKED_CODE = 12019045  # reference §5.14


def leaf(cid: str) -> dict[str, Any]:
    cat = next((c for c in seed.CATEGORIES if c["id"] == cid), None)
    if cat is None:
        raise ApiError(12052023, f"Category {cid} does not exist.")
    if not cat["is_leaf"]:
        raise ApiError(12052024, f"Category {cid} is not a leaf category.")
    return cat


def _chosen_values(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(str(a.get("id")), str(v.get("id"))) for a in body.get("product_attributes") or []
            for v in a.get("values") or [] if v.get("id")}


def problems(world: Any, shop: Shop, body: dict[str, Any], keys: set[str] | None = None) -> list[tuple[int, str]]:
    """Every reason TikTok would refuse ``body`` (``keys``: only these top-level properties
    were sent, a partial edit), in the order the create checks them."""
    out: list[tuple[int, str]] = []

    def sent(key: str) -> bool:
        return keys is None or key in keys

    if sent("title"):
        title = str(body.get("title") or "")
        low, high = title_limits(shop.region)
        if not low <= len(title) <= high:
            out.append((12052004, f"Title must be {low}-{high} characters."))
        banned = [w for w in world.prohibited_words if w.lower() in title.lower()]
        if banned:
            out.append((12052010, f"The title contains prohibited words: {', '.join(banned)}."))
    if sent("description"):
        desc = body.get("description")
        if not desc:
            out.append((12052015, "Description is required."))
        elif len(desc) > 10000:
            out.append((12052013, "Description is too long."))
    cid = str(body.get("category_id") or "")
    if sent("category_id"):
        try:
            leaf(cid)
        except ApiError as exc:
            return out + [(exc.code, exc.message)]
    if sent("main_images"):
        images = body.get("main_images") or []
        if not images:
            out.append((12052028, "Main image is required."))
        elif len(images) > 9 or any(i.get("uri") not in world.images for i in images):
            out.append((12052029, "Main images must be uploaded TikTok images (at most 9)."))
    rules = seed.RULES.get(cid)
    if rules is None:  # partial edit without category: checks against the stored one are done by the caller
        return out
    chosen = _chosen_values(body)
    if sent("product_attributes"):
        given = {str(a.get("id")) for a in body.get("product_attributes") or [] if a.get("values")}
        for attr in seed.ATTRIBUTES.get(cid, []):
            if attr["type"] != "PRODUCT_PROPERTY" or attr["id"] in given:
                continue
            conditional = any((c["attribute_id"], c["attribute_value_id"]) in chosen
                              for c in attr.get("requirement_conditions") or [])
            if attr["is_requried"] or conditional:
                out.append((12052102, f"The required attribute [{attr['name']}] is missing."))
    if sent("package_dimensions") and rules["package_dimension"]["is_required"] and not body.get("package_dimensions"):
        out.append((12019012, "Package dimensions are required for this category."))
    if sent("package_weight"):
        weight = body.get("package_weight") or {}
        if not weight:
            out.append((12019011, "Package weight is required."))
        elif weight.get("unit") != "KILOGRAM":
            out.append((12019061, "Only KILOGRAM is accepted as weight unit in this market."))
    if sent("size_chart"):
        chart = body.get("size_chart") or {}
        if rules["size_chart"]["is_required"] and not (chart.get("image") or chart.get("template")):
            out.append((12052220, "A size chart is required for this category."))
        elif chart and not rules["size_chart"]["is_supported"]:
            out.append((12052221, "This category does not support a size chart."))
        uri = (chart.get("image") or {}).get("uri")
        if uri and uri not in world.images:
            out.append((12052222, "The size chart image must be an uploaded TikTok image."))
    if sent("certifications"):
        given_certs = {str(c.get("id")): c for c in body.get("certifications") or []}
        for cert in rules["product_certifications"]:
            conditional = any((c["attribute_id"], c["attribute_value_id"]) in chosen
                              for c in cert.get("requirement_conditions") or [])
            got = given_certs.get(cert["id"])
            if (cert["is_required"] or conditional) and not (got and (got.get("images") or got.get("files"))):
                out.append((12052230, f"The certification [{cert['name']}] is required for this category."))
    if sent("skus"):
        out += sku_problems(shop, body.get("skus") or [])
    return out


def sku_problems(shop: Shop, skus: list[dict[str, Any]]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    if not skus or len(skus) > 300:
        return [(11050001, "A product needs 1-300 SKUs.")]
    wh_ids = {w["id"] for w in shop.warehouses if w["type"] == "SALES_WAREHOUSE"}
    combos = set()
    for s in skus:
        if not SKU_RE.match(str(s.get("seller_sku") or "")):
            out.append((12019059, f"Seller SKU [{s.get('seller_sku')}] is invalid."))
        price = s.get("price")
        if price is not None and price.get("currency") != shop.currency:
            out.append((11050001, f"SKU price currency must be {shop.currency}."))
        inv = s.get("inventory")
        if inv is not None and (not inv or any(i.get("warehouse_id") not in wh_ids for i in inv)):
            out.append((12019028, "Inventory must name the shop's sales warehouses."))
        combo = tuple(sorted((str(a.get("id") or a.get("name")), str(a.get("value_id") or a.get("value_name")))
                             for a in s.get("sales_attributes") or []))
        if combo in combos:
            out.append((12052072, "Each SKU needs a unique combination of sales attributes."))
        combos.add(combo)
    if len(skus) > 1 and () in combos:
        out.append((12052071, "SKUs of a multi-SKU product need sales attributes."))
    return out


def raise_first(found: list[tuple[int, str]]) -> None:
    if found:
        raise ApiError(*found[0])


# --------------------------------------------------------------------------- storing


def _skus(sb: TikTokSandbox, shop: Shop, pid: str, sent: list[dict[str, Any]], old: list[dict[str, Any]],
          *, new_product: bool) -> list[dict[str, Any]]:
    """The SKU list after an edit: sent SKUs (kept ids keep their price/inventory when those are
    omitted), every other SKU deleted."""
    world = sb.world
    old_by_id = {s["id"]: s for s in old}
    for s in old:
        shop.sku_index.pop(s["seller_sku"], None)
    out = []
    for s in sent:
        kept = old_by_id.get(str(s.get("id") or ""))
        if kept is None and s.get("id") and not new_product:
            raise ApiError(12052036, f"SKU {s.get('id')} does not belong to product {pid}.")
        if kept is None and (s.get("price") is None or s.get("inventory") is None):
            raise ApiError(11050001, "A new SKU needs a price and inventory.")
        sid = kept["id"] if kept else world.new_id()
        attrs = []
        for a in s.get("sales_attributes") or []:
            attrs.append({"id": a.get("id") or world.new_id(), "name": a.get("name", ""),
                          "value_id": a.get("value_id") or world.new_id(),
                          "value_name": a.get("value_name", "")})
        price = ({"currency": s["price"]["currency"], "sale_price": str(s["price"]["amount"])}
                 if s.get("price") is not None else copy.deepcopy(kept["price"]))  # type: ignore[index]
        inventory = ([dict(i) for i in s["inventory"]] if s.get("inventory") is not None
                     else copy.deepcopy(kept["inventory"]))  # type: ignore[index]
        out.append({"id": sid, "seller_sku": s["seller_sku"], "external_sku_id": s.get("external_sku_id", ""),
                    "price": price, "inventory": inventory, "sales_attributes": attrs,
                    "identifier_code": s.get("identifier_code")})
        shop.sku_index[s["seller_sku"]] = (pid, sid)
    return out


def answer(p: dict[str, Any], warnings: list[dict[str, str]]) -> dict[str, Any]:
    return {"product_id": p["id"], "skus": [{"id": s["id"], "seller_sku": s["seller_sku"],
                                             "external_sku_id": s["external_sku_id"],
                                             "sales_attributes": [{"id": a["id"], "value_id": a["value_id"]}
                                                                  for a in s["sales_attributes"]]}
                                            for s in p["skus"]],
            "warnings": warnings}


def brand_warnings(body: dict[str, Any]) -> list[dict[str, str]]:
    brand = body.get("brand_id")
    if brand and brand not in {b["id"] for b in seed.BRANDS}:
        body.pop("brand_id", None)
        return [{"message": f"The [brand_id]:{brand} field is incorrect and has been automatically cleared."}]
    return []


def content_of(body: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The content properties after an edit: ``base`` (None: a full edit, everything blank)
    with the sent properties replacing whole ones."""
    out = {k: copy.deepcopy(base.get(k)) for k in CONTENT} if base is not None else dict.fromkeys(CONTENT)
    for k in CONTENT:
        if base is None or k in body:
            out[k] = copy.deepcopy(body.get(k))
    return out


def create(sb: TikTokSandbox, shop: Shop, body: dict[str, Any]) -> dict[str, Any]:
    raise_first(problems(sb.world, shop, body))
    warnings = brand_warnings(body)
    pid = sb.world.new_id()
    now = sb.world.now()
    p: dict[str, Any] = {"id": pid, **content_of(body), "status": "PENDING", "audit": {"status": "AUDITING"},
                         "create_time": now, "update_time": now, "sales_regions": [shop.region],
                         "skus": _skus(sb, shop, pid, body["skus"], [], new_product=True)}
    start_review(sb, p, None)
    shop.products[pid] = p
    return answer(p, warnings)


def edit(sb: TikTokSandbox, shop: Shop, p: dict[str, Any], body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """A full (``partial=False``) or partial edit of ``p``."""
    if p["status"] not in EDITABLE:
        raise ApiError(NOT_EDITABLE_CODE, f"A product in status {p['status']} cannot be edited.")
    keys = {k for k in body if k not in ("category_version", "idempotency_key", "save_mode")}
    live = under_review(p)
    if partial:
        merged = {**{k: live.get(k) for k in CONTENT}, **{k: body[k] for k in keys if k in CONTENT}}
        found = problems(sb.world, shop, {**merged, "skus": body.get("skus")}, keys)
    else:
        merged = body
        found = problems(sb.world, shop, body)
    raise_first(found)
    warnings = brand_warnings(body)
    if "skus" in keys or not partial:
        p["skus"] = _skus(sb, shop, p["id"], body.get("skus") or [], p["skus"], new_product=False)
    content_keys = keys & set(CONTENT)
    p["update_time"] = sb.world.now()
    if not partial or content_keys:  # reference: content edits are re-audited; price/stock are not
        start_review(sb, p, content_of(merged, None if not partial else live))
    sb.edits += 1
    return answer(p, warnings)


def under_review(p: dict[str, Any]) -> dict[str, Any]:
    """The product's newest content (the version in review, else the live one)."""
    return {**p, **p["pending"]} if p.get("pending") else p


def start_review(sb: TikTokSandbox, p: dict[str, Any], content: dict[str, Any] | None) -> None:
    """Send ``p`` (with new ``content``) to review. A live product stays on sale with its live
    content until the review passes; a deactivated one stays deactivated."""
    p["audit"] = {"status": "AUDITING"}
    p["audit_at"] = sb.world.now() + sb.audit_seconds
    p.pop("audit_failed_reasons", None)
    sb.reviews += 1
    if content is None:
        return
    if p["status"] in ("ACTIVATE", "SELLER_DEACTIVATED"):
        p["pending"] = content
    else:
        p.update(content)
        p["status"] = "PENDING"


def audited(sb: TikTokSandbox, shop: Shop, p: dict[str, Any]) -> dict[str, Any]:
    """Finish ``p``'s review once its time has come (approve, or fail with the reasons a test
    set); webhooks as TikTok sends them."""
    if p.get("audit", {}).get("status") != "AUDITING" or sb.world.now() < p.get("audit_at", 0):
        return p
    reasons = sb.world.audit_failures.pop(p["id"], None)
    p["audit"] = {"status": "FAILED" if reasons else "APPROVED"}
    if reasons:
        p["audit_failed_reasons"] = [{"position": "product", "reasons": reasons,
                                      "suggestions": ["Edit the product and submit it again."]}]
        p.pop("pending", None)  # the live version stays; the edit is refused
        if p["status"] == "PENDING":
            p["status"] = "FAILED"
    else:
        p.update(p.pop("pending", None) or {})
        if p["status"] == "PENDING":
            p["status"] = "ACTIVATE"
    p["update_time"] = sb.world.now()
    sb.notify(shop, "PRODUCT_STATUS_CHANGE", {
        "product_id": int(p["id"]), "status": "PRODUCT_AUDIT_FAILURE" if reasons else "PRODUCT_FIRST_PASS_REVIEW",
        "suspended_reason": "", "update_time": p["update_time"]})
    return p


def public(p: dict[str, Any], *, review_version: bool = False) -> dict[str, Any]:
    """Get Product's answer: the live version, or the one in review when asked."""
    view = under_review(p) if review_version else p
    out = {k: copy.deepcopy(v) for k, v in view.items() if k not in ("audit_at", "pending", "category_id", "brand_id")}
    cid = view.get("category_id")
    chain = []
    while cid and cid != "0":
        c = next((c for c in seed.CATEGORIES if c["id"] == cid), None)
        if c is None:
            break
        chain.append({"id": c["id"], "parent_id": c["parent_id"], "local_name": c["local_name"],
                      "is_leaf": c["is_leaf"]})
        cid = c["parent_id"]
    out["category_chains"] = chain[::-1]
    brand = next((b for b in seed.BRANDS if b["id"] == view.get("brand_id")), None)
    out["brand"] = {"id": brand["id"], "name": brand["name"]} if brand else None
    out["main_images"] = [{"uri": i["uri"], "urls": [], "thumb_urls": []} for i in view.get("main_images") or []]
    return out


def update_prices(sb: TikTokSandbox, shop: Shop, p: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """prices/update: live at once; the product must be ACTIVATE and its price not locked."""
    audited(sb, shop, p)
    if p["status"] != "ACTIVATE":
        raise ApiError(NOT_LIVE_CODE, f"The price of a product in status {p['status']} cannot be updated.")
    if p["id"] in shop.price_locks:
        raise ApiError(PRICE_LOCKED_CODE, "The price is locked: the product is in an ongoing promotion.")
    by_id = {s["id"]: s for s in p["skus"]}
    items = body.get("skus") or []
    if not items:
        raise ApiError(11050001, "skus is required.")
    for item in items:
        sku = by_id.get(str(item.get("id") or ""))
        if sku is None:
            raise ApiError(12052036, f"SKU {item.get('id')} does not belong to product {p['id']}.")
        price = item.get("price") or {}
        if price.get("currency") != shop.currency:
            raise ApiError(11050001, f"SKU price currency must be {shop.currency}.")
        try:
            if float(price.get("amount")) <= 0:
                raise ValueError
        except (TypeError, ValueError):
            raise ApiError(11050001, "price.amount must be a positive decimal string.") from None
    for item in items:
        by_id[str(item["id"])]["price"] = {"currency": item["price"]["currency"],
                                           "sale_price": str(item["price"]["amount"])}
    p["update_time"] = sb.world.now()
    sb.price_updates += 1
    return {}


def check(sb: TikTokSandbox, shop: Shop, body: dict[str, Any]) -> dict[str, Any]:
    """listing_check: the create's checks, all at once, plus quality diagnoses."""
    found = problems(sb.world, shop, body)
    diagnoses = []
    if len(str(body.get("description") or "")) < 50:
        diagnoses.append({"field": "DESCRIPTION", "diagnosis_results": [
            {"code": "DESC_LESS_THAN_FIFTY_CHARS", "how_to_solve": "Describe the product in more detail."}]})
    return {"check_result": "FAILED" if found else "PASS",
            "fail_reasons": [{"message": m} for _, m in found], "diagnoses": diagnoses}
