"""Organizations and stores: connecting (through the rules), loading connections, disconnecting."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, MutableMapping
from datetime import UTC
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, delete, select

from bridge import config, db, journal
from bridge.connection import AppContext, Connection
from bridge.crypto import Vault
from bridge.errors import Misconfigured, NeedsReconnect, RulesViolation
from bridge.models import StoreInfo
from bridge.plugins import PluginManager, get_manager
from bridge.rules import check_connect, normalize_region
from bridge.statuses import StoreStatus
from bridge.tables import (
    AlertRecipients,
    AlertState,
    CategoryRule,
    Event,
    ItemError,
    Job,
    KeyValue,
    ListingLink,
    OrderLink,
    Organization,
    ProductMapping,
    RefundRecord,
    SkuLink,
    Store,
    SyncCursor,
    SyncRun,
    TrackingPushRecord,
    utcnow,
)
from bridge.values import parse_id

# --------------------------------------------------------------------------- organizations


def create_org(name: str) -> Organization:
    name = name.strip()
    if not name:
        raise Misconfigured("an organization needs a name")
    with db.session() as s:
        if s.exec(select(Organization).where(Organization.name == name)).first():
            raise RulesViolation(f"organization '{name}' already exists: pick another name")
        org = Organization(name=name)
        s.add(org)
        s.flush()
        s.refresh(org)
    journal.record("org.created", f"organization '{name}' created", org_id=org.id)
    return org


def get_org(ref: str | int) -> Organization:
    """An organization by id or name, or a clear error."""
    with db.session() as s:
        org = None
        ident = ref if isinstance(ref, int) else parse_id(ref)
        if ident is not None:
            org = s.get(Organization, ident)
        if org is None:
            org = s.exec(select(Organization).where(Organization.name == str(ref))).first()
        if org is None:
            raise Misconfigured(f"no organization '{ref}': see `bridge org list`")
        return org


def list_orgs() -> list[Organization]:
    with db.session() as s:
        return list(s.exec(select(Organization).order_by(Organization.id)))


def rename_org(ref: str | int, new_name: str) -> Organization:
    org = get_org(ref)
    with db.session() as s:
        if s.exec(select(Organization).where(Organization.name == new_name)).first():
            raise RulesViolation(f"organization '{new_name}' already exists: pick another name")
        row = s.get(Organization, org.id)
        assert row is not None
        row.name = new_name
        s.add(row)
    return get_org(org.id)  # type: ignore[arg-type]


def delete_org(ref: str | int) -> None:
    org = get_org(ref)
    with db.session() as s:
        stores = s.exec(select(Store).where(Store.org_id == org.id)).all()
        if stores:
            raise RulesViolation(
                f"organization '{org.name}' still has {len(stores)} store(s): "
                f"`bridge disconnect STORE --purge` them first"
            )
        for table in (AlertState, AlertRecipients):  # what alerts kept of the organization
            s.exec(delete(table).where(table.org_id == org.id))  # type: ignore[call-overload,attr-defined]
        s.delete(s.get(Organization, org.id))


# --------------------------------------------------------------------------- stores


def get_store(ref: str | int) -> Store:
    with db.session() as s:
        ident = ref if isinstance(ref, int) else parse_id(ref)
        store = s.get(Store, ident) if ident is not None else None
        if store is None:
            store = s.exec(select(Store).where(Store.name == str(ref))).first()
        if store is None:
            raise Misconfigured(f"no store '{ref}': see `bridge stores`")
        return store


def list_stores(org_id: int | None = None, *, include_disconnected: bool = True) -> list[Store]:
    with db.session() as s:
        q = select(Store)
        if org_id is not None:
            q = q.where(Store.org_id == org_id)
        if not include_disconnected:
            q = q.where(Store.status != StoreStatus.DISCONNECTED)
        return list(s.exec(q.order_by(Store.id)))


def app_context(platform: str, pm: PluginManager | None = None) -> AppContext:
    pm = pm or get_manager()
    info = pm.info(platform)
    names = [a.name for a in info.app_settings]
    return AppContext(
        platform=platform,
        settings=config.app_settings(platform, names),
        public_url=config.public_url(),
    )


#: One state value (the statement built once: plugins ask often, mostly for keys not kept yet).
_STATE_READ = select(KeyValue.value).where(
    KeyValue.store_id == bindparam("sid"), KeyValue.key == bindparam("k"))


#: Several values of one store (:meth:`DbState.get_many`).
_STATE_READ_MANY = select(KeyValue.key, KeyValue.value).where(
    KeyValue.store_id == bindparam("sid"), col(KeyValue.key).in_(bindparam("ks", expanding=True)))


class DbState(MutableMapping):
    """``Connection.state`` kept in the ``store_state`` table, read through a cache of the
    :data:`CACHED` most recently used values (plugins keep one value per item in it, e.g. an
    uploaded image per source URL: an unbounded cache grew with the catalog)."""

    CACHED = 1024

    def __init__(self, store_id: int) -> None:
        self.store_id = store_id
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def _keep(self, values: dict[str, Any]) -> None:
        """Cache ``values`` as the most recent (with ``_lock`` held)."""
        for key, value in values.items():
            self._cache[key] = value
            self._cache.move_to_end(key)
        while len(self._cache) > self.CACHED:
            self._cache.popitem(last=False)

    def __getitem__(self, key: str) -> Any:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        with db.reading() as conn:  # Core, not the ORM: plugins ask often
            row = conn.execute(_STATE_READ, {"sid": self.store_id, "k": key}).first()
        if row is None:
            raise KeyError(key)
        with self._lock:
            self._keep({key: row[0]})
        return row[0]

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The values of those of ``keys`` that are kept, the ones not cached read in one
        statement (a listing's images asked for theirs one at a time: four reads a listing)."""
        out: dict[str, Any] = {}
        missing: list[str] = []
        with self._lock:
            for key in dict.fromkeys(keys):
                if key in self._cache:
                    self._cache.move_to_end(key)
                    out[key] = self._cache[key]
                else:
                    missing.append(key)
        if missing:
            with db.reading() as conn:
                found = {k: v for k, v in conn.execute(_STATE_READ_MANY, {"sid": self.store_id, "ks": missing})}
            with self._lock:
                self._keep(found)
            out.update(found)
        return out

    def __setitem__(self, key: str, value: Any) -> None:
        db.upsert(KeyValue, {"store_id": self.store_id, "key": key, "value": value, "updated_at": utcnow()},
                  keys=("store_id", "key"))
        with self._lock:
            self._keep({key: value})

    def update(self, other: Any = (), /, **kw: Any) -> None:
        """Set several values in one transaction (one write, not one per key)."""
        values = dict(other, **kw)
        now = utcnow()
        db.upsert(KeyValue, [{"store_id": self.store_id, "key": k, "value": v, "updated_at": now}
                             for k, v in values.items()], keys=("store_id", "key"))
        with self._lock:
            self._keep(values)

    def __delitem__(self, key: str) -> None:
        with db.session() as s:
            row = s.get(KeyValue, (self.store_id, key))
            if row is None:
                raise KeyError(key)
            s.delete(row)
        with self._lock:
            self._cache.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        with db.session() as s:
            keys = [r.key for r in s.exec(select(KeyValue).where(KeyValue.store_id == self.store_id))]
        return iter(keys)

    def __len__(self) -> int:
        return len(list(iter(self)))


_connections: dict[int, Connection] = {}
_conn_lock = threading.Lock()


def connection_for(store: Store, pm: PluginManager | None = None) -> Connection:
    """The live connection of a store (cached per process so HTTP connections are reused).

    :raises NeedsReconnect: the store is disconnected or needs reconnecting.
    """
    if store.status == StoreStatus.DISCONNECTED:
        raise NeedsReconnect(f"store {store.id} '{store.name}' is disconnected: connect it again")
    with _conn_lock:
        conn = _connections.get(store.id)  # type: ignore[arg-type]
        if conn is not None:
            return conn
    vault = Vault()
    store_id = store.id
    assert store_id is not None

    def keep(creds: dict[str, Any]) -> None:
        with db.session() as s:
            row = s.get(Store, store_id)
            if row is not None and row.status != StoreStatus.DISCONNECTED:
                row.credentials_enc = vault.encrypt(creds)
                row.updated_at = utcnow()
                s.add(row)

    def load() -> dict[str, Any]:
        with db.session() as s:
            row = s.get(Store, store_id)
            if row is None or row.status == StoreStatus.DISCONNECTED:
                raise NeedsReconnect(f"store {store_id} was disconnected: connect it again")
            return vault.decrypt(row.credentials_enc)

    conn = Connection(
        platform=store.platform,
        settings=dict(store.settings),
        credentials=vault.decrypt(store.credentials_enc),
        app=app_context(store.platform, pm),
        store_id=store_id,
        remote_id=store.remote_id,
        state=DbState(store_id),
        on_credentials=keep,
        load_credentials=load,
    )
    with _conn_lock:
        _connections[store_id] = conn
    return conn


def forget_connection(store_id: int) -> None:
    with _conn_lock:
        conn = _connections.pop(store_id, None)
    if conn:
        conn.close()


def validate_credentials(
    platform: str, settings: dict[str, Any], credentials: dict[str, Any], pm: PluginManager | None = None
) -> StoreInfo:
    """Call the platform's ``connect`` with given credentials (nothing saved)."""
    pm = pm or get_manager()
    conn = Connection(platform=platform, settings=dict(settings), credentials=dict(credentials),
                      app=app_context(platform, pm))
    try:
        info = pm.call(platform, "connect", connection=conn)
    finally:
        conn.close()
    # the settings the user gave (shop domain, base URL, ...) are kept unless the plugin
    # returned a normalised value for one
    info.settings = {**settings, **info.settings}
    # credentials refreshed during connect are the ones to keep
    merged = dict(conn.credentials)
    merged.update(info.credentials)
    info.credentials = merged
    return info


def save_store(org: Organization, platform: str, info: StoreInfo, pm: PluginManager | None = None) -> Store:
    """Record a connected store after the rules allow it (reconnecting reuses the row)."""
    pm = pm or get_manager()
    pinfo = pm.info(platform)
    info.region = normalize_region(info.region, pinfo)
    info.seller_region = normalize_region(info.seller_region, pinfo)
    if info.seller_region:
        info.details = {**info.details, "seller_region": info.seller_region}
    vault = Vault()
    with db.session() as s:
        existing = check_connect(s, org, pinfo, info)
        row = existing or Store(org_id=org.id, platform=platform, kind=pinfo.kind,  # type: ignore[arg-type]
                                remote_id=info.remote_id, name=info.name, currency=info.currency)
        reconnect = existing is not None
        row.name = info.name
        row.domain = info.domain
        row.region = info.region
        row.currency = info.currency.upper()
        row.timezone = info.timezone
        row.settings = {**(row.settings or {}), **info.settings}
        row.details = {**(row.details or {}), **info.details}
        row.credentials_enc = vault.encrypt(info.credentials)
        expires = info.auth_expires_at
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires != row.auth_expires_at:  # a new end: warned about afresh (old thresholds spent)
            row.details = {k: v for k, v in row.details.items() if k != "auth_warned"}
        row.auth_expires_at = expires
        row.status = StoreStatus.ACTIVE
        row.status_message = None
        row.connected_at = utcnow()
        row.disconnected_at = None
        row.updated_at = utcnow()
        s.add(row)
        s.flush()
        s.refresh(row)
        s.exec(  # resume the store's jobs
            _jobs_of(row.id).values(paused=False, failures=0, next_run_at=utcnow())  # type: ignore[arg-type]
        )
    forget_connection(row.id)  # type: ignore[arg-type]
    journal.record(
        "store.reconnected" if reconnect else "store.connected",
        f"{pinfo.display_name} store '{row.name}' connected ({row.currency})",
        org_id=org.id, store_id=row.id, data={"platform": platform, "warnings": info.warnings},
    )
    from bridge import subscriptions  # it reads stores: imported here

    subscriptions.reconcile_quietly(row, pm)
    return row


def was_reconnect(store: Store) -> bool:
    """True when the last connect of ``store`` reconnected a store bridge already knew."""
    from sqlmodel import col

    from bridge.tables import Event

    with db.session() as s:
        last = s.exec(select(Event.kind).where(Event.store_id == store.id, col(Event.kind).in_(
            ("store.connected", "store.reconnected"))).order_by(col(Event.id).desc())).first()
    return last == "store.reconnected"


def _jobs_of(store_id: int):  # type: ignore[no-untyped-def]
    from sqlalchemy import or_, update

    return update(Job).where(or_(Job.store_id == store_id, Job.channel_store_id == store_id))


def connect_store(org_ref: str | int, platform: str, settings: dict[str, Any],
                  credentials: dict[str, Any], pm: PluginManager | None = None) -> Store:
    """Validate given credentials with the platform, check the rules, save the store."""
    org = get_org(org_ref)
    info = validate_credentials(platform, settings, credentials, pm)
    return save_store(org, platform, info, pm)


#: A store's credentials refused this many times in a row (without the platform's definitive
#: word) before it is marked ``needs_reconnect``: one transient 401 never pauses a store.
AUTH_REFUSALS_TO_MARK = 3
_REFUSALS = "bridge:auth_refusals"


def judge_auth_refusal(exc: NeedsReconnect) -> bool:
    """Judge a store's refused credentials, the same for the daemon and one-shot syncs: the
    store the error came from (``exc.store_id``, and only that one) is marked
    ``needs_reconnect`` on the platform's definitive answer (``exc.definitive``: a refresh token
    refused as invalid or revoked) or after :data:`AUTH_REFUSALS_TO_MARK` refusals in a row;
    otherwise the refusal is counted and the job retried. True when the store was marked."""
    store_id = getattr(exc, "store_id", None)
    if store_id is None:
        return False
    state = DbState(store_id)
    refusals = int(state.get(_REFUSALS) or 0) + 1
    if exc.definitive or refusals >= AUTH_REFUSALS_TO_MARK:
        state.pop(_REFUSALS, None)
        mark_needs_reconnect(store_id, str(exc))
        return True
    state[_REFUSALS] = refusals
    journal.record("store.auth_refused", f"{exc} (refusal {refusals} in a row; the store is marked after "
                   f"{AUTH_REFUSALS_TO_MARK})", store_id=store_id, level="warning")
    return False


def auth_accepted(store_ids: list[int]) -> None:
    """The stores' credentials worked: their count of refusals in a row starts again."""
    for store_id in store_ids:
        state = DbState(store_id)
        if _REFUSALS in state:
            del state[_REFUSALS]


def mark_needs_reconnect(store_id: int, message: str) -> None:
    with db.session() as s:
        row = s.get(Store, store_id)
        if row is None or row.status == StoreStatus.DISCONNECTED:
            return
        row.status = StoreStatus.NEEDS_RECONNECT
        row.status_message = message
        s.add(row)
        s.exec(_jobs_of(store_id).values(paused=True))
        org_id = row.org_id
    forget_connection(store_id)
    journal.record("store.needs_reconnect", message, org_id=org_id, store_id=store_id, level="warning")


def disconnect(store_ref: str | int, *, purge: bool = False) -> Store:
    """Stop a store's sync at once and delete its credentials; keep links and history unless
    ``purge``."""
    store = get_store(store_ref)
    sid = store.id
    assert sid is not None
    _unsubscribe_before_disconnect(store)
    with db.session() as s:
        row = s.get(Store, sid)
        assert row is not None
        row.status = StoreStatus.DISCONNECTED
        row.credentials_enc = None
        row.disconnected_at = utcnow()
        s.add(row)
        s.exec(_jobs_of(sid).values(paused=True, lease_owner=None, lease_until=None))
    forget_connection(sid)
    if purge:
        _purge(sid)
        journal.record("store.purged", f"store '{store.name}' and its history purged", org_id=store.org_id)
    else:
        journal.record("store.disconnected", f"store '{store.name}' disconnected; links kept",
                       org_id=store.org_id, store_id=sid)
    return store


def _unsubscribe_before_disconnect(store: Store) -> None:
    """Remove bridge's webhook subscriptions while the credentials still exist. A platform that
    cannot be reached does not stop the disconnect: the journal says what is left behind."""
    from bridge import subscriptions
    from bridge.errors import BridgeError

    if store.status == StoreStatus.DISCONNECTED:
        return
    try:
        removed = subscriptions.unsubscribe(store)
    except (BridgeError, Misconfigured) as exc:
        journal.record("store.webhooks_left", f"webhook subscriptions of '{store.name}' could not be "
                       f"removed ({exc}): delete them in the platform's admin", level="warning",
                       org_id=store.org_id, store_id=store.id)
        return
    if removed:
        journal.record("store.webhooks", f"{removed} webhook subscription(s) of '{store.name}' removed",
                       org_id=store.org_id, store_id=store.id)


def _purge(store_id: int) -> None:
    with db.session() as s:
        links = [o.id for o in s.exec(select(OrderLink).where(
            (OrderLink.channel_store_id == store_id) | (OrderLink.ecommerce_store_id == store_id)))]
        if links:
            s.exec(delete(TrackingPushRecord).where(TrackingPushRecord.order_link_id.in_(links)))  # type: ignore[attr-defined]
        s.exec(delete(OrderLink).where(
            (OrderLink.channel_store_id == store_id) | (OrderLink.ecommerce_store_id == store_id)))
        for table in (SkuLink, ListingLink, ProductMapping, CategoryRule, RefundRecord):
            s.exec(delete(table).where(table.channel_store_id == store_id))  # type: ignore[attr-defined]
        s.exec(delete(SyncCursor).where(SyncCursor.store_id == store_id))
        s.exec(delete(KeyValue).where(KeyValue.store_id == store_id))
        runs = [r.id for r in s.exec(select(SyncRun).where(
            (SyncRun.store_id == store_id) | (SyncRun.channel_store_id == store_id)))]
        if runs:
            s.exec(delete(ItemError).where(ItemError.run_id.in_(runs)))  # type: ignore[attr-defined]
            s.exec(delete(SyncRun).where(SyncRun.id.in_(runs)))  # type: ignore[union-attr]
        s.exec(delete(Event).where(Event.store_id == store_id))
        s.exec(delete(Job).where((Job.store_id == store_id) | (Job.channel_store_id == store_id)))
        s.exec(delete(Store).where(Store.id == store_id))
