"""Shopify's search syntax (``query:`` arguments) and cursor pagination, as the sandbox serves them.

Search: terms ``field:value`` (``:>``, ``:>=``, ``:<``, ``:<=``; comma lists ``status:active,draft``;
quoted values ``'…'``/``"…"``), ``-field:value`` to negate, space = AND, ``OR`` between groups.
Pagination: ``first``/``after`` (``last``/``before``), ``reverse``; cursors are opaque base64 of
the sort key and id of an item, so a page boundary survives inserts and updates.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

TOKEN = re.compile(r"""(-?)([A-Za-z_]+):(>=|<=|>|<|=)?('(?:\\.|[^'])*'|"(?:\\.|[^"])*"|\S+)|(\S+)""")
Term = tuple[bool, str, str, str]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_query(query: str | None) -> list[list[Term]]:
    """``a:1 b:2 OR c:3`` → [[a, b], [c]] (groups joined by OR, terms in a group by AND)."""
    groups: list[list[Term]] = [[]]
    for m in TOKEN.finditer(query or ""):
        if m.group(5) is not None:
            if m.group(5) == "OR":
                groups.append([])
            elif m.group(5) != "AND":
                groups[-1].append((False, "default", ":", m.group(5)))
            continue
        groups[-1].append((m.group(1) == "-", m.group(2).lower(), m.group(3) or ":",
                           _unquote(m.group(4))))
    return [g for g in groups if g] or [[]]


def _as_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _compare(actual: Any, op: str, wanted: str) -> bool:
    if isinstance(actual, datetime):
        when = _as_time(wanted)
        if when is None:
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=actual.tzinfo)
        left, right = actual, when
    elif isinstance(actual, int | float):
        try:
            left, right = actual, float(wanted)
        except ValueError:
            return False
    elif isinstance(actual, list | tuple | set):
        values = {str(v).lower() for v in actual}
        return any(w.lower() in values for w in wanted.split(","))
    else:
        text = "" if actual is None else str(actual).lower()
        if op in (":", "="):
            return any(text == w.lower() for w in wanted.split(","))
        left, right = text, wanted.lower()
    if op in (":", "="):
        return left == right
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def matches(record: dict[str, Any], groups: list[list[Term]],
            fields: dict[str, Callable[[dict[str, Any]], Any]]) -> bool:
    """True when ``record`` satisfies the parsed query; unknown fields never match."""
    for group in groups:
        ok = True
        for negate, field, op, value in group:
            getter = fields.get(field)
            hit = getter is not None and _compare(getter(record), op, value)
            if hit == negate:
                ok = False
                break
        if ok:
            return True
    return False


def encode(key: Any, ident: int) -> str:
    if isinstance(key, datetime):
        key = key.isoformat()
    return base64.urlsafe_b64encode(json.dumps([key, ident]).encode()).decode()


def decode(cursor: str) -> tuple[Any, int] | None:
    try:
        key, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return key, int(ident)
    except (ValueError, TypeError):
        return None


def paginate(items: list[dict[str, Any]], args: dict[str, Any], sort: Callable[[dict], Any],
             view: Callable[[dict], dict]) -> dict[str, Any]:
    """A Connection object (nodes, edges, pageInfo) over ``items`` for the given arguments."""
    def norm(record: dict) -> tuple[str, int]:
        key = sort(record)
        return (key.isoformat() if isinstance(key, datetime) else key), record["_num"]

    ordered = sorted(items, key=norm, reverse=bool(args.get("reverse")))
    keyed = [(norm(r), r) for r in ordered]
    after, before = args.get("after"), args.get("before")
    if after and (pos := decode(after)):
        keyed = [(k, r) for k, r in keyed
                 if (k > tuple(pos) if not args.get("reverse") else k < tuple(pos))]
    if before and (pos := decode(before)):
        keyed = [(k, r) for k, r in keyed
                 if (k < tuple(pos) if not args.get("reverse") else k > tuple(pos))]
    has_next = has_prev = False
    if args.get("first") is not None:
        has_next = len(keyed) > args["first"]
        keyed = keyed[:args["first"]]
    elif args.get("last") is not None:
        has_prev = len(keyed) > args["last"]
        keyed = keyed[-args["last"]:] if args["last"] else []
    edges = [{"cursor": encode(k[0], k[1]), "node": view(r)} for k, r in keyed]
    return {
        "nodes": [e["node"] for e in edges], "edges": edges,
        "pageInfo": {"hasNextPage": has_next, "hasPreviousPage": has_prev or bool(after),
                     "startCursor": edges[0]["cursor"] if edges else None,
                     "endCursor": edges[-1]["cursor"] if edges else None},
    }
