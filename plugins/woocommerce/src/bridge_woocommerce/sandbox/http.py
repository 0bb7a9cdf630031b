"""WP REST conventions the sandbox follows: error shape, collection paging headers, ``_fields``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode


class ApiError(Exception):
    """A WP REST error: ``{"code", "message", "data": {"status", ...}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.data = data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


@dataclass
class Req:
    """A request as the handlers see it (route already resolved from /wp-json or ?rest_route)."""

    method: str
    route: str
    params: dict[str, str]
    json: Any
    base_url: str
    """The collection URL for Link headers (pretty or plain form)."""
    plain: bool = False
    home: str = ""
    """The site's home URL as this request reached it."""


@dataclass
class Resp:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def bad_param(name: str, why: str) -> ApiError:
    return ApiError(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: why})


def int_param(req: Req, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = req.params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise bad_param(name, f"{name} is not of type integer.") from None
    if value < lo or (hi is not None and value > hi):
        raise bad_param(name, f"{name} must be between {lo} (inclusive) and {hi} (inclusive)")
    return value


def id_list(req: Req, name: str) -> list[int] | None:
    raw = req.params.get(name)
    if raw in (None, ""):
        return None
    try:
        return [int(x) for x in str(raw).split(",") if x.strip()]
    except ValueError:
        raise bad_param(name, f"{name}[0] is not of type integer.") from None


def only_fields(obj: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """WP's ``_fields``: keep the named top-level keys (``id`` always)."""
    if not fields:
        return obj
    keep = {f.split(".")[0] for f in fields.split(",") if f} | {"id"}
    return {k: v for k, v in obj.items() if k in keep}


def paginate(req: Req, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """A page of ``items`` with ``X-WP-Total``, ``X-WP-TotalPages`` and ``Link`` prev/next."""
    per_page = int_param(req, "per_page", 10, 1, 100)
    page = int_param(req, "page", 1, 1)
    offset = req.params.get("offset")
    start = int(offset) if offset not in (None, "") else (page - 1) * per_page
    total = len(items)
    pages = math.ceil(total / per_page) if total else 0
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    links = []
    query = {k: v for k, v in req.params.items() if k not in ("page", "rest_route")}
    sep = "&" if req.plain else "?"
    if page > 1 and pages:
        links.append(f'<{req.base_url}{sep}{urlencode({**query, "page": min(page - 1, pages)})}>; rel="prev"')
    if page < pages:
        links.append(f'<{req.base_url}{sep}{urlencode({**query, "page": page + 1})}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return items[start:start + per_page], headers


def date_param(req: Req, name: str) -> str | None:
    """An ISO 8601 date parameter as a GMT ``YYYY-MM-DDTHH:MM:SS`` string (site timezone = UTC)."""
    from datetime import UTC, datetime

    raw = req.params.get(name)
    if not raw:
        return None
    try:
        dt = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise bad_param(name, "Invalid date.") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def filter_collection(req: Req, items: list[dict], orderby_allowed: tuple[str, ...]) -> list[dict]:
    """The CRUD collection params shared by products and orders (§3 of the platform notes)."""
    include = id_list(req, "include")
    exclude = id_list(req, "exclude")
    out = items
    if include is not None:
        wanted = set(include)
        out = [o for o in out if o["id"] in wanted]
    if exclude:
        out = [o for o in out if o["id"] not in set(exclude)]
    for name, field_, cmp in (("modified_after", "date_modified_gmt", 1), ("modified_before", "date_modified_gmt", -1),
                              ("after", "date_created_gmt", 1), ("before", "date_created_gmt", -1)):
        bound = date_param(req, name)
        if bound:
            out = [o for o in out if (o[field_] > bound if cmp > 0 else o[field_] < bound)]
    orderby = req.params.get("orderby") or "date"
    if orderby not in orderby_allowed:
        raise bad_param("orderby", f"orderby is not one of {', '.join(orderby_allowed)}.")
    order = req.params.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise bad_param("order", "order is not one of asc, desc.")
    if orderby == "include" and include is not None:
        pos = {v: n for n, v in enumerate(include)}
        return sorted(out, key=lambda o: pos.get(o["id"], 0))
    key = {"id": lambda o: o["id"], "date": lambda o: (o["date_created_gmt"], o["id"]),
           "modified": lambda o: (o["date_modified_gmt"], o["id"]),
           "title": lambda o: (o.get("name") or "", o["id"]), "slug": lambda o: (o.get("slug") or "", o["id"]),
           "include": lambda o: o["id"]}[orderby]
    return sorted(out, key=key, reverse=order == "desc")
