"""What the sandbox starts with: sellers and shops, warehouses, delivery options, shipping
providers, a category tree with attributes and rules, brands."""

from __future__ import annotations

from typing import Any

APP_KEY = "sbx6a2k9t"
APP_SECRET = "sbx-secret-4f1c2e7a9d"
SERVICE_ID = "7000000000000000001"

#: seller id -> seller; each seller's token covers its shops.
SELLERS: list[dict[str, Any]] = [
    {"open_id": "7010736057180325001", "name": "Bridge Demo UK", "base_region": "GB",
     "shops": [{"id": "7000714532876273001", "name": "Bridge Demo UK", "region": "GB",
                "seller_type": "LOCAL", "cipher": "ROW_sbxGBcipherAAAAeVAQra0eZ", "code": "GBLCSBX001"}]},
    {"open_id": "7010736057180325002", "name": "Bridge Demo Cross-border", "base_region": "CN",
     "shops": [{"id": "7000714532876273002", "name": "Bridge Demo SG", "region": "SG",
                "seller_type": "CROSS_BORDER", "cipher": "GCP_sbxSGcipherAAAABh00qsW", "code": "CNSGCBSBX2"},
               {"id": "7000714532876273003", "name": "Bridge Demo MY", "region": "MY",
                "seller_type": "CROSS_BORDER", "cipher": "GCP_sbxMYcipherAAAABh00qsW", "code": "CNMYCBSBX3"}]},
]

CATEGORIES: list[dict[str, Any]] = [
    {"id": "601152", "parent_id": "600001", "local_name": "T-shirts", "is_leaf": True},
    {"id": "600001", "parent_id": "0", "local_name": "Womenswear & Underwear", "is_leaf": False},
    {"id": "601153", "parent_id": "600001", "local_name": "Blouses & Shirts", "is_leaf": True},
    {"id": "601154", "parent_id": "600001", "local_name": "Dresses", "is_leaf": True},
    {"id": "700001", "parent_id": "0", "local_name": "Home Supplies", "is_leaf": False},
    {"id": "700100", "parent_id": "700001", "local_name": "Home Organisers", "is_leaf": True},
    {"id": "800001", "parent_id": "0", "local_name": "Beauty & Personal Care", "is_leaf": False},
    {"id": "800100", "parent_id": "800001", "local_name": "Skincare", "is_leaf": True,
     "permission_statuses": ["INVITE_ONLY"]},
    {"id": "800200", "parent_id": "800001", "local_name": "Hand & Body Care", "is_leaf": True},
    {"id": "900001", "parent_id": "0", "local_name": "Phones & Electronics", "is_leaf": False},
    {"id": "900100", "parent_id": "900001", "local_name": "Phone Cases", "is_leaf": True},
]

_COLOUR = {"id": "100000", "name": "Colour", "type": "SALES_PROPERTY", "is_requried": False,
           "is_customizable": True, "is_multiple_selection": False,
           "values": [{"id": "1000001", "name": "Red"}, {"id": "1000002", "name": "Blue"},
                      {"id": "1000003", "name": "Black"}, {"id": "1000004", "name": "White"}]}
_SIZE = {"id": "100007", "name": "Size", "type": "SALES_PROPERTY", "is_requried": False,
         "is_customizable": True, "is_multiple_selection": False,
         "values": [{"id": f"10070{i}", "name": n} for i, n in enumerate(["XS", "S", "M", "L", "XL"])]}
_MATERIAL = {"id": "101001", "name": "Material", "type": "PRODUCT_PROPERTY", "is_requried": True,
             "is_customizable": True, "is_multiple_selection": False,
             "values": [{"id": "1010011", "name": "Cotton"}, {"id": "1010012", "name": "Polyester"},
                        {"id": "1010013", "name": "Linen"}]}
_OCCASION = {"id": "100392", "name": "Occasion", "type": "PRODUCT_PROPERTY", "is_requried": False,
             "is_customizable": True, "is_multiple_selection": True,
             "values": [{"id": "1001533", "name": "Birthday"}, {"id": "1001534", "name": "Casual"}]}
_SPF = {"id": "103001", "name": "Sun Protection", "type": "PRODUCT_PROPERTY", "is_requried": False,
        "is_customizable": False, "is_multiple_selection": False,
        "values": [{"id": "1030011", "name": "None"}, {"id": "1030012", "name": "SPF 30"}]}
_MODEL = {"id": "102003", "name": "Compatible Phone Models", "type": "PRODUCT_PROPERTY",
          "is_requried": True, "is_customizable": False, "is_multiple_selection": True,
          "values": [{"id": "1020031", "name": "iPhone 15"}, {"id": "1020032", "name": "Galaxy S24"}]}

ATTRIBUTES: dict[str, list[dict[str, Any]]] = {
    "601152": [_COLOUR, _SIZE, _MATERIAL, _OCCASION],
    "601153": [_COLOUR, _SIZE, _MATERIAL],
    "601154": [_COLOUR, _SIZE, _MATERIAL],
    "700100": [_COLOUR, _MATERIAL],
    "800100": [_OCCASION],
    "800200": [_SPF],
    "900100": [_COLOUR, _MODEL],
}

RULES: dict[str, dict[str, Any]] = {
    leaf: {"product_certifications": [], "size_chart": {"is_supported": leaf.startswith("60"),
                                                        "is_required": False},
           "cod": {"is_supported": False}, "package_dimension": {"is_required": True},
           "epr": {"is_required": False}}
    for leaf in ATTRIBUTES
}
RULES["800100"]["product_certifications"] = [
    {"id": "602362", "name": "Cosmetic Product Safety Report", "is_required": True,
     "sample_image_url": "https://example.invalid/sample.png", "requirement_conditions": []}]
#: Dresses: a size chart is required (reference §5.2 size_chart.is_required).
RULES["601154"]["size_chart"] = {"is_supported": True, "is_required": True}
#: Hand & Body Care: a safety report always, a sunscreen test report when "SPF 30" is chosen.
RULES["800200"]["product_certifications"] = [
    {"id": "602362", "name": "Cosmetic Product Safety Report", "is_required": True,
     "sample_image_url": "https://example.invalid/sample.png", "requirement_conditions": []},
    {"id": "602363", "name": "SPF Test Report", "is_required": False,
     "sample_image_url": "https://example.invalid/sample.png",
     "requirement_conditions": [{"condition_type": "VALUE_ID_MATCH", "attribute_id": "103001",
                                 "attribute_value_id": "1030012"}]}]

RECOMMEND = [("dress", "601154"), ("lotion", "800200"), ("hand cream", "800200"), ("shirt", "601152"), ("tee", "601152"), ("top", "601152"), ("blouse", "601153"),
             ("case", "900100"), ("phone", "900100"), ("box", "700100"), ("organiser", "700100"),
             ("storage", "700100"), ("serum", "800100"), ("cream", "800100")]

BRANDS = [
    {"id": "7082427311584347905", "name": "Bridge Basics", "authorized_status": "AUTHORIZED",
     "brand_status": "AVAILABLE", "is_t1_brand": False},
    {"id": "7082427311584347906", "name": "Northwind", "authorized_status": "UNAUTHORIZED",
     "brand_status": "AVAILABLE", "is_t1_brand": False},
    {"id": "7082427311584347907", "name": "Globex", "authorized_status": "UNAUTHORIEZD",
     "brand_status": "AVAILABLE", "is_t1_brand": True},
]

PROVIDERS = {
    "GB": ["Royal Mail", "DPD", "Evri", "DHL Parcel UK", "Parcelforce Worldwide", "Yodel", "UPS"],
    "SG": ["Ninja Van", "J&T Express", "SingPost", "DHL eCommerce"],
    "MY": ["Ninja Van", "J&T Express", "Pos Laju", "DHL eCommerce"],
}

PREREQUISITE_ITEMS = ["SHOP_STATUS", "SHOP_TAX", "PICKUP_WAREHOUSE", "RETURN_WAREHOUSE",
                      "DELIVERY_OPTION", "SHIPPING_TEMPLATE", "PRODUCT_QUANTITY_LIMIT", "CONTACT_INFO"]

COLOURS = ["Red", "Blue", "Black", "White"]
SIZES = ["XS", "S", "M", "L", "XL"]
