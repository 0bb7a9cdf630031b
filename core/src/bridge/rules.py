"""The organization/store rules that hold for every platform (the core knows no platform).

- An organization has at most one eCommerce store and any number of channel stores.
- A remote store (platform + remote id) is connected to at most one organization at a time.
- A channel store's currency equals the organization's eCommerce store's currency.
- TikTok Shop regions: GB, SG, VN, TH, MY, ID, PH and cross-border sellers from CN and HK;
  US is not yet supported (the user may join the waitlist).
"""

from __future__ import annotations

from sqlmodel import Session, select

from bridge.errors import RulesViolation
from bridge.models import PlatformInfo, StoreInfo
from bridge.tables import Organization, Store

SUPPORTED_REGIONS: dict[str, str] = {
    "GB": "United Kingdom",
    "SG": "Singapore",
    "VN": "Vietnam",
    "TH": "Thailand",
    "MY": "Malaysia",
    "ID": "Indonesia",
    "PH": "Philippines",
    "CN": "China mainland (cross-border)",
    "HK": "Hong Kong SAR (cross-border)",
}
WAITLIST_REGIONS: dict[str, str] = {"US": "United States"}
#: Older TikTok material says UK for Great Britain.
REGION_ALIASES = {"UK": "GB"}


def normalize_region(region: str | None) -> str | None:
    if region is None:
        return None
    r = region.strip().upper()
    return REGION_ALIASES.get(r, r)


def check_region(region: str | None) -> None:
    """Refuse regions bridge does not support, offering the waitlist for US."""
    r = normalize_region(region)
    if r is None or r in SUPPORTED_REGIONS:
        return
    if r in WAITLIST_REGIONS:
        raise RulesViolation(
            f"TikTok Shop {WAITLIST_REGIONS[r]} ({r}) is not yet supported: join the waitlist with "
            f"`bridge waitlist join --region {r} --email YOU@EXAMPLE.COM`"
        )
    raise RulesViolation(
        f"TikTok Shop region {r} is not supported: supported regions are "
        + ", ".join(SUPPORTED_REGIONS)
    )


def active_stores(s: Session, org_id: int, kind: str | None = None) -> list[Store]:
    q = select(Store).where(Store.org_id == org_id, Store.status != "disconnected")
    if kind:
        q = q.where(Store.kind == kind)
    return list(s.exec(q.order_by(Store.id)))


def check_connect(s: Session, org: Organization, platform: PlatformInfo, info: StoreInfo) -> Store | None:
    """Check every rule for connecting ``info`` to ``org``; return the existing row to reuse.

    :raises RulesViolation: with one line naming what is in the way and what to do.
    """
    existing = s.exec(
        select(Store).where(Store.platform == platform.name, Store.remote_id == info.remote_id)
    ).first()
    if existing is not None and existing.org_id != org.id:
        other = s.get(Organization, existing.org_id)
        other_name = other.name if other else existing.org_id
        if existing.status != "disconnected":
            raise RulesViolation(
                f"{platform.display_name} store '{info.name}' is already connected to organization "
                f"'{other_name}': disconnect it there first"
            )
        raise RulesViolation(
            f"{platform.display_name} store '{info.name}' keeps its history in organization "
            f"'{other_name}': reconnect it there, or purge it with `bridge disconnect {existing.id} --purge`"
        )
    if platform.kind == "channel":
        check_region(info.region)
    ecommerce = active_stores(s, org.id, "ecommerce")  # type: ignore[arg-type]
    if platform.kind == "ecommerce":
        others = [st for st in ecommerce if existing is None or st.id != existing.id]
        if others:
            first = others[0]
            raise RulesViolation(
                f"organization '{org.name}' already has an eCommerce store: {first.platform} "
                f"'{first.name}' (store {first.id}); disconnect it (`bridge disconnect {first.id}`) "
                f"or use another organization"
            )
        channels = active_stores(s, org.id, "channel")  # type: ignore[arg-type]
        for ch in channels:
            _check_currency(ecommerce_currency=info.currency, channel_currency=ch.currency,
                            ecommerce_name=info.name, channel_name=ch.name)
    else:
        if ecommerce:
            _check_currency(ecommerce_currency=ecommerce[0].currency, channel_currency=info.currency,
                            ecommerce_name=ecommerce[0].name, channel_name=info.name)
        else:
            for ch in active_stores(s, org.id, "channel"):  # type: ignore[arg-type]
                if ch.currency.upper() != info.currency.upper() and (existing is None or ch.id != existing.id):
                    raise RulesViolation(
                        f"TikTok shop '{info.name}' sells in {info.currency} but shop '{ch.name}' of "
                        f"organization '{org.name}' sells in {ch.currency}: an organization's shops "
                        f"share one currency; use another organization"
                    )
    return existing


def _check_currency(*, ecommerce_currency: str, channel_currency: str, ecommerce_name: str,
                    channel_name: str) -> None:
    if ecommerce_currency.upper() != channel_currency.upper():
        raise RulesViolation(
            f"currency mismatch: TikTok shop '{channel_name}' sells in {channel_currency.upper()} "
            f"but eCommerce store '{ecommerce_name}' uses {ecommerce_currency.upper()}; enable "
            f"{channel_currency.upper()} as the store's currency (or use a store in "
            f"{channel_currency.upper()}) and connect again"
        )
