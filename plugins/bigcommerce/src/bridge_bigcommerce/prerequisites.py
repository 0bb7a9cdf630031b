"""What must hold on the BigCommerce store before bridge's flows run (read-only checks)."""

from __future__ import annotations

from bridge.connection import Connection
from bridge.errors import BridgeError, Misconfigured
from bridge.models import Prerequisite
from bridge_bigcommerce.client import BigCommerceClient

SCOPES_FIX = ("In the control panel: Settings > Store-level API accounts, create an account with "
              "Products (read-only), Orders (modify), Information (read-only), Stock Locations "
              "(read-only) and Inventory (read-only) scopes, and connect again with its token.")


def _probe(client: BigCommerceClient, version: str, path: str, params: dict) -> tuple[bool, str, dict]:
    try:
        return True, "", client.call("GET", version, path, params=params) or {}
    except Misconfigured as exc:
        return False, str(exc), {}
    except BridgeError as exc:
        return False, str(exc), {}


def check(connection: Connection) -> list[Prerequisite]:
    client = BigCommerceClient(connection)
    out: list[Prerequisite] = []
    ok, detail, store = _probe(client, "v2", "store", {})
    live = ok and store.get("status") in (None, "live")
    out.append(Prerequisite(
        key="store_live", title="The store is live", ok=live,
        detail=detail or ("" if live else f"status is '{store.get('status')}'"),
        fix="Launch the store (Settings > General) or end its maintenance mode.", blocking=False))
    ok, detail, _ = _probe(client, "v3", "catalog/products", {"limit": 1, "include_fields": "id"})
    out.append(Prerequisite(key="scope_products", title="bridge may read the catalog", ok=ok,
                            detail=detail, fix=SCOPES_FIX, flows=["products", "inventory"]))
    ok, detail, _ = _probe(client, "v2", "orders", {"limit": 1})
    out.append(Prerequisite(key="scope_orders", title="bridge may create and read orders", ok=ok,
                            detail=detail, fix=SCOPES_FIX, flows=["orders", "tracking"]))
    chosen = connection.setting("location_id")
    params = {"location_id:in": chosen} if chosen else {"is_default": "true"}
    ok, detail, body = _probe(client, "v3", "inventory/locations", params)
    locations = body.get("data") or []
    enabled = [loc for loc in locations if loc.get("enabled", True)]
    title = f"Inventory location {chosen}" if chosen else "The default inventory location"
    out.append(Prerequisite(
        key="inventory_location", title=f"{title} can be read", ok=bool(ok and enabled),
        detail=detail or ("" if enabled else "no such enabled location"),
        fix="Choose an enabled location id (Settings > Locations) or give the token the Stock "
            "Locations and Inventory scopes; until then stock is read from the catalog "
            "(default location).",
        blocking=bool(chosen), flows=["inventory"]))
    return out
