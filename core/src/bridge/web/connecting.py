"""The connect flows without HTTP: OAuth state, finishing an authorization or an app callback
into an organization, the currency check's result and the prerequisites checklist.

An ``oauth_states`` row is first an *authorization in flight* (``data.kind == "auth"``: the
state sent to the platform, the user, optionally the organization) and, once the platform has
answered, the *outcome* shown at ``/connect/done/<state>``: the stores connected, refused (with
the rule's message) or waiting for the user to pick an organization (their credentials kept
encrypted in the row until then, at most an hour).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, delete

from bridge import db
from bridge.crypto import Vault, load_key
from bridge.errors import BridgeError, Misconfigured, RulesViolation
from bridge.models import Prerequisite, StoreInfo
from bridge.plugins import PluginManager
from bridge.rules import active_stores
from bridge.stores import app_context, connection_for, get_org, save_store
from bridge.tables import OAuthState, Store, User, utcnow
from bridge.web.base import new_token, public_url

AUTH_TTL = timedelta(minutes=15)
#: How long a callback address shown to a user stays valid (set-up in the platform's admin).
CALLBACK_TTL = timedelta(hours=24)
CALLBACK_PREFIX = "cb-"
OUTCOME_TTL = timedelta(hours=1)
#: Called after a store is connected so its jobs exist at once (the running scheduler's
#: ``refresh_jobs``, set by :func:`bridge.web.app.create_app`).
on_connected: Callable[[], None] | None = None


def redirect_uri(platform: str) -> str:
    return f"{public_url()}/oauth/{platform}/callback"


def begin(pm: PluginManager, user: User, platform: str, settings: dict[str, Any],
          org_id: int | None = None) -> str:
    """Record a state for ``user`` and return the platform's authorization URL."""
    state = new_token()
    with db.session() as s:
        s.exec(delete(OAuthState).where(col(OAuthState.expires_at) < utcnow()))  # type: ignore[call-overload]
        s.add(OAuthState(state=state, platform=platform, org_id=org_id, user_id=user.id,
                         data={"kind": "auth", "settings": settings},
                         expires_at=utcnow() + AUTH_TTL))
    return pm.call(platform, "authorization_url", app=app_context(platform, pm), state=state,
                   redirect_uri=redirect_uri(platform), settings=settings)


def _expired(row: OAuthState) -> bool:
    exp = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return exp < utcnow()


def _flow_row(s: Any, state: str | None, platform: str, user_id: int | None) -> OAuthState:
    if state and state.startswith(CALLBACK_PREFIX):
        row = _callback_row(state, platform)
        if user_id is not None and row.user_id != user_id:
            raise Misconfigured("this authorization was started by another user: start again")
        return row
    row = s.get(OAuthState, state or "")
    if row is None or row.platform != platform or (row.data or {}).get("kind") != "auth":
        raise Misconfigured("this authorization link is unknown or was already used: start "
                            "connecting again from the home page")
    if _expired(row):
        raise Misconfigured("this authorization took too long: start again")
    if user_id is not None and row.user_id != user_id:
        # checked before the state is spent: a stranger cannot spoil a user's connect
        raise Misconfigured("this authorization was started by another user: start again")
    return row


def peek_state(state: str | None, platform: str) -> OAuthState:
    """The authorization in flight named by ``state``, left in flight (checked before an app
    callback's plugin runs, so before any request it makes).

    :raises Misconfigured: unknown, used, expired, or for another platform.
    """
    with db.session() as s:
        return _flow_row(s, state, platform, None)


def take_state(state: str | None, platform: str, user_id: int | None = None) -> OAuthState:
    """The authorization in flight named by ``state`` (single use).

    :param user_id: the signed-in user answering it; a state another user started is refused
        and stays usable by its owner.
    :raises Misconfigured: unknown, used, expired, for another platform or another user.
    """
    with db.session() as s:
        row = _flow_row(s, state, platform, user_id)
        if not (row.data or {}).get("callback"):  # a signed callback address stays usable
            row.data = {**row.data, "kind": "taken"}
            s.add(row)
        return row


def callback_state(user: User, platform: str) -> str:
    """A state for callbacks the platform sends once the user acts in its admin (an
    integration's activation): the callback address carries it as ``?state=``. Signed, not
    stored (showing the connect page writes nothing), valid for :data:`CALLBACK_TTL`, and
    reusable within it (the merchant may activate again)."""
    expires = int((utcnow() + CALLBACK_TTL).timestamp())
    return f"{CALLBACK_PREFIX}{user.id}-{expires}-{_callback_mac(platform, user.id, expires)}"


def _callback_mac(platform: str, user_id: int | None, expires: int) -> str:
    msg = f"bridge-callback-state:{platform}:{user_id}:{expires}".encode()
    return hmac.new(load_key(), msg, hashlib.sha256).hexdigest()[:32]


def _callback_row(state: str, platform: str) -> OAuthState:
    """The in-flight row a signed callback state stands for. :raises Misconfigured: forged,
    for another platform, or expired."""
    try:
        user_s, expires_s, mac = state[len(CALLBACK_PREFIX):].split("-")
        user_id, expires = int(user_s), int(expires_s)
    except ValueError:
        user_id, expires, mac = 0, 0, ""
    if not hmac.compare_digest(mac.encode(), _callback_mac(platform, user_id, expires).encode()):
        raise Misconfigured("this callback address is unknown: copy it again from bridge's connect page")
    if expires < utcnow().timestamp():
        raise Misconfigured("this callback address has expired: copy a fresh one from bridge's connect page")
    return OAuthState(state=state, platform=platform, user_id=user_id, org_id=None,
                      data={"kind": "auth", "callback": True},
                      expires_at=datetime.fromtimestamp(expires, UTC))


def outcome(token: str) -> OAuthState | None:
    with db.session() as s:
        row = s.get(OAuthState, token)
    if row is None or (row.data or {}).get("kind") != "outcome" or _expired(row):
        return None
    return row


def may_see(row: OAuthState, user: User) -> bool:
    """The user who started it sees an outcome; one nobody started (an app installed from the
    platform's side) only an operator."""
    return row.user_id == user.id or (row.user_id is None and user.is_operator)


def currency_check(store: Store) -> str:
    """One line telling how the store's currency compares with its organization's stores."""
    with db.session() as s:
        ecommerce = next(iter(active_stores(s, store.org_id, "ecommerce")), None)
        channels = active_stores(s, store.org_id, "channel")
    if store.kind == "channel":
        if ecommerce is None:
            return (f"Currency check: '{store.name}' sells in {store.currency}; it is compared with "
                    "the eCommerce store when one is connected.")
        return (f"Currency check passed: '{store.name}' sells in {store.currency} and eCommerce "
                f"store '{ecommerce.name}' uses {ecommerce.currency}.")
    if not channels:
        return f"Currency check: '{store.name}' uses {store.currency}; no TikTok shop to compare yet."
    names = ", ".join(f"'{c.name}' ({c.currency})" for c in channels)
    return f"Currency check passed: '{store.name}' uses {store.currency}, as do {names}."


def _save(pm: PluginManager, platform: str, info: StoreInfo, org_id: int) -> dict[str, Any]:
    try:
        row = save_store(get_org(org_id), platform, info, pm)
    except RulesViolation as exc:
        return {"ok": False, "name": info.name, "platform": platform, "message": str(exc)}
    if on_connected is not None:
        on_connected()
    return {"ok": True, "name": row.name, "platform": platform, "store_id": row.id,
            "org_id": row.org_id, "check": currency_check(row), "warnings": info.warnings}


def complete(pm: PluginManager, platform: str, infos: list[StoreInfo], *,
             state: OAuthState | None, user: User | None, org_ids: list[int]) -> str:
    """Connect ``infos`` (into the state's organization, or the user's only one) or keep them
    waiting for a choice; returns the outcome's token."""
    token = state.state if state is not None and not (state.data or {}).get("callback") \
        else new_token()
    org_id = state.org_id if state is not None and state.org_id is not None else (
        org_ids[0] if len(org_ids) == 1 else None)
    results: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for info in infos:
        if org_id is not None:
            results.append(_save(pm, platform, info, org_id))
        else:
            pending.append(info.model_dump(mode="json"))
    owner = user.id if user is not None else (state.user_id if state is not None else None)
    with db.session() as s:
        row = s.get(OAuthState, token) or OAuthState(state=token, platform=platform,
                                                     expires_at=utcnow())
        row.user_id = owner
        row.org_id = org_id
        row.data = {"kind": "outcome", "results": results,
                    "pending": Vault().encrypt({"stores": pending}) if pending else None,
                    "names": [p["name"] for p in pending]}
        row.expires_at = utcnow() + OUTCOME_TTL
        s.add(row)
    return token


def pending_stores(row: OAuthState) -> list[StoreInfo]:
    enc = (row.data or {}).get("pending")
    if not enc:
        return []
    return [StoreInfo.model_validate(d) for d in Vault().decrypt(enc).get("stores", [])]


def claim(pm: PluginManager, row: OAuthState, index: int, org_id: int) -> dict[str, Any]:
    """Connect the waiting store ``index`` of an outcome to ``org_id`` (access checked by the
    caller)."""
    waiting = pending_stores(row)
    if not 0 <= index < len(waiting):
        raise Misconfigured("that store is no longer waiting: it was connected or the link expired")
    result = _save(pm, row.platform, waiting[index], org_id)
    rest = waiting[:index] + waiting[index + 1:]
    with db.session() as s:
        fresh = s.get(OAuthState, row.state)
        assert fresh is not None
        fresh.data = {**fresh.data, "results": [*fresh.data.get("results", []), result],
                      "pending": Vault().encrypt({"stores": [i.model_dump(mode="json") for i in rest]})
                      if rest else None,
                      "names": [i.name for i in rest]}
        s.add(fresh)
    return result


def prerequisites(pm: PluginManager, store: Store) -> list[Prerequisite]:
    """The store's prerequisites checklist (empty when the platform reports none)."""
    if not pm.has(store.platform, "check_prerequisites"):
        return []
    try:
        return list(pm.call(store.platform, "check_prerequisites",
                            connection=connection_for(store, pm)) or [])
    except BridgeError as exc:
        return [Prerequisite(key="check", title="Prerequisites could not be checked", ok=False,
                             detail=str(exc), blocking=False)]
