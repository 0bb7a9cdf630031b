"""The waitlist for TikTok Shop regions not yet supported."""

from __future__ import annotations

import re

from sqlmodel import select

from bridge import db, journal
from bridge.errors import Misconfigured
from bridge.rules import SUPPORTED_REGIONS, WAITLIST_REGIONS, normalize_region
from bridge.tables import WaitlistEntry

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def join(region: str, email: str, org_ref: str | int | None = None) -> bool:
    """Record ``email`` for ``region``; False when it was already recorded."""
    r = normalize_region(region) or ""
    email = email.strip().lower()
    if r in SUPPORTED_REGIONS:
        raise Misconfigured(f"{r} is already supported: connect a shop with `bridge connect tiktokshop`")
    if r not in WAITLIST_REGIONS:
        raise Misconfigured(f"no waitlist for region '{region}': waitlists exist for {', '.join(WAITLIST_REGIONS)}")
    if not EMAIL.match(email):
        raise Misconfigured(f"'{email}' is not an email address")
    org_id = None
    if org_ref is not None:
        from bridge.stores import get_org

        org_id = get_org(org_ref).id
    with db.session() as s:
        if s.exec(select(WaitlistEntry).where(WaitlistEntry.region == r,
                                              WaitlistEntry.email == email)).first():
            return False
        s.add(WaitlistEntry(region=r, email=email, org_id=org_id))
    journal.record("waitlist.joined", f"{email} joined the {r} waitlist", org_id=org_id)
    return True


def entries() -> list[WaitlistEntry]:
    with db.session() as s:
        return list(s.exec(select(WaitlistEntry).order_by(WaitlistEntry.id)))
