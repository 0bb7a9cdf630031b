"""Carrier name -> TikTok shipping provider."""

from bridge.models import ShippingProvider
from bridge_tiktokshop.carriers import match_provider

GB = [ShippingProvider(id=str(i), name=n) for i, n in enumerate(
    ["Royal Mail", "DPD", "Evri", "DHL Parcel UK", "Parcelforce Worldwide", "Yodel", "UPS"])]


def test_builtin_aliases() -> None:
    assert match_provider("Hermes", GB).name == "Evri"
    assert match_provider("royal-mail", GB).name == "Royal Mail"
    assert match_provider("RM", GB).name == "Royal Mail"
    assert match_provider("DPD Local", GB).name == "DPD"
    assert match_provider("DHL Express", GB).name == "DHL Parcel UK"


def test_normalized_names_and_ids() -> None:
    assert match_provider("  parcelforce ", GB).name == "Parcelforce Worldwide"
    assert match_provider("Yodel Ltd", GB).name == "Yodel"
    assert match_provider("3", GB).name == "DHL Parcel UK"


def test_unknown_carrier() -> None:
    assert match_provider("Carrier Pigeon Co", GB) is None
    assert match_provider("", GB) is None
    sea = [ShippingProvider(id="1", name="J&T Express"), ShippingProvider(id="2", name="Ninja Van")]
    assert match_provider("JNT", sea).id == "1"
    assert match_provider("ninjavan", sea).id == "2"
