"""Activity: sync runs (their counts in words) with their item errors, and the journal;
filterable by store, flow, level and kind. Items are named as the merchant knows them (a
product's title, a store order's number) and link to their page."""

from __future__ import annotations

from sqlmodel import col, select
from starlette.responses import Response
from starlette.routing import Route

from bridge import db
from bridge.tables import Event, ItemError, SyncRun
from bridge.web import access, naming, queries
from bridge.web.base import Ctx, view

LIMIT = 100


@view()
def index(ctx: Ctx) -> Response:
    ids = ctx.org_ids
    store = access.store(ctx, ctx.q("store")) if ctx.q("store") else None
    flow, level, kind = ctx.q("flow"), ctx.q("level"), ctx.q("kind")
    with db.session() as s:
        runs_q = select(SyncRun).where(SyncRun.dry_run == False)  # noqa: E712
        ev_q = select(Event)
        if ids is not None:
            runs_q = runs_q.where(col(SyncRun.org_id).in_(ids or {-1}))
            ev_q = ev_q.where(col(Event.org_id).in_(ids or {-1}))
        if store is not None:
            runs_q = runs_q.where((SyncRun.channel_store_id == store.id) | (SyncRun.store_id == store.id))
            ev_q = ev_q.where(Event.store_id == store.id)
        if flow:
            runs_q = runs_q.where(SyncRun.flow == flow)
            ev_q = ev_q.where(Event.flow == flow)
        if level:
            ev_q = ev_q.where(Event.level == level)
        if kind:
            ev_q = ev_q.where(col(Event.kind).startswith(kind))
        runs = list(s.exec(runs_q.order_by(col(SyncRun.id).desc()).limit(LIMIT)))
        events = list(s.exec(ev_q.order_by(col(Event.id).desc()).limit(LIMIT)))
        errors: dict[int, list[ItemError]] = {}
        for e in s.exec(select(ItemError).where(col(ItemError.run_id).in_([r.id for r in runs] or [-1]))
                        .order_by(ItemError.id)):
            errors.setdefault(e.run_id, []).append(e)
    visible = access.stores(ctx, include_disconnected=True)
    shop_ids = [s.id for s in visible if s.id is not None]
    items = {e.item for e in events if e.item} | {e.item for errs in errors.values() for e in errs}
    texts = [e.message for e in events] + [e.message for errs in errors.values() for e in errs] \
        + [r.error or "" for r in runs]
    gids = {m.group(0) for text in texts for m in naming.GID.finditer(text)}
    return ctx.render("activity.html", runs=runs, events=events, errors=errors, stores=visible,
                      items=queries.item_names(items, shop_ids),
                      names=queries.store_order_numbers(gids, shop_ids),
                      store=store, flow=flow, level=level, kind=kind)


routes = [Route("/activity", index)]
