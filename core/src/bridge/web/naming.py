"""What the pages call things: the names a merchant knows instead of platform ids (a store
order's ``#1022``, never a bare ``gid://…``), and run counts that say what they count
(``19 of 19 products created``). Registered as Jinja filters by :mod:`bridge.web.base`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: A platform's global id (Shopify's ``gid://shopify/Order/1022``).
GID = re.compile(r"gid://[\w.-]+/(\w+)/([\w.-]+)(?:\?[\w=&.-]*)?")

#: What each flow's run counts, (one, many).
NOUNS: dict[str, tuple[str, str]] = {
    "products": ("product", "products"),
    "listings": ("listing", "listings"),
    "inventory": ("SKU", "SKUs"),
    "orders": ("order", "orders"),
    "tracking": ("tracking number", "tracking numbers"),
    "refunds": ("return or cancellation", "returns and cancellations"),
}
#: Outcomes in the order a summary names them (others follow, alphabetically).
OUTCOMES = ("created", "updated", "linked", "pushed", "refunded", "cancelled", "recorded", "activated",
            "deactivated", "prices", "unchanged", "unconfirmed", "skipped", "held", "price_locked", "failed")


def _words(kind: str) -> str:
    """``ProductVariant`` -> ``product variant``."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", kind).lower()


def plain(text: Any, names: Mapping[str, str] | None = None) -> str:
    """``text`` with every platform global id replaced by the name the merchant knows
    (``names``: id -> name, e.g. store order ids -> ``#1022``), else by its kind and number
    (``order 1022``)."""
    if text is None:
        return ""
    known = names or {}
    return GID.sub(lambda m: known.get(m.group(0)) or f"{_words(m.group(1))} {m.group(2)}", str(text))


def order_name(number: str | None, remote_id: str | None) -> str:
    """A store order as its merchant knows it: its name (``#1022``), else its id made plain."""
    if number:
        return number
    return plain(remote_id) if remote_id else "—"


def order_names(link: Any) -> dict[str, str]:
    """The names a merchant knows for the ids an order link's messages and returns carry: the
    store order's id -> its number, the store's variant ids -> their SKUs (as the orders flow
    kept the store's lines)."""
    names: dict[str, str] = {}
    for ln in ((link.data or {}).get("store") or {}).get("lines") or []:
        if ln.get("variant_id") and ln.get("sku"):
            names[str(ln["variant_id"])] = str(ln["sku"])
    if link.ecommerce_order_id and link.ecommerce_order_number:
        names[link.ecommerce_order_id] = link.ecommerce_order_number
    return names


def run_counts(flow: str, counts: Mapping[str, int] | None) -> str:
    """A run's outcome counts in words: ``19 of 19 products created``, ``1 of 3 orders created,
    1 held, 1 failed``; ``nothing to do`` when the run met no item. Plan counts (``plan.*``)
    repeat the outcomes and are left out."""
    outcomes = {k: int(v) for k, v in (counts or {}).items() if not k.startswith("plan.") and v}
    if not outcomes:
        return "nothing to do"
    total = sum(outcomes.values())
    one, many = NOUNS.get(flow, ("item", "items"))
    order = [k for k in OUTCOMES if k in outcomes] + sorted(k for k in outcomes if k not in OUTCOMES)
    first, rest = order[0], order[1:]
    words = [f"{outcomes[first]} of {total} {one if total == 1 else many} {_outcome(first)}"]
    words += [f"{outcomes[k]} {_outcome(k)}" for k in rest]
    return ", ".join(words)


def _outcome(key: str) -> str:
    return {"prices": "prices updated", "price_locked": "price locked"}.get(key, key.replace("_", " "))
