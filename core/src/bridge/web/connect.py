"""The connect pages, knowing no platform: pick a platform, a region (the waitlist for regions
not yet supported), then the platform's OAuth authorization, its app callbacks, or a form of
the settings it declares; the outcome page shows the currency check and the prerequisites."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from bridge import waitlist
from bridge.errors import BridgeError, Misconfigured, NeedsReconnect, WebhookRejected
from bridge.models import PlatformInfo, WebhookRequest
from bridge.plugins import get_manager
from bridge.rules import normalize_region
from bridge.stores import app_context, get_store, validate_credentials
from bridge.tables import User
from bridge.web import access, auth, connecting
from bridge.web.base import Ctx, parse_int, view


def _platform(ctx: Ctx, name: str, kind: str | None = None) -> PlatformInfo:
    plugin = ctx.pm.platform_plugin(name, strict=False)
    if plugin is None or plugin.platform is None or (kind and plugin.platform.kind != kind):
        raise HTTPException(404, "not found")
    return plugin.platform


def _regions(info: PlatformInfo) -> list[tuple[str, str, bool]]:
    """(code, name, waitlist) choices of a seller account's region, as the channel declares its
    markets (none when it declares none)."""
    markets = info.market_rules() if info.kind == "channel" else None
    return markets.seller_regions() if markets else []


@view()
def choose(ctx: Ctx) -> Response:
    """The installed platforms of one kind (``/connect/channel``, ``/connect/ecommerce``)."""
    kind = ctx.param("kind")
    if kind not in ("channel", "ecommerce"):
        raise HTTPException(404, "not found")
    platforms = ctx.pm.platforms(kind)
    if kind == "channel" and len(platforms) == 1:
        return RedirectResponse(f"/connect/platform/{platforms[0].name}", status_code=303)
    return ctx.render("connect_choose.html", kind=kind, platforms=platforms)


def _form_action(info: PlatformInfo, pm: Any) -> str:
    """Where a connect page's forms may end: this site, then (after its redirect) the
    platform's authorization page on an https origin, or the sandbox it is pointed at."""
    sources = ["'self'"]
    if pm.has(info.name, "authorization_url"):
        sources.append("https:")
        base = app_context(info.name, pm).settings.get("base_url")
        parts = urlsplit(str(base)) if base else None
        if parts is not None and parts.scheme == "http" and parts.netloc and \
                re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", parts.netloc):
            sources.append(f"http://{parts.netloc}")
    return " ".join(sources)


@view()
def platform_page(ctx: Ctx) -> Response:
    """A platform's ways to connect: region choice, authorization, callbacks, settings form."""
    info = _platform(ctx, ctx.param("platform"))
    page = _platform_page(ctx, info)
    from bridge.web.app import csp

    page.headers["content-security-policy"] = csp(_form_action(info, ctx.pm))
    return page


def _platform_page(ctx: Ctx, info: PlatformInfo) -> Response:
    return ctx.render("connect_platform.html", info=info, regions=_regions(info),
                      orgs=auth.visible_orgs(ctx.user),
                      oauth=ctx.pm.has(info.name, "authorization_url"),
                      callbacks="callback" in info.connect_methods,
                      credentials="credentials" in info.connect_methods,
                      callback_base=f"{connecting.public_url()}/callbacks/{info.name}/",
                      callback_state=connecting.callback_state(ctx.user, info.name)
                      if "callback" in info.connect_methods else "")


def _org_choice(ctx: Ctx, required: bool) -> int | None:
    raw = ctx.form.get("org_id", "")
    if raw:
        return access.org(ctx, raw).id
    orgs = auth.visible_orgs(ctx.user)
    if len(orgs) == 1:
        return orgs[0].id
    if required:
        raise Misconfigured("choose the organization to connect the store to")
    return None


def _settings(info: PlatformInfo, form: dict[str, str], *, secret: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for st in info.settings:
        if st.secret != secret:
            continue
        raw = form.get(f"setting_{st.name}", "")
        if st.type == "bool":
            out[st.name] = raw in ("on", "true", "1")
            continue
        raw = raw.strip()
        if raw == "":
            continue
        if st.type == "int":
            value = parse_int(raw, -(2**31), 2**31 - 1)
            if value is None:
                raise Misconfigured(f"{st.name} must be a whole number")
            out[st.name] = value
        elif st.type == "choice" and st.choices and raw not in st.choices:
            raise Misconfigured(f"{st.name} must be one of {', '.join(st.choices)}")
        else:
            out[st.name] = raw
    return out


@view()
def start(ctx: Ctx) -> Response:
    """POST: the region (waitlist for regions not yet supported), then off to authorize."""
    info = _platform(ctx, ctx.param("platform"))
    settings = _settings(info, ctx.form, secret=False)
    regions = _regions(info)
    if regions:
        region = normalize_region(ctx.form.get("region", ""), info) or ""
        choice = {c: w for c, _n, w in regions}
        if region not in choice:
            return ctx.render("connect_platform.html", status=400, info=info, regions=regions,
                              orgs=auth.visible_orgs(ctx.user), oauth=True, callbacks=False,
                              credentials=False, callback_base="",
                              error=f"Choose the region of your {info.display_name} seller account.")
        if choice[region]:
            return ctx.render("waitlist.html", region=region, info=info,
                              name=info.market_rules().name_of(region),  # type: ignore[union-attr]
                              email=ctx.user.email)
        settings["region"] = region
    org_id = _org_choice(ctx, required=info.kind == "ecommerce")
    url = connecting.begin(ctx.pm, ctx.user, info.name, settings, org_id)
    return RedirectResponse(url, status_code=303)


@view()
def join_waitlist(ctx: Ctx) -> Response:
    region = ctx.form.get("region", "")
    info = waitlist.waitlisting(ctx.pm, region, ctx.form.get("platform") or None)
    added = waitlist.join(region, ctx.form.get("email", ""),
                          org_ref=_org_choice(ctx, required=False), platform=info.name, pm=ctx.pm)
    markets = info.market_rules()
    name = f"{info.display_name} " + (markets.name_of(markets.normalize(region) or "") if markets else region)
    return ctx.redirect("/", f"You are on the {name} waitlist: we will write when it opens."
                        if added else f"You were already on the {name} waitlist.")


@view()
def credentials(ctx: Ctx) -> Response:
    """POST: connect with the settings the platform declares (keys, tokens, URLs)."""
    info = _platform(ctx, ctx.param("platform"))
    org_id = _org_choice(ctx, required=True)
    settings = _settings(info, ctx.form, secret=False)
    creds = _settings(info, ctx.form, secret=True)
    app_base = app_context(info.name, ctx.pm).settings.get("base_url")
    if app_base and "base_url" not in settings:  # the platform is pointed at a sandbox
        settings["base_url"] = app_base
    missing = [st.name for st in info.settings if st.required and st.name not in {**settings, **creds}]
    if missing:
        raise Misconfigured(f"fill in {', '.join(missing)}")
    store_info = validate_credentials(info.name, settings, creds, ctx.pm)
    token = connecting.complete(ctx.pm, info.name, [store_info], state=None, user=ctx.user,
                                org_ids=[org_id])  # type: ignore[list-item]
    return RedirectResponse(f"/connect/done/{token}", status_code=303)


@view()
def oauth_callback(ctx: Ctx) -> Response:
    """The platform sends the user back here with a code and our state."""
    info = _platform(ctx, ctx.param("platform"))
    params = dict(ctx.request.query_params)
    state = connecting.take_state(params.get("state"), info.name, user_id=ctx.user.id)
    if params.get("error") or params.get("error_description"):
        raise NeedsReconnect(f"{info.display_name} did not authorize bridge "
                             f"({params.get('error_description') or params.get('error')}): start again")
    infos = ctx.pm.call(info.name, "exchange_code", app=app_context(info.name, ctx.pm),
                        params=params, redirect_uri=connecting.redirect_uri(info.name))
    token = connecting.complete(ctx.pm, info.name, list(infos or []), state=state, user=ctx.user,
                                org_ids=[o.id for o in auth.visible_orgs(ctx.user)])  # type: ignore[misc]
    return RedirectResponse(f"/connect/done/{token}", status_code=303)


async def app_callback(request: Request) -> Response:
    """``/callbacks/<platform>/<name>``: key hand-overs, install/load/uninstall, activation.

    Not a form of ours (no CSRF token): the plugin verifies the platform's signature. A
    callback carrying ``?state=`` is checked against the flows in progress *before* the plugin
    runs (so before any request it would make); stores a platform hands over without a state
    (an install started on the platform's side) wait for the signed-in user to choose their
    organization.
    """
    pm = get_manager()
    platform, name = request.path_params["platform"], request.path_params["name"]
    if pm.platform_plugin(platform, strict=False) is None or not pm.has(platform, "app_callback"):
        return PlainTextResponse("not found", status_code=404)
    body = await request.body()
    wreq = WebhookRequest(headers=dict(request.headers), body=body, query=dict(request.query_params))
    session = await run_in_threadpool(auth.load_session, request.cookies.get(auth.COOKIE))
    try:
        return await run_in_threadpool(_run_callback, pm, platform, name, wreq, session)
    except WebhookRejected:
        return PlainTextResponse("bad signature", status_code=401)
    except BridgeError as exc:
        return PlainTextResponse(str(exc), status_code=400)


def _run_callback(pm: Any, platform: str, name: str, wreq: WebhookRequest,
                  session: auth.SessionInfo | None) -> Response:
    from bridge import journal
    from bridge.stores import mark_needs_reconnect

    state_value = wreq.query.get("state")
    if state_value is not None:
        connecting.peek_state(state_value, platform)
    result = pm.call(platform, "app_callback", app=app_context(platform, pm), name=name, request=wreq)
    for remote_id in result.uninstalled_remote_ids:
        try:
            store = get_store_by_remote(platform, remote_id)
        except Misconfigured:
            continue
        mark_needs_reconnect(store, f"the app was uninstalled from {platform} store {remote_id}: "
                                    "install it again to resume")
    token = None
    if result.stores:
        user = session.user if session else None
        if state_value is not None:  # the flow's owner, whoever's browser brings it back
            state = connecting.take_state(state_value, platform)
            user = _user(state.user_id)
            org_ids = [o.id for o in auth.visible_orgs(user)] if user else []
        else:  # nobody here asked for it: the user confirms which organization it joins
            state, org_ids = None, []
        token = connecting.complete(pm, platform, list(result.stores), state=state, user=user,
                                    org_ids=org_ids)  # type: ignore[arg-type]
        journal.record("store.callback", f"{platform} callback '{name}': "
                                         f"{len(result.stores)} store(s) handed over")
    if result.redirect_to:
        return RedirectResponse(result.redirect_to, status_code=303)
    if token and wreq.query.get("_browser") != "0" and session is not None:
        return RedirectResponse(f"/connect/done/{token}", status_code=303)
    return Response(result.response_body, status_code=result.response_status,
                    media_type="application/json" if result.response_body.startswith("{") else "text/plain")


def _user(user_id: int | None) -> User | None:
    from bridge import db

    if user_id is None:
        return None
    with db.session() as s:
        return s.get(User, user_id)


def get_store_by_remote(platform: str, remote_id: str) -> int:
    """The store id of ``platform`` and ``remote_id``; :raises Misconfigured: none."""
    from sqlmodel import select

    from bridge import db
    from bridge.tables import Store

    with db.session() as s:
        row = s.exec(select(Store).where(Store.platform == platform, Store.remote_id == remote_id)).first()
    if row is None:
        raise Misconfigured(f"no {platform} store '{remote_id}'")
    return row.id  # type: ignore[return-value]


@view()
def done(ctx: Ctx) -> Response:
    """The outcome: stores connected (currency check, prerequisites), refused, or waiting for
    an organization (POST ``index`` and ``org_id``: the Connect button beside each)."""
    row = connecting.outcome(ctx.param("token"))
    if row is None or not connecting.may_see(row, ctx.user):
        raise HTTPException(404, "not found")
    if ctx.request.method == "POST":
        org = access.org(ctx, ctx.form.get("org_id", ""))
        index = parse_int(ctx.form.get("index", ""), 0, 1000)
        connecting.claim(ctx.pm, row, -1 if index is None else index, org.id)  # type: ignore[arg-type]
        return ctx.redirect(f"/connect/done/{row.state}")
    checks = {}
    for r in row.data.get("results", []):
        if r.get("ok"):
            try:
                store = get_store(r["store_id"])
            except Misconfigured:
                continue
            checks[r["store_id"]] = connecting.prerequisites(ctx.pm, store)
    return ctx.render("connect_done.html", row=row, results=row.data.get("results", []),
                      pending=row.data.get("names", []), orgs=auth.visible_orgs(ctx.user),
                      checks=checks, info=_platform(ctx, row.platform))


routes = [
    Route("/connect/{kind:str}", choose),
    Route("/connect/{platform}/start", start, methods=["POST"]),
    Route("/connect/{platform}/credentials", credentials, methods=["POST"]),
    Route("/connect/done/{token}", done, methods=["GET", "POST"]),
    Route("/connect/platform/{platform}", platform_page),
    Route("/waitlist", join_waitlist, methods=["POST"]),
    Route("/oauth/{platform}/callback", oauth_callback),
    Route("/callbacks/{platform}/{name}", app_callback, methods=["GET", "POST"]),
]
