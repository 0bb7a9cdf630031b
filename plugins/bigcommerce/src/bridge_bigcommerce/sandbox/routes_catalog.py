"""Sandbox routes of the catalog (v3 products, variants, images) and the Inventory API (items,
locations), with BigCommerce's filters, ``include``/``include_fields`` and ``meta.pagination``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bridge.sandboxing.images import make_png
from bridge_bigcommerce.sandbox.gate import ApiError
from bridge_bigcommerce.sandbox.state import DEFAULT_LOCATION, StoreState

MAX_LIMIT = 250
ITEMS_MAX_LIMIT = 1000


def _ints(value: str | None) -> set[int] | None:
    if value is None:
        return None
    try:
        return {int(x) for x in value.split(",") if x.strip()}
    except ValueError as exc:
        raise ApiError(422, "Invalid id list", {"id:in": "must be integers"}) from exc


def _date(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(422, "Invalid date", {"date_modified": value}) from exc


def paginate(items: list, request: Request, max_limit: int = MAX_LIMIT,
             default_limit: int = 50) -> tuple[list, dict]:
    """A page of ``items`` and its ``meta`` (``pagination`` with links, as BigCommerce)."""
    q = request.query_params
    try:
        page = max(1, int(q.get("page", 1)))
        limit = max(1, min(max_limit, int(q.get("limit", default_limit))))
    except ValueError as exc:
        raise ApiError(422, "page and limit must be integers") from exc
    total = len(items)
    pages = max(1, -(-total // limit))
    chunk = items[(page - 1) * limit: page * limit]
    links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    return chunk, {"pagination": {"total": total, "count": len(chunk), "per_page": limit,
                                  "current_page": page, "total_pages": pages, "links": links}}


class CatalogRoutes:
    """Handlers bound to one :class:`StoreState`."""

    def __init__(self, state: StoreState) -> None:
        self.st = state

    # ------------------------------------------------------------------ rendering

    def variant_json(self, v: dict, p: dict) -> dict[str, Any]:
        out = dict(v)
        price = v["price"] if v["price"] is not None else p["price"]
        sale = v["sale_price"] if v["sale_price"] is not None else p["sale_price"]
        out["calculated_price"] = sale if sale else price
        out["calculated_weight"] = v["weight"] if v["weight"] is not None else p["weight"]
        out["inventory_level"] = self.st.onhand(v)
        return out

    def image_json(self, img: dict, base: str) -> dict[str, Any]:
        stem = img["file"].removesuffix(".png")
        out = {k: v for k, v in img.items() if k != "file"}
        out.update(image_file=img["file"], url_zoom=f"{base}/product_images/800x800/{stem}.png",
                   url_standard=f"{base}/product_images/500x500/{stem}.png",
                   url_thumbnail=f"{base}/product_images/220x220/{stem}.png",
                   url_tiny=f"{base}/product_images/44x44/{stem}.png")
        return out

    def product_json(self, p: dict, include: set[str], fields: set[str] | None,
                     base: str) -> dict[str, Any]:
        pid = p["id"]
        full = dict(p, inventory_level=self.st.product_level(pid),
                    calculated_price=p["sale_price"] or p["price"])
        out = full if fields is None else {k: full[k] for k in ("id", *fields) if k in full}
        if "variants" in include:
            out["variants"] = [self.variant_json(v, p) for v in self.st.variants[pid]]
        if "images" in include:
            out["images"] = [self.image_json(i, base) for i in self.st.images[pid]]
        if "primary_image" in include and self.st.images[pid]:
            out["primary_image"] = self.image_json(self.st.images[pid][0], base)
        return out

    # ------------------------------------------------------------------ products

    def products(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        ids, greater = _ints(q.get("id:in")), q.get("id:greater")
        dmin, dmax = q.get("date_modified:min"), q.get("date_modified:max")
        with self.st.lock:
            rows = list(self.st.products.values())
            if q.get("id"):
                rows = [p for p in rows if p["id"] == int(q["id"])]
            if ids is not None:
                rows = [p for p in rows if p["id"] in ids]
            if greater:
                rows = [p for p in rows if p["id"] > int(greater)]
            if dmin:
                lo = _date(dmin)
                rows = [p for p in rows if datetime.fromisoformat(p["date_modified"]) >= lo]
            if dmax:
                hi = _date(dmax)
                rows = [p for p in rows if datetime.fromisoformat(p["date_modified"]) <= hi]
            if q.get("is_visible") is not None:
                visible = q["is_visible"] in ("1", "true", "True")
                rows = [p for p in rows if p["is_visible"] == visible]
            if q.get("sku"):
                rows = [p for p in rows if p["sku"] == q["sku"]]
            sort = q.get("sort", "id")
            if sort not in ("id", "name", "sku", "price", "date_modified", "inventory_level"):
                raise ApiError(422, "Invalid sort field", {"sort": sort})
            key = (lambda p: self.st.product_level(p["id"])) if sort == "inventory_level" else (
                lambda p: (p[sort], p["id"]))
            rows.sort(key=key, reverse=q.get("direction") == "desc")
            include = set((q.get("include") or "").split(","))
            limit = 10 if include & {"options", "modifiers"} else MAX_LIMIT
            page, meta = paginate(rows, request, max_limit=limit)
            fields = set(q["include_fields"].split(",")) if q.get("include_fields") else None
            base = str(request.base_url).rstrip("/")
            data = [self.product_json(p, include, fields, base) for p in page]
        return {"data": data, "meta": meta}

    def product(self, request: Request) -> dict[str, Any]:
        pid = int(request.path_params["product_id"])
        with self.st.lock:
            p = self.st.products.get(pid)
            if p is None:
                raise ApiError(404, "The requested product was not found")
            include = set((request.query_params.get("include") or "").split(","))
            return {"data": self.product_json(p, include, None, str(request.base_url).rstrip("/")),
                    "meta": {}}

    def product_variants(self, request: Request) -> dict[str, Any]:
        pid = int(request.path_params["product_id"])
        with self.st.lock:
            p = self.st.products.get(pid)
            if p is None:
                raise ApiError(404, "The requested product was not found")
            page, meta = paginate([self.variant_json(v, p) for v in self.st.variants[pid]], request)
        return {"data": page, "meta": meta}

    def variants(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        pids = _ints(q.get("product_id:in"))
        with self.st.lock:
            rows = [v for v in self.st.variant_index.values()
                    if (not q.get("id") or v["id"] == int(q["id"]))
                    and (not q.get("sku") or v["sku"] == q["sku"])
                    and (pids is None or v["product_id"] in pids)]
            page, meta = paginate(rows, request)
            data = [self.variant_json(v, self.st.products[v["product_id"]]) for v in page]
        return {"data": data, "meta": meta}

    def image(self, request: Request) -> Response:
        w, h = int(request.path_params["w"]), int(request.path_params["h"])
        seed = sum(request.path_params["name"].encode()) % 200
        return Response(make_png(min(w, 1280), min(h, 1280), (seed, 90, 200 - seed)),
                        media_type="image/png")

    # ------------------------------------------------------------------ inventory

    def locations(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        ids = _ints(q.get("location_id:in"))
        rows = [loc for loc in self.st.locations
                if (ids is None or loc["id"] in ids)
                and (q.get("is_default") is None or (loc["id"] == DEFAULT_LOCATION) == (q["is_default"] == "true"))
                and (q.get("is_active") is None or loc["enabled"] == (q["is_active"] == "true"))]
        page, meta = paginate(rows, request)
        return {"data": page, "meta": meta}

    def items(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        vids, pids = _ints(q.get("variant_id:in")), _ints(q.get("product_id:in"))
        locs = _ints(q.get("location_id:in")) or {loc["id"] for loc in self.st.locations}
        skus = set(q["sku:in"].split(",")) if q.get("sku:in") else None
        with self.st.lock:
            if vids is not None:
                rows = [self.st.variant_index[v] for v in sorted(vids) if v in self.st.variant_index]
            elif pids is not None:
                rows = [v for p in sorted(pids) for v in self.st.variants.get(p, [])]
            else:
                rows = list(self.st.variant_index.values())
            if pids is not None:
                rows = [v for v in rows if v["product_id"] in pids]
            if skus is not None:
                rows = [v for v in rows if v["sku"] in skus]
            page, meta = paginate(rows, request, max_limit=ITEMS_MAX_LIMIT)
            data = [self._item(v, locs) for v in page]
        return {"data": data, "meta": meta}

    def _item(self, v: dict, locs: set[int]) -> dict[str, Any]:
        out = []
        for loc in self.st.locations:
            if loc["id"] not in locs:
                continue
            key = self.st.stock_key(v, loc["id"])
            onhand, safety = self.st.stock.get(key, 0), self.st.safety.get(key, 0)
            out.append({"location_id": loc["id"], "location_code": loc["code"],
                        "location_name": loc["label"], "available_to_sell": onhand - safety,
                        "total_inventory_onhand": onhand, "location_enabled": loc["enabled"],
                        "settings": {"safety_stock": safety, "is_in_stock": onhand - safety > 0,
                                     "warning_level": 0, "bin_picking_number": ""}})
        return {"identity": {"sku": v["sku"], "variant_id": v["id"], "product_id": v["product_id"],
                             "sku_id": v["sku_id"]}, "locations": out}
