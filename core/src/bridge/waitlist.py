"""Waitlists: markets a channel plugin declares it does not serve yet (``Markets.waitlist``).

Each channel platform keeps its own waitlist; the core knows no platform's markets.
"""

from __future__ import annotations

import re

from sqlmodel import select

from bridge import db, journal
from bridge.errors import Misconfigured
from bridge.models import PlatformInfo
from bridge.plugins import PluginManager, get_manager
from bridge.tables import WaitlistEntry

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def waitlisting(pm: PluginManager, region: str, platform: str | None = None) -> PlatformInfo:
    """The channel platform whose waitlist ``region`` is on (``platform`` names it, or the only
    installed channel with a waitlist for it).

    :raises Misconfigured: the region is served already, on no waitlist, or on several.
    """
    channels = [pm.info(platform)] if platform else pm.platforms("channel")
    if platform and channels[0].kind != "channel":
        raise Misconfigured(f"{platform} is not a channel platform: waitlists belong to channels")
    waiting: list[PlatformInfo] = []
    serving: list[PlatformInfo] = []
    for info in channels:
        markets = info.market_rules()
        if markets is None:
            continue
        code = markets.normalize(region) or ""
        if code in {m.code for m in markets.served}:
            serving.append(info)
        elif code in {m.code for m in markets.waitlist}:
            waiting.append(info)
    if len(waiting) == 1:
        return waiting[0]
    if serving and not waiting:
        first = serving[0]
        raise Misconfigured(f"{first.display_name} serves {region.strip().upper()} already: connect a store "
                            f"with `bridge connect {first.name}`")
    if waiting:
        raise Misconfigured(f"several channels keep a waitlist for {region.upper()}: choose one with "
                            "--platform " + " or ".join(w.name for w in waiting))
    offered = [f"{info.name}: {', '.join(m.code for m in info.market_rules().waitlist)}"  # type: ignore[union-attr]
               for info in channels if info.market_rules() and info.market_rules().waitlist]  # type: ignore[union-attr]
    raise Misconfigured(f"no waitlist for region '{region}'"
                        + (f"{' of ' + platform if platform else ''}: waitlists exist for "
                           + "; ".join(offered) if offered else ": no installed channel keeps one"))


def join(region: str, email: str, org_ref: str | int | None = None, *, platform: str | None = None,
         pm: PluginManager | None = None) -> bool:
    """Record ``email`` on the waitlist for ``region``; False when it was already recorded."""
    info = waitlisting(pm or get_manager(), region, platform)
    r = info.market_rules().normalize(region) or ""  # type: ignore[union-attr]
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise Misconfigured(f"'{email}' is not an email address")
    org_id = None
    if org_ref is not None:
        from bridge.stores import get_org

        org_id = get_org(org_ref).id
    with db.session() as s:
        if s.exec(select(WaitlistEntry).where(WaitlistEntry.platform == info.name, WaitlistEntry.region == r,
                                              WaitlistEntry.email == email)).first():
            return False
        s.add(WaitlistEntry(platform=info.name, region=r, email=email, org_id=org_id))
    journal.record("waitlist.joined", f"{email} joined the {info.display_name} {r} waitlist", org_id=org_id)
    return True


def entries() -> list[WaitlistEntry]:
    with db.session() as s:
        return list(s.exec(select(WaitlistEntry).order_by(WaitlistEntry.id)))
