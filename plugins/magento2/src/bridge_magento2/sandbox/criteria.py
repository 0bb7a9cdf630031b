"""searchCriteria as Magento's REST deserializer reads it, and the answer envelope.

Both spellings are accepted (``filter_groups``/``filterGroups``, ``condition_type``/
``conditionType``). Filters in a group are OR-ed, groups AND-ed. Without ``pageSize`` every row
comes back; a ``currentPage`` past the end answers the **last page again**, as Magento does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

_FILTER = re.compile(r"^searchCriteria\[(?:filter_groups|filterGroups)\]\[(\d+)\]\[filters\]\[(\d+)\]"
                     r"\[(field|value|condition_type|conditionType)\]$")
_SORT = re.compile(r"^searchCriteria\[(?:sortOrders|sort_orders)\]\[(\d+)\]\[(field|direction)\]$")


class SearchError(ValueError):
    """A search Magento would refuse with 400."""


def parse(params: Iterable[tuple[str, str]]) -> dict[str, Any]:
    groups: dict[int, dict[int, dict[str, str]]] = {}
    sorts: dict[int, dict[str, str]] = {}
    size = page = None
    for key, value in params:
        if m := _FILTER.match(key):
            part = "condition_type" if m[3] == "conditionType" else m[3]
            groups.setdefault(int(m[1]), {}).setdefault(int(m[2]), {})[part] = value
        elif m := _SORT.match(key):
            sorts.setdefault(int(m[1]), {})[m[2]] = value
        elif key == "searchCriteria[pageSize]":
            size = int(value) if value.isdigit() else None
        elif key == "searchCriteria[currentPage]":
            page = int(value) if value.isdigit() else 1
    filter_groups = [[{"field": f.get("field", ""), "value": f.get("value", ""),
                       "condition_type": f.get("condition_type") or "eq"}
                      for _, f in sorted(g.items())] for _, g in sorted(groups.items())]
    for group in filter_groups:
        for f in group:
            if not f["field"]:
                raise SearchError('"field" is required. Enter and try again.')
    sort_orders = [{"field": s.get("field", ""), "direction": (s.get("direction") or "DESC").upper()}
                   for _, s in sorted(sorts.items())]
    return {"filter_groups": [{"filters": g} for g in filter_groups], "sort_orders": sort_orders,
            "page_size": size, "current_page": page or 1}


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _cmp(a: Any, b: str) -> int:
    x, y = _num(a), _num(b)
    if x is not None and y is not None:
        return (x > y) - (x < y)
    sa = str(a)
    return (sa > b) - (sa < b)


def _same(value: Any, want: str) -> bool:
    """Equal as MySQL compares a column with the bound string: as text, or as exact numbers
    (never through floats, which make 19-digit ids such as TikTok's order ids collide)."""
    if str(value) == want:
        return True
    try:
        return Decimal(str(value)) == Decimal(want)
    except (InvalidOperation, ValueError):
        return False


def predicate(flt: dict[str, str], fields: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    """One filter as a test of a row (built once per search, not per row)."""
    name = fields.get(flt["field"], flt["field"])
    cond, want = flt["condition_type"], flt["value"]
    if cond == "null":
        return lambda r: r.get(name) in (None, "")
    if cond == "notnull":
        return lambda r: r.get(name) not in (None, "")
    if cond in ("in", "nin"):
        strings = {v.strip() for v in want.split(",")}
        numbers = {n for n in (_num(v) for v in strings) if n is not None}
        positive = cond == "in"

        def member(r: dict[str, Any]) -> bool:
            value = r.get(name)
            if value is None:
                return not positive
            hit = str(value) in strings or (_num(value) in numbers if numbers else False)
            return hit == positive
        return member
    if cond in ("like", "nlike"):
        pattern = re.compile("^" + ".*".join(re.escape(p) for p in want.split("%")) + "$", re.I)
        like = cond == "like"
        return lambda r: r.get(name) is not None and (pattern.match(str(r.get(name))) is not None) == like
    if cond == "finset":
        return lambda r: want in str(r.get(name) or "").split(",")
    ops: dict[str, Callable[[int], bool]] = {
        "eq": lambda c: c == 0, "neq": lambda c: c != 0, "gt": lambda c: c > 0, "gteq": lambda c: c >= 0,
        "moreq": lambda c: c >= 0, "from": lambda c: c >= 0, "lt": lambda c: c < 0, "lteq": lambda c: c <= 0,
        "to": lambda c: c <= 0}
    if cond not in ops:
        raise SearchError(f'Invalid condition type: "{cond}"')
    test = ops[cond]
    if cond == "eq":
        return lambda r: r.get(name) is not None and _same(r.get(name), want)
    return lambda r: (cond == "neq") if r.get(name) is None else test(_cmp(r.get(name), want))


def search(rows: Iterable[dict[str, Any]], criteria: dict[str, Any], *, fields: dict[str, str] | None = None,
           index: dict[int, dict[str, Any]] | None = None, key: str = "entity_id") -> dict[str, Any]:
    """Filter, sort and page ``rows``; ``index`` (id -> row) speeds up ``key in (...)`` filters."""
    fields = fields or {}
    groups = [g["filters"] for g in criteria["filter_groups"]]
    candidates: Iterable[dict[str, Any]] = rows
    if index is not None:
        for group in groups:
            if len(group) == 1 and group[0]["field"] == key and group[0]["condition_type"] in ("eq", "in"):
                ids = [int(v) for v in group[0]["value"].split(",") if v.strip().isdigit()]
                candidates = [index[i] for i in sorted(set(ids)) if i in index]
                break
    tests = [[predicate(f, fields) for f in g] for g in groups]
    if all(len(g) == 1 for g in tests):
        flat = [g[0] for g in tests]
        hits = [r for r in candidates if all(t(r) for t in flat)]
    else:
        hits = [r for r in candidates if all(any(t(r) for t in g) for g in tests)]
    for order in reversed(criteria["sort_orders"]):
        name = fields.get(order["field"], order["field"])
        hits.sort(key=lambda r, n=name: (_num(r.get(n)) is None, _num(r.get(n)) or 0, str(r.get(n) or "")),
                  reverse=order["direction"] == "DESC")
    total = len(hits)
    size = criteria["page_size"]
    if size:
        last = max(1, math.ceil(total / size))
        page = min(max(1, criteria["current_page"]), last)  # Magento repeats the last page
        hits = hits[(page - 1) * size: page * size]
    echo = {"filter_groups": criteria["filter_groups"]}
    if criteria["sort_orders"]:
        echo["sort_orders"] = criteria["sort_orders"]
    if size:
        echo["page_size"] = size
    echo["current_page"] = criteria["current_page"]
    return {"items": hits, "search_criteria": echo, "total_count": total}
