"""Link bookkeeping shared by the flows: claiming a write before making it, recording outcomes.

The claim pattern keeps every write keyed: a row (listing link, order link, refund record) is
inserted or moved to ``creating`` *before* the platform call, under a unique constraint and a
conditional UPDATE, so two workers never both make the call, and a crash leaves a ``creating``
row that the next run resolves (by the plugin's idempotent lookup) before trying again. Who
holds a claim, and until when, is in the row's ``claimed_by`` and ``claimed_until`` columns.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import tempfile
from collections.abc import Collection, Iterable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import CursorResult, bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, delete, select

from bridge import db
from bridge.models import ListingResult, ListingSku
from bridge.tables import ListingLink, SkuLink, utcnow

#: A ``creating`` claim older than this is taken to be a crashed worker's and may be resumed.
STALE_CLAIM = timedelta(minutes=5)
T = TypeVar("T", bound=SQLModel)


@cache
def _host() -> str:
    return socket.gethostname()


def worker_id() -> str:
    """This process, as written into a claim: ``host:pid`` (the host name asked once: a system
    call per claim showed in the products flow's profile)."""
    return f"{_host()}:{os.getpid()}"


def _dead(marker: str | None) -> bool:
    """True when a claim's worker is a process of this host that no longer runs."""
    if not marker or ":" not in marker:
        return False
    host, _, pid = marker.rpartition(":")
    if host != _host() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Claimable(Protocol):
    """A row whose write is claimed before it is made (listing, order and refund links)."""

    id: int | None
    status: str
    claimed_by: str | None
    claimed_until: datetime | None
    updated_at: datetime


C = TypeVar("C", bound=SQLModel)


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def claim(model: type[C], row_id: int, *, claimable: Collection[str], to: str = "creating") -> bool:
    """Move a row to ``to``, with this worker in ``claimed_by`` until ``now + STALE_CLAIM``;
    True when this worker now holds the claim.

    Taken only from a status in ``claimable`` (never for an item that is done), or from ``to``
    itself when the claim there is stale or its process on this host has died. One conditional
    UPDATE (on the row's ``updated_at``) decides a race between workers."""
    now = utcnow()
    with db.session() as s:
        row = cast("Claimable | None", s.get(model, row_id))
        if row is None:
            return False
        if row.status == to:
            until = _aware(row.claimed_until)
            if until is not None and until > now and not _dead(row.claimed_by):
                return False
        elif row.status not in claimable:
            return False
        table = cast(Any, model)
        res = s.execute(
            update(model).where(table.id == row_id, table.updated_at == row.updated_at)
            .values(status=to, updated_at=now, claimed_by=worker_id(), claimed_until=now + STALE_CLAIM))
        return cast(CursorResult[Any], res).rowcount == 1


def insert_claimed(row: T) -> T | None:
    """Insert a new row (a ``creating`` one is claimed by this worker); None when a concurrent
    worker inserted the same key."""
    if getattr(row, "status", None) == "creating" and hasattr(row, "claimed_by"):
        row.claimed_by = worker_id()
        row.claimed_until = utcnow() + STALE_CLAIM
    table = cast(Any, type(row)).__table__
    values = {c.name: getattr(row, c.name) for c in table.columns
              if not (c.primary_key and getattr(row, c.name) is None)}
    try:  # one plain INSERT (defaults are set in Python; the key comes back from the insert)
        with db.get_engine().begin() as conn:
            res = conn.execute(insert(table), values)
    except IntegrityError:
        return None
    if getattr(row, "id", None) is None and res.inserted_primary_key:
        row.id = res.inserted_primary_key[0]
    return row


def save(row: T, **values: Any) -> T:
    """Set ``values`` on ``row`` and store it (its own transaction)."""
    with db.session() as s:
        return save_in(s, row, **values)


def save_in(s: Session, row: T, **values: Any) -> T:
    """:func:`save` within the caller's transaction. A row leaving ``creating`` gives its claim
    up."""
    if values.get("status", "creating") != "creating" and hasattr(row, "claimed_by"):
        values = {"claimed_by": None, "claimed_until": None, **values}
    for k, v in values.items():
        setattr(row, k, v)
    if hasattr(row, "updated_at"):
        row.updated_at = utcnow()
    return s.merge(row)


_updates: dict[tuple[Any, ...], Any] = {}


def update_in(s: Session, row: T, **values: Any) -> T:
    """:func:`save_in` of a stored row by one UPDATE of ``values`` alone (no read back of the
    row as ``merge`` does; the statement built once per table and columns, run as a plain
    statement on the session's connection, outside the ORM's bulk-update bookkeeping); ``row``
    gets the values too."""
    table = cast(Any, type(row))
    row_id = getattr(row, "id", None)
    if row_id is None:
        return save_in(s, row, **values)
    if values.get("status", "creating") != "creating" and hasattr(row, "claimed_by"):
        values = {"claimed_by": None, "claimed_until": None, **values}
    if hasattr(row, "updated_at"):
        values["updated_at"] = utcnow()
    key = (table, tuple(values))
    stmt = _updates.get(key)
    if stmt is None:
        columns = table.__table__.c
        stmt = _updates[key] = update(table).where(table.id == bindparam("row_id")).values(
            {k: bindparam(f"v_{k}", type_=columns[k].type) for k in values})
    s.connection().execute(stmt, {"row_id": row_id, **{f"v_{k}": v for k, v in values.items()}})
    for k, v in values.items():
        setattr(row, k, v)
    return row


def listing_links(channel_store_id: int, product_ids: Iterable[str]) -> dict[str, ListingLink]:
    ids = list(product_ids)
    if not ids:
        return {}
    with db.session() as s:
        rows = s.exec(select(ListingLink).where(ListingLink.channel_store_id == channel_store_id,
                                                col(ListingLink.source_product_id).in_(ids)))
        return {r.source_product_id: r for r in rows}


def sku_links(channel_store_id: int, product_id: str) -> dict[str, SkuLink]:
    with db.session() as s:
        rows = s.exec(select(SkuLink).where(SkuLink.channel_store_id == channel_store_id,
                                            SkuLink.source_product_id == product_id))
        return {r.source_variant_id: r for r in rows}


@cache
def _sku_rows() -> Any:
    """The SKU links of one product (``cid``, ``pid``): built once, not per listing (building
    the ORM comparisons cost more than running the query)."""
    return select(SkuLink).where(col(SkuLink.channel_store_id) == bindparam("cid"),
                                 col(SkuLink.source_product_id) == bindparam("pid"))


def record_skus(channel_store_id: int, product_id: str, remote_product_id: str,
                skus: list[ListingSku], result: ListingResult | None,
                found: dict[str, str] | None = None, *, quantities: bool = True,
                session: Session | None = None) -> None:
    """Upsert the SKU links of a listed product with what was sent; drop vanished variants
    (within ``session`` when given, else in a transaction of its own)."""
    ids = dict(found or {})
    if result is not None:
        ids.update(result.sku_ids)
    keep = {s.source_variant_id for s in skus}
    with nullcontext(session) if session is not None else db.session() as s:
        rows = {r.source_variant_id: r for r in s.exec(_sku_rows(), params={"cid": channel_store_id,
                                                                            "pid": product_id})}
        now = utcnow()
        new: list[dict[str, Any]] = []
        for sku in skus:
            row = rows.get(sku.source_variant_id)
            if row is None:  # new links go in as one multi-row insert, not one ORM object each
                new.append({"channel_store_id": channel_store_id, "source_product_id": product_id,
                            "source_variant_id": sku.source_variant_id, "seller_sku": sku.seller_sku,
                            "remote_product_id": remote_product_id,
                            "remote_sku_id": ids.get(sku.seller_sku) or sku.remote_sku_id,
                            "last_quantity": sku.quantity if quantities else None,
                            "last_price": str(sku.price.amount), "updated_at": now})
                continue
            row.seller_sku = sku.seller_sku
            row.remote_product_id = remote_product_id
            row.remote_sku_id = ids.get(sku.seller_sku) or sku.remote_sku_id or row.remote_sku_id
            if quantities:
                row.last_quantity = sku.quantity
            row.last_price = str(sku.price.amount)
            row.updated_at = now
            s.add(row)
        if new:  # a plain multi-row INSERT on the session's connection (no ORM bulk bookkeeping)
            s.connection().execute(insert(SkuLink), new)
        gone = [vid for vid in rows if vid not in keep]
        if gone:
            s.execute(delete(SkuLink).where(col(SkuLink.channel_store_id) == channel_store_id,
                                            col(SkuLink.source_product_id) == product_id,
                                            col(SkuLink.source_variant_id).in_(gone)))


class SeenSet:
    """A set of ids kept on disk (SQLite in a temporary file), so memory stays flat."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="bridge-seen-", suffix=".sqlite")
        os.close(fd)
        self.db = sqlite3.connect(self.path)
        self.db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY)")

    def add_many(self, ids: Iterable[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", [(i,) for i in ids])

    def missing(self, ids: list[str]) -> list[str]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        found = {r[0] for r in self.db.execute(f"SELECT id FROM seen WHERE id IN ({marks})", ids)}
        return [i for i in ids if i not in found]

    def close(self) -> None:
        self.db.close()
        os.unlink(self.path)
