"""Sandbox handlers of the product API: categories, attributes, rules, brands, recommend,
images, products (create, edit, search, get, deactivate/activate), inventory, prerequisites."""

from __future__ import annotations

import base64
import re
import secrets
from typing import TYPE_CHECKING, Any

from bridge_tiktokshop.markets import title_limits
from bridge_tiktokshop.sandbox import seed
from bridge_tiktokshop.sandbox.gate import Ctx
from bridge_tiktokshop.sandbox.state import ApiError, Shop

if TYPE_CHECKING:
    from bridge_tiktokshop.sandbox import TikTokSandbox

EDITABLE = {"DRAFT", "PENDING", "FAILED", "ACTIVATE", "SELLER_DEACTIVATED"}
SKU_RE = re.compile(r"^\S{1,50}$")


def page(items: list[Any], ctx: Ctx, default: int = 20) -> tuple[list[Any], str]:
    """A page of ``items`` by ``page_size``/``page_token`` (token: base64 offset)."""
    try:
        size = int(ctx.query.get("page_size", default))
    except ValueError:
        raise ApiError(11050001, "Invalid page_size.") from None
    if not 1 <= size <= 100:
        raise ApiError(11050001, "page_size must be between 1 and 100.")
    token = ctx.query.get("page_token") or ""
    try:
        start = int(base64.b64decode(token).decode().removeprefix("offset=")) if token else 0
    except ValueError:
        raise ApiError(11050001, "Invalid page_token.") from None
    chunk = items[start:start + size]
    nxt = base64.b64encode(f"offset={start + size}".encode()).decode() if start + size < len(items) else ""
    return chunk, nxt


def _shop(ctx: Ctx) -> Shop:
    assert ctx.shop is not None
    return ctx.shop


def _product(shop: Shop, pid: str) -> dict[str, Any]:
    p = shop.products.get(pid)
    if p is None or p["status"] == "DELETED":
        raise ApiError(12019150, f"Product {pid} does not exist.")
    return p


class ProductRoutes:
    def __init__(self, sb: TikTokSandbox) -> None:
        self.sb = sb
        self.world = sb.world

    # ------------------------------------------------------------------ categories

    def categories(self, ctx: Ctx) -> dict[str, Any]:
        return {"categories": [{"permission_statuses": ["AVAILABLE"], **c} for c in seed.CATEGORIES]}

    def _leaf(self, cid: str) -> dict[str, Any]:
        cat = next((c for c in seed.CATEGORIES if c["id"] == cid), None)
        if cat is None:
            raise ApiError(12052023, f"Category {cid} does not exist.")
        if not cat["is_leaf"]:
            raise ApiError(12052024, f"Category {cid} is not a leaf category.")
        return cat

    def attributes(self, ctx: Ctx) -> dict[str, Any]:
        self._leaf(ctx.params["category_id"])
        return {"attributes": seed.ATTRIBUTES.get(ctx.params["category_id"], [])}

    def rules(self, ctx: Ctx) -> dict[str, Any]:
        self._leaf(ctx.params["category_id"])
        return seed.RULES[ctx.params["category_id"]]

    def recommend(self, ctx: Ctx) -> dict[str, Any]:
        title = str(ctx.body.get("product_title") or "")
        if not title:
            raise ApiError(11050001, "product_title is required.")
        words = title.lower()
        leaf = next((cid for word, cid in seed.RECOMMEND if word in words), None)
        if leaf is None:
            raise ApiError(12019064, "No category could be recommended for this product.")
        chain, cid = [], leaf
        while cid != "0":
            c = next(c for c in seed.CATEGORIES if c["id"] == cid)
            chain.append(c)
            cid = c["parent_id"]
        chain.reverse()
        return {"leaf_category_id": leaf, "categories": [
            {"id": c["id"], "name": c["local_name"], "level": i + 1, "is_leaf": c["is_leaf"],
             "permission_statuses": c.get("permission_statuses", ["AVAILABLE"])} for i, c in enumerate(chain)]}

    def brands(self, ctx: Ctx) -> dict[str, Any]:
        if "page_size" not in ctx.query:
            raise ApiError(11050001, "page_size is required.")
        items, nxt = page(seed.BRANDS, ctx)
        return {"brands": items, "next_page_token": nxt, "total_count": len(seed.BRANDS)}

    def prerequisites(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        return {"check_results": [
            {"check_item": item, "is_failed": item in shop.failed_checks,
             "fail_reasons": [shop.failed_checks[item]] if item in shop.failed_checks else []}
            for item in seed.PREREQUISITE_ITEMS]}

    # ------------------------------------------------------------------ images

    def upload_image(self, ctx: Ctx) -> dict[str, Any]:
        data = ctx.form.get("data")
        use_case = ctx.form.get("use_case") or "MAIN_IMAGE"
        if not isinstance(data, bytes | bytearray) or not data:
            raise ApiError(12038002, "Invalid image file.")
        if len(data) > 10 * 1024 * 1024:
            raise ApiError(12038005, "The image exceeds 10 MB.")
        from bridge_tiktokshop.images import sniff

        fmt, w, h = sniff(bytes(data))
        if fmt is None:
            raise ApiError(12038004, "Unsupported image format.")
        if w and h and use_case == "MAIN_IMAGE" and (min(w, h) < 300 or max(w, h) > 4000):
            raise ApiError(12038014, "Main image dimensions must be 300-4000 px.")
        uri = f"tos-maliva-i-o3syd03w52-us/{secrets.token_hex(16)}"
        info = {"uri": uri, "url": f"https://p16-oec-va.ibyteimg.com/{uri}~tplv-o3syd03w52-origin-jpeg.jpeg",
                "width": w or 0, "height": h or 0, "use_case": use_case}
        self.world.images[uri] = info
        self.sb.uploads += 1
        return info

    # ------------------------------------------------------------------ products

    def _validate(self, shop: Shop, body: dict[str, Any], existing: dict[str, Any] | None) -> None:
        title = str(body.get("title") or "")
        low, high = title_limits(shop.region)
        if not low <= len(title) <= high:
            raise ApiError(12052004, f"Title must be {low}-{high} characters.")
        desc = body.get("description")
        if not desc:
            raise ApiError(12052015, "Description is required.")
        if len(desc) > 10000:
            raise ApiError(12052013, "Description is too long.")
        cid = str(body.get("category_id") or "")
        self._leaf(cid)
        images = body.get("main_images") or []
        if not images:
            raise ApiError(12052028, "Main image is required.")
        if len(images) > 9 or any(i.get("uri") not in self.world.images for i in images):
            raise ApiError(12052029, "Main images must be uploaded TikTok images (at most 9).")
        given = {str(a.get("id")) for a in body.get("product_attributes") or [] if a.get("values")}
        for attr in seed.ATTRIBUTES.get(cid, []):
            if attr["type"] == "PRODUCT_PROPERTY" and attr["is_requried"] and attr["id"] not in given:
                raise ApiError(12052102, f"The required attribute [{attr['name']}] is missing.")
        if seed.RULES[cid]["package_dimension"]["is_required"] and not body.get("package_dimensions"):
            raise ApiError(12019012, "Package dimensions are required for this category.")
        weight = body.get("package_weight") or {}
        if weight and weight.get("unit") != "KILOGRAM":
            raise ApiError(12019061, "Only KILOGRAM is accepted as weight unit in this market.")
        skus = body.get("skus") or []
        if not skus or len(skus) > 300:
            raise ApiError(11050001, "A product needs 1-300 SKUs.")
        wh_ids = {w["id"] for w in shop.warehouses if w["type"] == "SALES_WAREHOUSE"}
        combos = set()
        for s in skus:
            if not SKU_RE.match(str(s.get("seller_sku") or "")):
                raise ApiError(12019059, f"Seller SKU [{s.get('seller_sku')}] is invalid.")
            price = s.get("price") or {}
            if price.get("currency") != shop.currency:
                raise ApiError(11050001, f"SKU price currency must be {shop.currency}.")
            inv = s.get("inventory") or []
            if not inv or any(i.get("warehouse_id") not in wh_ids for i in inv):
                raise ApiError(12019028, "Inventory must name the shop's sales warehouses.")
            combo = tuple(sorted((str(a.get("id") or a.get("name")), str(a.get("value_id") or a.get("value_name")))
                                 for a in s.get("sales_attributes") or []))
            if combo in combos:
                raise ApiError(12052072, "Each SKU needs a unique combination of sales attributes.")
            combos.add(combo)
        if len(skus) > 1 and () in combos:
            raise ApiError(12052071, "SKUs of a multi-SKU product need sales attributes.")

    def _store(self, shop: Shop, pid: str, body: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        now = self.world.now()
        old_skus = {s["id"]: s for s in (old or {}).get("skus", [])}
        for s in (old or {}).get("skus", []):
            shop.sku_index.pop(s["seller_sku"], None)
        skus = []
        for s in body["skus"]:
            sid = str(s.get("id") or "") if str(s.get("id") or "") in old_skus else self.world.new_id()
            attrs = []
            for a in s.get("sales_attributes") or []:
                attrs.append({"id": a.get("id") or self.world.new_id(), "name": a.get("name", ""),
                              "value_id": a.get("value_id") or self.world.new_id(),
                              "value_name": a.get("value_name", "")})
            skus.append({"id": sid, "seller_sku": s["seller_sku"], "external_sku_id": s.get("external_sku_id", ""),
                         "price": {"currency": s["price"]["currency"], "sale_price": str(s["price"]["amount"])},
                         "inventory": [dict(i) for i in s["inventory"]], "sales_attributes": attrs})
            shop.sku_index[s["seller_sku"]] = (pid, sid)
        product = {
            "id": pid, "title": body["title"], "description": body["description"],
            "category_id": body["category_id"], "brand_id": body.get("brand_id"),
            "status": "PENDING", "audit": {"status": "AUDITING"}, "main_images": body["main_images"],
            "product_attributes": body.get("product_attributes") or [],
            "package_weight": body.get("package_weight"), "package_dimensions": body.get("package_dimensions"),
            "external_product_id": body.get("external_product_id", ""), "skus": skus,
            "create_time": (old or {}).get("create_time", now), "update_time": now,
            "sales_regions": [shop.region], "audit_at": now + self.sb.audit_seconds,
        }
        shop.products[pid] = product
        return {"product_id": pid, "skus": [{"id": s["id"], "seller_sku": s["seller_sku"],
                                             "external_sku_id": s["external_sku_id"],
                                             "sales_attributes": [{"id": a["id"], "value_id": a["value_id"]}
                                                                  for a in s["sales_attributes"]]}
                                            for s in skus],
                "warnings": self._warnings(body)}

    def _warnings(self, body: dict[str, Any]) -> list[dict[str, str]]:
        brand = body.get("brand_id")
        if brand and brand not in {b["id"] for b in seed.BRANDS}:
            body.pop("brand_id", None)
            return [{"message": f"The [brand_id]:{brand} field is incorrect and has been automatically cleared."}]
        return []

    def create_product(self, ctx: Ctx) -> dict[str, Any]:
        shop, body = _shop(ctx), ctx.body
        key = body.get("idempotency_key")
        if key and key in shop.idempotency:
            p = shop.products[shop.idempotency[key]]
            return {"product_id": p["id"], "skus": [{"id": s["id"], "seller_sku": s["seller_sku"],
                                                     "external_sku_id": s["external_sku_id"]} for s in p["skus"]],
                    "warnings": []}
        self._validate(shop, body, None)
        pid = self.world.new_id()
        answer = self._store(shop, pid, body, None)
        if key:
            shop.idempotency[key] = pid
        return answer

    def edit_product(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        old = _product(shop, ctx.params["product_id"])
        if old["status"] not in EDITABLE:
            raise ApiError(12019109, f"A product in status {old['status']} cannot be edited.")
        self._validate(shop, ctx.body, old)
        return self._store(shop, old["id"], ctx.body, old)

    def _audited(self, shop: Shop, p: dict[str, Any]) -> dict[str, Any]:
        if p["status"] == "PENDING" and self.world.now() >= p.get("audit_at", 0):
            reasons = self.world.audit_failures.pop(p["id"], None)
            p["status"] = "FAILED" if reasons else "ACTIVATE"
            p["audit"] = {"status": "FAILED" if reasons else "APPROVED"}
            if reasons:
                p["audit_failed_reasons"] = [{"position": "product", "reasons": reasons,
                                              "suggestions": ["Edit the product and submit it again."]}]
            p["update_time"] = self.world.now()
            self.sb.notify(shop, "PRODUCT_STATUS_CHANGE", {
                "product_id": int(p["id"]), "status": "PRODUCT_AUDIT_FAILURE" if reasons else "PRODUCT_FIRST_PASS_REVIEW",
                "suspended_reason": "", "update_time": p["update_time"]})
        return p

    def get_product(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        p = self._audited(shop, _product(shop, ctx.params["product_id"]))
        return {k: v for k, v in p.items() if k != "audit_at"}

    def search_products(self, ctx: Ctx) -> dict[str, Any]:
        shop, body = _shop(ctx), ctx.body
        status = body.get("status") or "ALL"
        skus = set(body.get("seller_skus") or [])
        sku_ids = set(body.get("sku_ids") or [])
        if len(skus) > 10 or len(sku_ids) > 10:
            raise ApiError(11050001, "At most 10 seller_skus or sku_ids.")
        if skus or sku_ids:
            pids = {shop.sku_index[s][0] for s in skus if s in shop.sku_index}
            pids |= {p["id"] for p in shop.products.values() if any(s["id"] in sku_ids for s in p["skus"])}
            candidates = [shop.products[p] for p in sorted(pids)]
        else:
            candidates = list(shop.products.values())
        ge, le = body.get("update_time_ge"), body.get("update_time_le")
        found = [p for p in candidates
                 if (status == "ALL" and p["status"] != "DELETED" or p["status"] == status)
                 and (ge is None or p["update_time"] >= int(ge)) and (le is None or p["update_time"] <= int(le))]
        if len(found) > 10000:
            raise ApiError(12052180, "The search matches more than 10,000 products: narrow it.")
        items, nxt = page(found, ctx)
        return {"products": [{
            "id": p["id"], "title": p["title"], "status": self._audited(shop, p)["status"],
            "sales_regions": p["sales_regions"], "create_time": p["create_time"], "update_time": p["update_time"],
            "skus": [{"id": s["id"], "seller_sku": s["seller_sku"], "price": s["price"],
                      "inventory": s["inventory"]} for s in p["skus"]]} for p in items],
            "next_page_token": nxt, "total_count": len(found)}

    def set_status(self, ctx: Ctx, frm: set[str], to: str) -> dict[str, Any]:
        shop = _shop(ctx)
        ids = [str(i) for i in ctx.body.get("product_ids") or []]
        if not ids or len(ids) > 20:
            raise ApiError(11050001, "product_ids needs 1-20 ids.")
        errors = []
        for pid in ids:
            p = shop.products.get(pid)
            if p is None or p["status"] == "DELETED":
                errors.append({"code": 12019150, "message": "Product does not exist.", "detail": {"product_id": pid}})
            elif p["status"] == to:
                continue
            elif p["status"] not in frm:
                errors.append({"code": 12019109, "message": f"Product in status {p['status']} cannot change.",
                               "detail": {"product_id": pid}})
            else:
                p["status"], p["update_time"] = to, self.world.now()
        return {"errors": errors} if errors else {}

    def deactivate(self, ctx: Ctx) -> dict[str, Any]:
        return self.set_status(ctx, {"ACTIVATE", "PENDING", "FAILED", "DRAFT"}, "SELLER_DEACTIVATED")

    def activate(self, ctx: Ctx) -> dict[str, Any]:
        return self.set_status(ctx, {"SELLER_DEACTIVATED"}, "PENDING")

    # ------------------------------------------------------------------ inventory

    def update_inventory(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        p = _product(shop, ctx.params["product_id"])
        if p["status"] not in EDITABLE:
            raise ApiError(12052037, f"Couldn't update inventory of a {p['status']} product.")
        by_id = {s["id"]: s for s in p["skus"]}
        errors = []
        for item in ctx.body.get("skus") or []:
            sid = str(item.get("id") or "")
            if not sid:
                raise ApiError(12052036, "SKU id is required.")
            sku = by_id.get(sid)
            if sku is None:
                errors.append({"code": 12052036, "message": f"SKU {sid} does not belong to product {p['id']}.",
                               "detail": {"sku_id": sid}})
                continue
            assigned = {i["warehouse_id"] for i in sku["inventory"]}
            given = {str(i.get("warehouse_id") or "") for i in item.get("inventory") or []}
            if given - assigned or (len(assigned) > 1 and given != assigned):
                errors.append({"code": 12019028, "message": "Multiple warehouses detected: list every warehouse of the SKU.",
                               "detail": {"sku_id": sid}})
                continue
            bad = [i for i in item["inventory"] if not 0 <= int(i.get("quantity", -1)) <= 99999]
            if bad:
                errors.append({"code": 12019024, "message": "Stock count is invalid (0-99,999).",
                               "detail": {"sku_id": sid}})
                continue
            for i in item["inventory"]:
                for cur in sku["inventory"]:
                    if cur["warehouse_id"] == i["warehouse_id"]:
                        cur["quantity"] = int(i["quantity"])
        return {"errors": errors} if errors else {}

    def search_inventory(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        pids, sids = ctx.body.get("product_ids") or [], set(ctx.body.get("sku_ids") or [])
        if len(pids) > 100 or len(sids) > 600:
            raise ApiError(11050001, "At most 100 product_ids or 600 sku_ids.")
        out = []
        for p in shop.products.values():
            if p["status"] == "DELETED" or (pids and p["id"] not in pids):
                continue
            skus = [s for s in p["skus"] if not sids or s["id"] in sids]
            if skus:
                out.append({"product_id": p["id"], "skus": [{
                    "id": s["id"], "seller_sku": s["seller_sku"],
                    "total_available_quantity": sum(i["quantity"] for i in s["inventory"]),
                    "total_committed_quantity": 0,
                    "warehouse_inventory": [{"warehouse_id": i["warehouse_id"], "available_quantity": i["quantity"],
                                             "committed_quantity": 0} for i in s["inventory"]]} for s in skus]})
        return {"inventory": out}
