"""Facts about TikTok Shop markets: currencies, hosts, which call pushes tracking, text limits."""

from __future__ import annotations

from bridge.models import Market, Markets

API_HOST = "https://open-api.tiktokglobalshop.com"
AUTH_HOST = "https://auth.tiktok-shops.com"
AUTHORIZE_HOST = "https://services.tiktokshop.com"

#: Shop region -> price currency (reference §4).
REGION_CURRENCY: dict[str, str] = {
    "GB": "GBP", "SG": "SGD", "VN": "VND", "TH": "THB", "MY": "MYR", "ID": "IDR", "PH": "PHP",
    "US": "USD", "JP": "JPY", "MX": "MXN", "BR": "BRL",
    "ES": "EUR", "FR": "EUR", "DE": "EUR", "IT": "EUR", "IE": "EUR",
}

#: Where bridge lets TikTok Shop stores sell: local shops in seven markets, cross-border sellers
#: based in China mainland or Hong Kong SAR selling into them (§4: one authorization, one shop
#: per target market, ``seller_type: CROSS_BORDER``); the United States on a waitlist. Older
#: TikTok material says UK for Great Britain.
MARKETS = Markets(
    served=[Market(code="GB", name="United Kingdom"), Market(code="SG", name="Singapore"),
            Market(code="VN", name="Vietnam"), Market(code="TH", name="Thailand"),
            Market(code="MY", name="Malaysia"), Market(code="ID", name="Indonesia"),
            Market(code="PH", name="Philippines")],
    waitlist=[Market(code="US", name="United States")],
    cross_border_from=[Market(code="CN", name="China mainland"), Market(code="HK", name="Hong Kong SAR")],
    aliases={"UK": "GB"},
)

#: Markets where a seller-shipped package is created by "Mark Package As Shipped" (§8);
#: every other market ships the existing package with ``self_shipment``.
MARK_SHIPPED_MARKETS = frozenset({"US", "GB", "ES", "IE", "IT", "DE", "FR", "JP"})

#: Markets whose product titles may be 1-255 characters; the others (SEA) need 25-255 (§5.7).
SHORT_TITLE_MARKETS = frozenset({"US", "GB", "ES", "IE", "IT", "DE", "FR", "JP", "BR", "MX"})

#: Hours after shipping during which tracking can be corrected (§8.3: 72 h, US doc).
CORRECTION_WINDOW_HOURS = 72

#: Documented default limit: 50 requests per second per API per (app, shop) (§10.1).
DEFAULT_QPS = 50


def uses_mark_shipped(region: str | None) -> bool:
    return (region or "").upper() in MARK_SHIPPED_MARKETS


def title_limits(region: str | None) -> tuple[int, int]:
    """(min, max) characters of a product title in a market."""
    return (1, 255) if (region or "").upper() in SHORT_TITLE_MARKETS else (25, 255)


#: Markets where a seller may cancel single items of an order (Cancel Order with
#: ``order_line_item_ids``; §13.5: v202309, US and UK only — in the UK when out of stock).
ITEM_CANCEL_MARKETS = frozenset({"US", "GB"})


def item_cancel_allowed(region: str | None) -> bool:
    return (region or "").upper() in ITEM_CANCEL_MARKETS
