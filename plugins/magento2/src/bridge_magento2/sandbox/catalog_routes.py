"""Sandbox routes of the store configuration, the catalog and inventory (legacy and MSI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from bridge_magento2.sandbox.app import REST, NotFound
from bridge_magento2.sandbox.criteria import parse, search

if TYPE_CHECKING:  # pragma: no cover
    from bridge_magento2.sandbox import MagentoSandbox

NO_PRODUCT = "The product that was requested doesn't exist. Verify the product and try again."
VIEWS = [{"id": 0, "code": "admin", "name": "Admin", "website_id": 0, "store_group_id": 0, "is_active": 1},
         {"id": 1, "code": "default", "name": "Default Store View", "website_id": 1, "store_group_id": 1,
          "is_active": 1}]
GROUPS = [{"id": 0, "website_id": 0, "root_category_id": 0, "default_store_id": 0, "name": "Default",
           "code": "default"},
          {"id": 1, "website_id": 1, "root_category_id": 2, "default_store_id": 1, "name": "Main Website Store",
           "code": "main_website_store"}]
WEBSITES = [{"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0},
            {"id": 1, "code": "base", "name": "Main Website", "default_group_id": 1}]


def routes(sb: MagentoSandbox) -> list[tuple[str, str, Any, bool]]:
    st = sb.state

    def criteria(request: Request) -> dict[str, Any]:
        return parse(request.query_params.multi_items())

    async def store_configs(request: Request) -> Any:
        codes = request.query_params.getlist("storeCodes[]")
        base = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}/"
        return [st.store_config(base)] if not codes or "default" in codes else []

    async def store_views(request: Request) -> Any:
        return VIEWS

    async def store_groups(request: Request) -> Any:
        return GROUPS

    async def websites(request: Request) -> Any:
        return WEBSITES

    def product_or_404(sku: str) -> dict[str, Any]:
        pid = st.by_sku.get(sku)
        if pid is None:
            raise NotFound(NO_PRODUCT)
        return st.products[pid]

    async def products(request: Request) -> Any:
        with st.lock:
            return search(st.products.values(), criteria(request), fields={"entity_id": "id"},
                          index=st.products, key="entity_id")

    async def product(request: Request) -> Any:
        row = product_or_404(request.path_params["sku"])
        item = st.stock_item(row["sku"])
        ext = {**row["extension_attributes"], **({"stock_item": item} if row["type_id"] != "configurable" else {})}
        return {**row, "extension_attributes": ext}

    async def children(request: Request) -> Any:
        row = product_or_404(request.path_params["sku"])
        links = row["extension_attributes"].get("configurable_product_links") or []
        return [st.products[i] for i in links if i in st.products]

    async def attributes(request: Request) -> Any:
        return search(st.attributes.values(), criteria(request), key="attribute_id")

    async def attribute_options(request: Request) -> Any:
        code = request.path_params["code"]
        attr = next((a for a in st.attributes.values() if a["attribute_code"] == code), None)
        if attr is None:
            raise NotFound('The attribute with a "%1" attributeCode doesn\'t exist. Verify the attribute and '
                           "try again.", [code])
        return attr["options"]

    async def stock_item(request: Request) -> Any:
        sku = request.path_params["sku"]
        item = st.stock_item(sku)
        if item is None:
            raise NotFound('The Product with the "%1" SKU doesn\'t exist.', [sku])
        return item

    out: list[tuple[str, str, Any, bool]] = [
        ("GET", REST + "store/storeConfigs", store_configs, True),
        ("GET", REST + "store/storeViews", store_views, True),
        ("GET", REST + "store/storeGroups", store_groups, True),
        ("GET", REST + "store/websites", websites, True),
        ("GET", REST + "products", products, True),
        ("GET", REST + "products/attributes", attributes, True),
        ("GET", REST + "products/attributes/{code}/options", attribute_options, True),
        ("GET", REST + "configurable-products/{sku}/children", children, True),
        ("GET", REST + "stockItems/{sku}", stock_item, True),
        ("GET", REST + "products/{sku:path}", product, True),
    ]
    return out + msi_routes(sb)


def msi_routes(sb: MagentoSandbox) -> list[tuple[str, str, Any, bool]]:
    """``/V1/inventory/*``: present only when Multi-Source Inventory is on (else Magento has
    no such route)."""
    st = sb.state

    def need_msi() -> None:
        if not st.msi:
            raise NotFound("Request does not match any route.")
    source = {"source_code": "default", "name": "Default Source", "enabled": True, "country_id": "GB",
              "postcode": "SW1A 1AA"}

    async def sources(request: Request) -> Any:
        need_msi()
        return search([source], parse(request.query_params.multi_items()), key="source_code")

    async def stock_resolver(request: Request) -> Any:
        need_msi()
        if (request.path_params["type"], request.path_params["code"]) != ("website", "base"):
            raise NotFound("No linked stock found")
        return {"stock_id": 1}

    async def export(request: Request) -> Any:
        need_msi()
        if (request.path_params["type"], request.path_params["code"]) != ("website", "base"):
            raise NotFound("No linked stock found")
        with st.lock:
            rows = [{"sku": sku, "qty": float(st.salable(sku)), "is_salable": st.salable(sku) > 0}
                    for sku in st.quantity]
        return search(rows, parse(request.query_params.multi_items()), key="sku")

    async def salable(request: Request) -> Any:
        need_msi()
        sku = request.path_params["sku"]
        if sku not in st.by_sku:
            raise NotFound(NO_PRODUCT)
        return float(st.salable(sku))

    return [
        ("GET", REST + "inventory/sources", sources, True),
        ("GET", REST + "inventory/stock-resolver/{type}/{code}", stock_resolver, True),
        ("GET", REST + "inventory/export-stock-salable-qty/{type}/{code}", export, True),
        ("GET", REST + "inventory/get-product-salable-quantity/{sku}/{stock_id}", salable, True),
    ]
