"""Cursors of the polled streams (products, orders): opaque JSON to the core.

``{"since": lower bound of updated_at or null, "page": last page done, "hw": newest updated_at
seen}``. A cursor from the middle of a stream resumes at the next page of the same search; the
last page's cursor starts the next run at ``hw`` minus a minute of overlap (rows committed late
with an older timestamp), page 0.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bridge.errors import Misconfigured
from bridge.values import decode_cursor, encode_cursor
from bridge_magento2.mapping import format_time, parse_time

OVERLAP = timedelta(seconds=60)


def decode(cursor: str | None) -> dict[str, Any]:
    data = decode_cursor(cursor, what="magento2")
    try:
        return {"since": data.get("since"), "page": int(data.get("page") or 0), "hw": data.get("hw")}
    except (ValueError, TypeError):
        raise Misconfigured("magento2 cursor is unreadable: reset the flow's cursor") from None


def encode(since: str | None, page: int, hw: str | None) -> str:
    return encode_cursor({"since": since, "page": page, "hw": hw})


def newest(hw: str | None, items: list[dict[str, Any]]) -> str | None:
    """The high-water mark after a page: the newest ``updated_at`` seen."""
    for item in items:
        stamp = item.get("updated_at")
        if stamp and (hw is None or str(stamp) > hw):
            hw = str(stamp)
    return hw


def after(since: str | None, page: int, last: int, hw: str | None) -> str:
    """The cursor of a page: resume at the next page, or (last page) the next run's start."""
    if page < last:
        return encode(since, page, hw)
    when = parse_time(hw)
    return encode(format_time(when - OVERLAP) if when else since, 0, hw)
