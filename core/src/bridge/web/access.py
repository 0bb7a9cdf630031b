"""Access rules of the admin pages: a user sees and changes only the organizations they belong
to; an operator sees all. Anything outside answers 404, the same as a missing id, so guessing
ids tells nothing."""

from __future__ import annotations

from sqlmodel import col, select
from starlette.exceptions import HTTPException

from bridge import db
from bridge.statuses import StoreStatus
from bridge.tables import OrderLink, Organization, Store
from bridge.web.base import Ctx, parse_id


def _allowed(ctx: Ctx, org_id: int | None) -> bool:
    ids = ctx.org_ids
    return ids is None or (org_id is not None and org_id in ids)


def org(ctx: Ctx, org_id: int | str) -> Organization:
    """An organization the user may see, else 404."""
    ident = parse_id(org_id)
    if ident is None:
        raise HTTPException(404, "not found")
    with db.session() as s:
        row = s.get(Organization, ident)
    if row is None or not _allowed(ctx, row.id):
        raise HTTPException(404, "not found")
    return row


def store(ctx: Ctx, store_id: int | str, kind: str | None = None) -> Store:
    """A store of an organization the user may see (optionally of one kind), else 404."""
    ident = parse_id(store_id)
    if ident is None:
        raise HTTPException(404, "not found")
    with db.session() as s:
        row = s.get(Store, ident)
    if row is None or not _allowed(ctx, row.org_id) or (kind and row.kind != kind):
        raise HTTPException(404, "not found")
    return row


def order_link(ctx: Ctx, link_id: int | str) -> tuple[OrderLink, Store]:
    """An order link of a shop the user may see, with that shop, else 404."""
    ident = parse_id(link_id)
    if ident is None:
        raise HTTPException(404, "not found")
    with db.session() as s:
        row = s.get(OrderLink, ident)
        shop = s.get(Store, row.channel_store_id) if row else None
    if row is None or shop is None or not _allowed(ctx, shop.org_id):
        raise HTTPException(404, "not found")
    return row, shop


def stores(ctx: Ctx, kind: str | None = None, *, include_disconnected: bool = False) -> list[Store]:
    """Every store the user may see, by organization then id."""
    ids = ctx.org_ids
    with db.session() as s:
        q = select(Store)
        if ids is not None:
            q = q.where(col(Store.org_id).in_(ids or {-1}))
        if kind:
            q = q.where(Store.kind == kind)
        if not include_disconnected:
            q = q.where(Store.status != StoreStatus.DISCONNECTED)
        return list(s.exec(q.order_by(Store.org_id, Store.id)))
