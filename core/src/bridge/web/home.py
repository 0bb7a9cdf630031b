"""Home (organizations, their stores and sync health), Apps (connected stores, authorization
expiry, disconnect with confirmation) and a store's prerequisites checklist."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from bridge import stores as core_stores
from bridge.statuses import StoreStatus
from bridge.web import access, auth, connecting, queries
from bridge.web.base import Ctx, view


@view()
def home(ctx: Ctx) -> Response:
    """The user's organizations with their stores and sync health."""
    orgs = auth.visible_orgs(ctx.user)
    rows = access.stores(ctx, include_disconnected=True)
    health = queries.health(rows)
    by_org = {o.id: [s for s in rows if s.org_id == o.id] for o in orgs}
    return ctx.render("home.html", orgs=orgs, by_org=by_org, health=health,
                      channels=ctx.pm.platforms("channel"), ecommerce=ctx.pm.platforms("ecommerce"))


@view()
def apps(ctx: Ctx) -> Response:
    """Connected stores: status, authorization expiry, disconnect."""
    rows = access.stores(ctx, include_disconnected=True)
    orgs = {o.id: o for o in auth.visible_orgs(ctx.user)}
    names = {p.name: p.display_name for p in ctx.pm.platforms()}
    return ctx.render("apps.html", stores=rows, orgs=orgs, names=names)


@view()
def disconnect(ctx: Ctx) -> Response:
    """GET: ask for confirmation. POST: stop the store's sync and delete its credentials."""
    store = access.store(ctx, ctx.param("store_id"))
    if ctx.request.method == "GET":
        return ctx.render("disconnect.html", store=store)
    if ctx.form.get("confirm") != store.name:
        return ctx.render("disconnect.html", store=store, status=400,
                          error="Type the store's name exactly to confirm.")
    core_stores.disconnect(store.id)  # type: ignore[arg-type]
    return ctx.redirect("/apps", f"'{store.name}' disconnected: its sync stopped and its "
                                 "credentials were deleted; links and history are kept.")


@view()
def prerequisites(ctx: Ctx) -> Response:
    """The prerequisites checklist of one store."""
    store = access.store(ctx, ctx.param("store_id"))
    checks = connecting.prerequisites(ctx.pm, store) if store.status == StoreStatus.ACTIVE else []
    return ctx.render("prerequisites.html", store=store, checks=checks,
                      check=connecting.currency_check(store))


routes = [
    Route("/", home),
    Route("/apps", apps),
    Route("/stores/{store_id}/disconnect", disconnect, methods=["GET", "POST"]),
    Route("/stores/{store_id}/prerequisites", prerequisites),
]
