"""What every page handler shares: the request context, rendering, redirects, the ``view``
decorator (session, access, CSRF, form parsing; the handler itself runs in a worker thread so
database and platform calls never block the event loop)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bridge import config, db
from bridge.errors import BridgeError
from bridge.plugins import PluginManager, get_manager
from bridge.tables import User, WebSession
from bridge.values import parse_id, parse_int
from bridge.web import auth, naming

log = logging.getLogger("bridge.web")
HERE = Path(__file__).parent
env = Environment(loader=FileSystemLoader(HERE / "templates"),
                  autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else "—"


def _pager_query(params: Any, page: int) -> str:
    """The current query string with ``page`` replaced (pager links keep the filters)."""
    items = [(k, v) for k, v in params.multi_items() if k != "page"]
    return urlencode([*items, ("page", str(page))])


env.filters["pager_query"] = _pager_query


def _query_with(params: Any, **changes: str) -> str:
    """The current query string with ``changes`` set and ``page`` dropped (a new sort starts
    at page 1 and keeps the filters)."""
    items = [(k, v) for k, v in params.multi_items() if k != "page" and k not in changes]
    return urlencode([*items, *changes.items()])


env.filters["query_with"] = _query_with
env.filters["plain"] = naming.plain
env.filters["run_counts"] = naming.run_counts
env.globals["order_name"] = naming.order_name
env.globals["order_names"] = naming.order_names


def public_url() -> str:
    return config.public_url()


def secure_cookies(request: Request) -> bool:
    """Secure cookies when served over https (directly or behind a proxy named in public_url)."""
    return request.url.scheme == "https" or public_url().startswith("https://")


@dataclass
class Ctx:
    """One request as a handler sees it."""

    request: Request
    session: auth.SessionInfo | None
    form: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    pm: PluginManager = field(default_factory=get_manager)
    scheduler: Any = None
    flashes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def user(self) -> User:
        assert self.session is not None, "this page requires a signed-in user"
        return self.session.user

    @property
    def org_ids(self) -> set[int] | None:
        """Organizations the user may see (None: all, an operator)."""
        return auth.user_org_ids(self.user)

    def q(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def int_param(self, name: str) -> int:
        value = parse_id(self.param(name))
        if value is None:
            raise HTTPException(404, "not found")
        return value

    def page(self) -> int:
        """The ``page`` query parameter (1 when absent or not a sensible page number)."""
        return parse_int(self.q("page", "1"), 1, MAX_PAGE) or 1

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        flashes = self.flashes + self._pop_flashes()
        html = env.get_template(template).render(
            user=self.session.user if self.session else None,
            csrf=self.session.csrf if self.session else "",
            flashes=flashes, path=self.request.url.path, request=self.request, **context,
        )
        return HTMLResponse(html, status_code=status)

    def redirect(self, url: str, message: str | None = None, level: str = "ok") -> Response:
        if message:
            self.flash(message, level)
        return RedirectResponse(url, status_code=303)

    def flash(self, message: str, level: str = "ok") -> None:
        """Keep a one-line message for the next page of this session."""
        if self.session is None:
            self.flashes.append((level, message))
            return
        with db.session() as s:
            row = s.get(WebSession, self.session.id)
            if row is not None:
                row.data = {**(row.data or {}), "flash": [*(row.data or {}).get("flash", []),
                                                          [level, message]]}
                s.add(row)

    def _pop_flashes(self) -> list[tuple[str, str]]:
        if self.session is None:
            return []
        with db.session() as s:
            row = s.get(WebSession, self.session.id)
            if row is None or not (row.data or {}).get("flash"):
                return []
            out = [(lv, msg) for lv, msg in row.data["flash"]]
            row.data = {k: v for k, v in row.data.items() if k != "flash"}
            s.add(row)
            return out


Handler = Callable[[Ctx], Response]


def view(*, login: bool = True, csrf: bool = True) -> Callable[[Handler], Callable[[Request], Any]]:
    """Make a Starlette endpoint of ``handler(ctx)``.

    ``login``: anonymous visitors are sent to the login page. ``csrf``: a POST must carry the
    session's ``csrf_token`` (every form of the admin pages does).
    """

    def deco(handler: Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            form: dict[str, str] = {}
            lists: dict[str, list[str]] = {}
            if request.method == "POST":
                data = await request.form()
                for key in data:
                    values = [v for v in data.getlist(key) if isinstance(v, str)]
                    lists[key] = values
                    form[key] = values[-1] if values else ""
            session = await run_in_threadpool(auth.load_session, request.cookies.get(auth.COOKIE))
            if login and session is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            if request.method == "POST" and csrf and session is not None \
                    and not auth.csrf_ok(session.csrf, form.get("csrf_token")):
                return _error(request, 403, "The form expired or did not come from bridge: "
                                            "reload the page and try again.")
            ctx = Ctx(request=request, session=session, form=form, lists=lists,
                      scheduler=getattr(request.app.state, "scheduler", None))
            try:
                return await run_in_threadpool(handler, ctx)
            except BridgeError as exc:
                return ctx.render("error.html", status=400, message=str(exc))

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return deco


def _error(request: Request, status: int, message: str) -> HTMLResponse:
    html = env.get_template("error.html").render(user=None, csrf="", flashes=[], message=message,
                                                 path=request.url.path, request=request)
    return HTMLResponse(html, status_code=status)


MAX_PAGE = 100_000


def new_token() -> str:
    return secrets.token_urlsafe(32)
