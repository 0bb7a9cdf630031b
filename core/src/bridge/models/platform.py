"""Describing a platform and connecting a store."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from bridge.models.base import Kind, _Model


class Setting(_Model):
    """One setting a connection needs; becomes an option of ``bridge connect PLATFORM``."""

    name: str
    type: Literal["str", "int", "bool", "url", "choice"] = "str"
    help: str = ""
    required: bool = False
    secret: bool = False
    default: Any = None
    choices: list[str] | None = None


class AppSetting(_Model):
    """A bridge-wide setting of a platform (an OAuth app's key and secret), read from the
    environment ``BRIDGE_<PLATFORM>_<NAME>`` or ``bridge config``."""

    name: str
    help: str = ""
    secret: bool = False
    required: bool = False
    default: Any = None


class Market(_Model):
    """A region by its ISO 3166-1 alpha-2 code, with the name shown to users."""

    code: str = Field(pattern=r"^[A-Z]{2}$")
    name: str


class Markets(_Model):
    """Where a channel's stores may sell, declared by the channel plugin; the core enforces it.

    * ``served``: markets a store may sell in (a store's ``StoreInfo.region``).
    * ``waitlist``: markets not served yet; a user choosing one is offered this platform's
      waitlist (``bridge waitlist join --platform NAME --region CODE``).
    * ``cross_border_from``: base regions of sellers who sell into the served markets from
      abroad (``StoreInfo.seller_region`` differs from ``region``); empty: no cross-border
      sellers are taken.
    * ``aliases``: other codes the platform uses for a region (e.g. ``UK`` for ``GB``).
    """

    served: list[Market]
    waitlist: list[Market] = []
    cross_border_from: list[Market] = []
    aliases: dict[str, str] = {}

    def normalize(self, code: str | None) -> str | None:
        """The region code as the declaration spells it (upper case, aliases resolved)."""
        if code is None or not code.strip():
            return None
        c = code.strip().upper()
        return self.aliases.get(c, c)

    def name_of(self, code: str) -> str:
        for m in (*self.served, *self.waitlist, *self.cross_border_from):
            if m.code == code:
                return m.name
        return code

    def seller_regions(self) -> list[tuple[str, str, bool]]:
        """(code, name, waitlist) choices of a seller account's region, for a connect page:
        the served markets (local sellers), the cross-border bases, then the waitlist."""
        seen: set[str] = set()
        out: list[tuple[str, str, bool]] = []
        for m, wait in [*((m, False) for m in self.served), *((m, False) for m in self.cross_border_from),
                        *((m, True) for m in self.waitlist)]:
            if m.code not in seen:
                seen.add(m.code)
                out.append((m.code, m.name + (" (cross-border)" if m in self.cross_border_from
                                              and m not in self.served else ""), wait))
        return out


class PlatformInfo(_Model):
    """What a plugin says of its platform (``describe_platform``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Kind
    display_name: str
    settings: list[Setting] = []
    app_settings: list[AppSetting] = []
    connect_methods: list[Literal["credentials", "oauth", "callback"]] = ["credentials"]
    webhooks: bool = False
    """True when the platform pushes change notifications; False means bridge polls."""
    webhook_retries: bool = False
    """True when the platform delivers a notification again after a failed delivery (Shopify: 8
    times over 4 hours; TikTok Shop: 4 times over 15 hours). A store pair whose platforms all
    retry may be polled less often while idle (``interval.idle_max``); otherwise a lost delivery
    is only seen by polling, so its idle polls stay within ``interval.idle_max_unretried``."""
    markets: Markets | None = None
    """Channel platforms: where their stores may sell (None: the core checks no region)."""
    webhook_topics: list[str] = []
    """The topics the flows need, spelled as ``list_webhooks`` reports them; the core keeps the
    store's subscriptions to exactly these (``webhooks=True`` only)."""
    regions: list[str] | None = None
    """Deprecated: served market codes only; use ``markets``."""
    docs_url: str | None = None
    lookup_lag: float = 0.0
    """Seconds the platform's lookup of a record by the key bridge stored on it (an order by the
    channel order id) may lag behind the write that made it; 0 when the lookup is immediately
    consistent. After a write whose answer was lost, bridge waits this long before it looks the
    write up (a store's ``lookup_lag`` setting overrides it)."""

    def market_rules(self) -> Markets | None:
        """The declared markets (``regions`` alone read as served markets named by code)."""
        if self.markets is not None:
            return self.markets
        if self.regions is not None:
            return Markets(served=[Market(code=r.strip().upper(), name=r.strip().upper())
                                   for r in self.regions])
        return None




class StoreInfo(_Model):
    """What connecting learns of a remote store."""

    remote_id: str
    name: str
    domain: str | None = None
    currency: str
    region: str | None = None
    """The market the store sells in (ISO 3166-1 alpha-2)."""
    seller_region: str | None = None
    """The seller account's base region where the platform tells it; differs from ``region``
    for a cross-border seller (checked against ``Markets.cross_border_from``)."""
    timezone: str | None = None
    credentials: dict[str, Any] = {}
    """Secrets to keep (encrypted) for this store: tokens, keys. Never logged."""
    settings: dict[str, Any] = {}
    """Non-secret settings to keep (base URL, API version, shop cipher, ...)."""
    auth_expires_at: datetime | None = None
    """When the authorization itself ends (not the access token); warnings are raised before."""
    details: dict[str, Any] = {}
    """Facts to show the user (plan, versions, seller type, warnings)."""
    warnings: list[str] = []


class CallbackResult(_Model):
    """What an app callback (install, load, key hand-over, activation) produced."""

    stores: list[StoreInfo] = []
    uninstalled_remote_ids: list[str] = []
    response_status: int = 200
    response_body: str = ""
    redirect_to: str | None = None


class Prerequisite(_Model):
    """One line of a prerequisites checklist (``bridge doctor``, the connect flow)."""

    key: str
    title: str
    ok: bool
    detail: str = ""
    fix: str = ""
    blocking: bool = True
    flows: list[str] = []
    """The flows this blocks when not ok (empty: all)."""
