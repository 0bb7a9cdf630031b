"""Sandbox handlers of the product API: categories, attributes, rules, brands, recommend,
images, products (create, edit, search, get, deactivate/activate), inventory, prerequisites."""

from __future__ import annotations

import base64
import secrets
from typing import TYPE_CHECKING, Any

from bridge_tiktokshop.sandbox import listing, seed
from bridge_tiktokshop.sandbox.gate import Ctx
from bridge_tiktokshop.sandbox.state import ApiError, Shop

if TYPE_CHECKING:
    from bridge_tiktokshop.sandbox import TikTokSandbox

EDITABLE = listing.EDITABLE


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
        return listing.leaf(cid)

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

    def create_product(self, ctx: Ctx) -> dict[str, Any]:
        shop, body = _shop(ctx), ctx.body
        key = body.get("idempotency_key")
        if key and key in shop.idempotency:
            p = shop.products[shop.idempotency[key]]
            return {"product_id": p["id"], "skus": [{"id": s["id"], "seller_sku": s["seller_sku"],
                                                     "external_sku_id": s["external_sku_id"]} for s in p["skus"]],
                    "warnings": []}
        out = listing.create(self.sb, shop, body)
        if key:
            shop.idempotency[key] = out["product_id"]
        return out

    def edit_product(self, ctx: Ctx) -> dict[str, Any]:
        """Full edit (PUT): every field overwritten, SKUs left out deleted."""
        shop = _shop(ctx)
        p = listing.audited(self.sb, shop, _product(shop, ctx.params["product_id"]))
        return listing.edit(self.sb, shop, p, ctx.body, partial=False)

    def partial_edit(self, ctx: Ctx) -> dict[str, Any]:
        """Partial edit: only the top-level properties sent change."""
        shop = _shop(ctx)
        p = listing.audited(self.sb, shop, _product(shop, ctx.params["product_id"]))
        return listing.edit(self.sb, shop, p, ctx.body, partial=True)

    def update_prices(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        return listing.update_prices(self.sb, shop, _product(shop, ctx.params["product_id"]), ctx.body)

    def listing_check(self, ctx: Ctx) -> dict[str, Any]:
        return listing.check(self.sb, _shop(ctx), ctx.body)

    def get_product(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        p = listing.audited(self.sb, shop, _product(shop, ctx.params["product_id"]))
        self.sb.product_reads += 1
        return listing.public(p, review_version=ctx.query.get("return_under_review_version") == "true")

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
            "id": p["id"], "title": p["title"], "status": listing.audited(self.sb, shop, p)["status"],
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
                continue
            listing.audited(self.sb, shop, p)
            if p["status"] == to or (to == "PENDING" and p["status"] == "ACTIVATE"):
                continue
            if p["status"] not in frm:
                errors.append({"code": listing.NOT_EDITABLE_CODE,
                               "message": f"Product in status {p['status']} cannot change.",
                               "detail": {"product_id": pid}})
                continue
            p["status"], p["update_time"] = to, self.world.now()
            if to == "PENDING":  # activation goes through review again (reference §5.12)
                self.sb.activations += 1
                listing.start_review(self.sb, p, None)
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
