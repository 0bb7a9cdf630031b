"""Values every connector reads from its platform the same way: dates, weights and lengths,
decimals, and the opaque cursors of polled streams; and the whole numbers and ids a person
types (a URL, a form, a command line). One table and one parser each, so the plugins, the admin
pages and the CLI agree (a pound is 453.59237 g everywhere) and fix a quirk in one place."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.errors import Misconfigured

#: Grams per weight unit, by every name the platforms use (keys lower-case).
GRAMS_PER_UNIT: dict[str, Decimal] = {
    **dict.fromkeys(("g", "gram", "grams"), Decimal(1)),
    **dict.fromkeys(("kg", "kgs", "kilogram", "kilograms"), Decimal(1000)),
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), Decimal("453.59237")),
    **dict.fromkeys(("oz", "ounce", "ounces"), Decimal("28.349523125")),
    **dict.fromkeys(("t", "tonne", "tonnes"), Decimal(1_000_000)),
}
#: Centimetres per length unit, by every name the platforms use (keys lower-case).
CM_PER_UNIT: dict[str, Decimal] = {
    **dict.fromkeys(("cm", "centimeter", "centimeters", "centimetre", "centimetres"), Decimal(1)),
    **dict.fromkeys(("mm", "millimeter", "millimeters", "millimetre", "millimetres"), Decimal("0.1")),
    **dict.fromkeys(("m", "meter", "meters", "metre", "metres"), Decimal(100)),
    **dict.fromkeys(("in", "inch", "inches"), Decimal("2.54")),
    **dict.fromkeys(("yd", "yard", "yards"), Decimal("91.44")),
}


def decimal_or_none(value: Any) -> Decimal | None:
    """A Decimal from a platform number (string, int or float: a float through its shortest
    repr, so 0.1 stays 0.1); None for no value or an unreadable one."""
    if value is None or value == "":
        return None
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        return None


def grams(value: Any, unit: str | None, *, default_unit: str | None = None) -> Decimal | None:
    """``value`` in ``unit`` as grams (unrounded); an unknown unit counts as ``default_unit``
    (None: no weight)."""
    amount = decimal_or_none(value)
    factor = GRAMS_PER_UNIT.get((unit or "").lower()) or GRAMS_PER_UNIT.get((default_unit or "").lower())
    return None if amount is None or factor is None else amount * factor


def centimetres(value: Any, unit: str | None, *, default_unit: str | None = None) -> Decimal | None:
    """``value`` in ``unit`` as centimetres (unrounded); an unknown unit counts as
    ``default_unit`` (None: no length)."""
    amount = decimal_or_none(value)
    factor = CM_PER_UNIT.get((unit or "").lower()) or CM_PER_UNIT.get((default_unit or "").lower())
    return None if amount is None or factor is None else amount * factor


def parse_iso(value: Any) -> datetime | None:
    """An ISO-8601 timestamp (``Z`` or an offset; none: UTC) as an aware UTC datetime; None for
    no value or an unreadable one."""
    if not value or not isinstance(value, str | datetime):
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def iso_utc(dt: datetime) -> str:
    """A full ISO-8601 UTC timestamp to the second (``2026-01-02T03:04:05Z``)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_cursor(data: dict[str, Any]) -> str:
    """A stream position as an opaque cursor: compact JSON, None values left out."""
    return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"), sort_keys=True)


def decode_cursor(cursor: str | None, *, what: str) -> dict[str, Any]:
    """The position in a cursor :func:`encode_cursor` made ({} for none).

    :raises Misconfigured: the cursor is unreadable (``what`` names the stream, e.g.
        ``"bigcommerce product"``): the flow's cursor must be reset.
    """
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except (TypeError, ValueError):
        raise Misconfigured(f"{what} cursor {cursor[:40]!r} is unreadable: reset the flow's cursor") from None
    return value if isinstance(value, dict) else {}


#: The largest id the database keeps (a 32-bit INTEGER column on PostgreSQL).
MAX_ID = 2**31 - 1
_ASCII_INT = re.compile(r"-?[0-9]{1,12}")


def parse_int(raw: object, low: int, high: int) -> int | None:
    """``raw`` as a whole number within ``low..high`` written in ASCII digits, else None
    (``str.isdigit`` accepts ``²`` and ``٣``, which ``int`` refuses or reads otherwise)."""
    text = str(raw).strip() if raw is not None else ""
    if not _ASCII_INT.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_id(raw: object) -> int | None:
    """A database id from a URL, a form or a command line (ASCII digits, within the column's
    range), else None."""
    return parse_int(raw, 0, MAX_ID)
