"""The shared values the plugins read: weights, lengths, decimals, dates, cursors; the ids and
whole numbers a person types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bridge.errors import Misconfigured
from bridge.values import (
    centimetres,
    decimal_or_none,
    decode_cursor,
    encode_cursor,
    grams,
    iso_utc,
    parse_id,
    parse_int,
    parse_iso,
)


def test_weights_in_every_platforms_unit_names() -> None:
    for unit in ("lbs", "POUNDS", "Pounds", "lb"):
        assert grams("1", unit) == Decimal("453.59237")
    assert grams(2, "KILOGRAMS") == grams("2", "kgs") == Decimal(2000)
    assert grams("16", "oz") == Decimal("453.592370")
    assert grams("5", "furlongs") is None
    assert grams("5", "furlongs", default_unit="kg") == Decimal(5000)
    assert grams("", "g") is None and grams("heavy", "g") is None


def test_lengths_and_decimals() -> None:
    assert centimetres("10", "inches") == Decimal("25.40")
    assert centimetres("3", "Millimeters") == Decimal("0.3")
    assert decimal_or_none(0.1) == Decimal("0.1")  # through the float's repr, not its binary value
    assert decimal_or_none("12.50") == Decimal("12.50")
    assert decimal_or_none(None) is None and decimal_or_none("") is None and decimal_or_none("n/a") is None


def test_dates_are_aware_utc() -> None:
    assert parse_iso("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_iso("2026-01-02T03:04:05") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no zone: UTC
    assert parse_iso("2026-01-02T05:04:05+02:00") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_iso("2026-01-02 03:04:05") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_iso("not a date") is None and parse_iso(None) is None and parse_iso(12) is None
    local = datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert iso_utc(local) == "2026-01-02T03:04:05Z"


def test_cursors_round_trip_and_refuse_garbage() -> None:
    cursor = encode_cursor({"since": "2026-01-01", "page": 2, "after": None})
    assert cursor == '{"page":2,"since":"2026-01-01"}'
    assert decode_cursor(cursor, what="x") == {"page": 2, "since": "2026-01-01"}
    assert decode_cursor(None, what="x") == {}
    with pytest.raises(Misconfigured, match="magento2 cursor .* unreadable: reset"):
        decode_cursor("{oops", what="magento2")


def test_typed_numbers_and_ids_are_ascii_and_in_range() -> None:
    assert parse_int(" 42 ", 1, 100) == 42 and parse_int("-3", -5, 5) == -3
    for raw in ("²", "٣", "4.0", "", None, "0x10", "101"):
        assert parse_int(raw, 1, 100) is None, raw
    assert parse_id("2147483647") == 2**31 - 1
    assert parse_id("2147483648") is None and parse_id("-1") is None
