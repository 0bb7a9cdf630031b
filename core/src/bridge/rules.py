"""The organization/store rules that hold for every platform (the core knows no platform).

- An organization has at most one eCommerce store and any number of channel stores.
- A remote store (platform + remote id) is connected to at most one organization at a time.
- A channel store's currency equals the organization's eCommerce store's currency.
- A channel store sells in a market its channel plugin serves (``PlatformInfo.markets``): a
  market on the plugin's waitlist offers that waitlist, any other is refused; a cross-border
  seller's base region must be one the plugin takes. A channel that declares no markets is not
  checked.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bridge.errors import RulesViolation
from bridge.models import PlatformInfo, StoreInfo
from bridge.statuses import StoreStatus
from bridge.tables import Organization, Store


def normalize_region(region: str | None, platform: PlatformInfo | None = None) -> str | None:
    """A region code in upper case, with the platform's aliases resolved."""
    if region is None or not region.strip():
        return None
    markets = platform.market_rules() if platform is not None else None
    return markets.normalize(region) if markets else region.strip().upper()


def check_market(platform: PlatformInfo, info: StoreInfo) -> None:
    """Refuse a channel store outside the markets its plugin declares.

    :raises RulesViolation: naming the platform's waitlist for a waitlisted market, the served
        markets otherwise, or the cross-border bases for a seller based elsewhere.
    """
    markets = platform.market_rules()
    if markets is None:
        return
    name = platform.display_name
    region = markets.normalize(info.region)
    if region is None:
        return
    served = {m.code for m in markets.served}
    if region not in served:
        if region in {m.code for m in markets.waitlist}:
            raise RulesViolation(
                f"{name} {markets.name_of(region)} ({region}) is not yet supported: join the waitlist "
                f"with `bridge waitlist join --platform {platform.name} --region {region} "
                f"--email YOU@EXAMPLE.COM`"
            )
        raise RulesViolation(
            f"{name} market {region} is not supported: {name} stores sell in "
            + ", ".join(f"{m.name} ({m.code})" for m in markets.served)
        )
    seller = markets.normalize(info.seller_region)
    if seller is None or seller == region:
        return
    bases = {m.code for m in markets.cross_border_from}
    if seller not in bases:
        takes = ("cross-border sellers based in " + ", ".join(f"{m.name} ({m.code})"
                                                               for m in markets.cross_border_from)
                 if bases else "no cross-border sellers")
        raise RulesViolation(
            f"{name} store '{info.name}' sells in {region} from a seller account based in {seller}: "
            f"bridge takes {takes} for {name}"
        )


def active_stores(s: Session, org_id: int, kind: str | None = None) -> list[Store]:
    q = select(Store).where(Store.org_id == org_id, Store.status != StoreStatus.DISCONNECTED)
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
        # the other organization is not named: the user may not be one of its members
        if existing.status != StoreStatus.DISCONNECTED:
            raise RulesViolation(
                f"{platform.display_name} store '{info.name}' is already connected to another "
                "organization: disconnect it there first"
            )
        raise RulesViolation(
            f"{platform.display_name} store '{info.name}' keeps its history in another "
            "organization: reconnect it there, or have an operator purge it with "
            "`bridge disconnect STORE --purge`"
        )
    if platform.kind == "channel":
        check_market(platform, info)
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
                        f"{platform.display_name} store '{info.name}' sells in {info.currency} but shop '{ch.name}' of "
                        f"organization '{org.name}' sells in {ch.currency}: an organization's shops "
                        f"share one currency; use another organization"
                    )
    return existing


def _check_currency(*, ecommerce_currency: str, channel_currency: str, ecommerce_name: str,
                    channel_name: str) -> None:
    if ecommerce_currency.upper() != channel_currency.upper():
        raise RulesViolation(
            f"currency mismatch: channel store '{channel_name}' sells in {channel_currency.upper()} "
            f"but eCommerce store '{ecommerce_name}' uses {ecommerce_currency.upper()}; enable "
            f"{channel_currency.upper()} as the store's currency (or use a store in "
            f"{channel_currency.upper()}) and connect again"
        )
