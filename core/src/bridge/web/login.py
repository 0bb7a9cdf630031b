"""Signing in and out: the login form (CSRF by a double-submit cookie, since there is no session
yet), throttled failed attempts, the session cookie (HttpOnly, SameSite=Lax, Secure over https)."""

from __future__ import annotations

import time

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bridge import journal
from bridge.web import auth
from bridge.web.base import Ctx, new_token, secure_cookies, view

throttle = auth.Throttle()


def _safe_next(target: str) -> str:
    """Only local paths: never send a user off-site after login."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _form(ctx: Ctx, status: int = 200, error: str | None = None) -> Response:
    token = new_token()
    resp = ctx.render("login.html", status=status, login_csrf=token, error=error,
                      next=_safe_next(ctx.q("next", ctx.form.get("next", "/"))))
    resp.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                    secure=secure_cookies(ctx.request), path="/login", max_age=3600)
    return resp


@view(login=False, csrf=False)
def login(ctx: Ctx) -> Response:
    """GET: the form. POST: check the double-submit token, the throttle, then the password."""
    if ctx.request.method == "GET":
        if ctx.session is not None:
            return RedirectResponse("/", status_code=303)
        return _form(ctx)
    if not auth.csrf_ok(ctx.request.cookies.get(auth.LOGIN_CSRF_COOKIE), ctx.form.get("csrf_token")):
        return _form(ctx, 403, "The form expired: sign in again.")
    email = ctx.form.get("email", "").strip().lower()
    client = ctx.request.client.host if ctx.request.client else "unknown"
    keys = (f"email:{email}", f"ip:{client}")
    wait = throttle.blocked(keys[1])  # refused per address only: nobody locks another out
    if wait:
        return _form(ctx, 429, f"Too many failed sign-ins: wait {int(wait) + 1} seconds and try again.")
    delay = throttle.account_delay(keys[0])
    if delay:
        time.sleep(delay)  # an account under attack answers more slowly, to everyone
    user = auth.authenticate(email, ctx.form.get("password", ""))
    if user is None:
        throttle.failed(*keys)
        journal.record("user.login_failed", f"failed sign-in for '{email}' from {client}",
                       level="warning")
        return _form(ctx, 401, "Wrong email or password.")
    throttle.succeeded(keys[0])
    token, _session = auth.start_session(user)
    resp = RedirectResponse(_safe_next(ctx.form.get("next", "/")), status_code=303)
    resp.set_cookie(auth.COOKIE, token, httponly=True, samesite="lax",
                    secure=secure_cookies(ctx.request), max_age=auth.SESSION_DAYS * 86400, path="/")
    resp.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/login")
    return resp


@view()
def logout(ctx: Ctx) -> Response:
    """POST only (with the CSRF token): end the session everywhere this cookie was."""
    assert ctx.session is not None
    auth.end_session(ctx.session.id)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(auth.COOKIE, path="/")
    return resp


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
