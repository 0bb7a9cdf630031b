"""Store carrier (name or code) -> TikTok shipping provider: a built-in table of aliases first,
then a normalized name match. Organizations override it by passing ``provider_id``."""

from __future__ import annotations

import re

from bridge.models import ShippingProvider

#: Canonical provider name (normalized) -> store carrier names and codes seen for it.
ALIASES: dict[str, tuple[str, ...]] = {
    "royalmail": ("royal mail", "royal-mail", "rm", "royalmail", "royal mail tracked", "rmg"),
    "parcelforce": ("parcelforce", "parcelforce worldwide", "pfw"),
    "evri": ("evri", "hermes", "hermes uk", "myhermes"),
    "dpd": ("dpd", "dpd uk", "dpd local", "dpdlocal"),
    "dhl": ("dhl", "dhl express", "dhl parcel", "dhl parcel uk", "dhl ecommerce"),
    "ups": ("ups", "united parcel service"),
    "fedex": ("fedex", "federal express", "fedex uk"),
    "yodel": ("yodel",),
    "ninjavan": ("ninja van", "ninjavan", "nv"),
    "jtexpress": ("j&t", "j&t express", "jnt", "j and t", "jt express"),
    "singpost": ("singpost", "singapore post", "speedpost"),
    "poslaju": ("pos laju", "poslaju", "pos malaysia"),
    "lbcexpress": ("lbc", "lbc express"),
    "kerryexpress": ("kerry", "kerry express"),
    "thailandpost": ("thailand post", "thaipost"),
    "flashexpress": ("flash", "flash express"),
    "ghn": ("ghn", "giao hang nhanh"),
    "ghtk": ("ghtk", "giao hang tiet kiem"),
    "sicepat": ("sicepat",),
    "jne": ("jne",),
}

_NOISE = re.compile(r"\b(ltd|limited|inc|plc|uk|co|company|logistics|courier|shipping|delivery)\b")


def normalize(name: str) -> str:
    """Lower-case, '&' kept as 'and'-free, punctuation, spaces and corporate noise removed."""
    text = name.lower().replace("&", "")
    text = _NOISE.sub(" ", text)
    return re.sub(r"[^a-z0-9]", "", text)


def _canonical(carrier: str) -> str:
    low = carrier.strip().lower()
    norm = normalize(carrier)
    for canon, aliases in ALIASES.items():
        if low in aliases or norm == canon or norm in {normalize(a) for a in aliases}:
            return canon
    return norm


def match_provider(carrier: str, providers: list[ShippingProvider]) -> ShippingProvider | None:
    """The provider for a store carrier, or None when nothing matches.

    Order: a provider id equal to the carrier; the built-in alias table; an exact normalized
    name; a unique provider whose normalized name starts with (or contains) the carrier's.
    """
    if not carrier or not carrier.strip():
        return None
    for p in providers:
        if p.id == carrier.strip():
            return p
    canon = _canonical(carrier)
    named = {p.id: _canonical(p.name) for p in providers}
    exact = [p for p in providers if named[p.id] == canon]
    if exact:
        return exact[0]
    norm = normalize(carrier)
    if len(norm) >= 3:
        prefix = [p for p in providers if named[p.id].startswith(canon) or normalize(p.name).startswith(norm)]
        if len(prefix) == 1:
            return prefix[0]
        within = [p for p in providers if normalize(p.name)
                  and (norm in normalize(p.name) or normalize(p.name) in norm)]
        if len(within) == 1:
            return within[0]
    return None
