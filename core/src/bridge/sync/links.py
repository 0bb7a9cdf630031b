"""Link bookkeeping shared by the flows: claiming a write before making it, recording outcomes.

The claim pattern keeps every write keyed: a row (listing link, order link, tracking push) is
inserted or moved to ``creating`` *before* the platform call, under a unique constraint and a
conditional UPDATE, so two workers never both make the call, and a crash leaves a ``creating``
row that the next run resolves (by the plugin's idempotent lookup) before trying again.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import tempfile
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, delete, select

from bridge import db
from bridge.models import ListingResult, ListingSku
from bridge.tables import ListingLink, SkuLink, utcnow

#: A ``creating`` claim older than this is taken to be a crashed worker's and may be resumed.
STALE_CLAIM = timedelta(minutes=5)
T = TypeVar("T", bound=SQLModel)


def worker_id() -> str:
    """This process, as written into a claim: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(marker: str | None) -> bool:
    """True when a claim's worker is a process of this host that no longer runs."""
    if not marker or ":" not in marker:
        return False
    host, _, pid = marker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(model: type[T], row_id: int, *, owner_field: str, to: str = "creating") -> bool:
    """Move a row to ``to`` (writing this worker into ``owner_field``) unless another live worker
    holds a fresh claim; True when this worker now holds it. A claim older than
    :data:`STALE_CLAIM`, or one whose process on this host has died, may be taken over."""
    now = utcnow()
    with db.session() as s:
        row = s.get(model, row_id)
        if row is None:
            return False
        status, stamp = row.status, row.updated_at  # type: ignore[attr-defined]
        marker = getattr(row, owner_field)
        if isinstance(marker, list):
            marker = marker[0] if marker else None
        if stamp is not None and stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=now.tzinfo)
        if status == to and stamp > now - STALE_CLAIM and not _dead(marker):
            return False
        me = worker_id()
        res = s.exec(  # type: ignore[call-overload]
            update(model).where(model.id == row_id,  # type: ignore[attr-defined]
                                model.updated_at == row.updated_at)  # type: ignore[attr-defined]
            .values(status=to, updated_at=now,
                    **{owner_field: [me] if isinstance(getattr(row, owner_field), list) else me})
        )
        return res.rowcount == 1


def insert_claimed(row: T) -> T | None:
    """Insert a new ``creating`` row; None when a concurrent worker inserted the same key."""
    try:
        with db.session() as s:  # defaults are set in Python and the key comes back from the
            s.add(row)           # insert: nothing to read back
        return row
    except IntegrityError:
        return None


def save(row: T, **values: Any) -> T:
    """Set ``values`` on ``row`` and store it (its own transaction)."""
    with db.session() as s:
        return save_in(s, row, **values)


def save_in(s: Session, row: T, **values: Any) -> T:
    """:func:`save` within the caller's transaction."""
    for k, v in values.items():
        setattr(row, k, v)
    if hasattr(row, "updated_at"):
        row.updated_at = utcnow()  # type: ignore[attr-defined]
    return s.merge(row)


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
        rows = {r.source_variant_id: r for r in s.exec(select(SkuLink).where(
            SkuLink.channel_store_id == channel_store_id, SkuLink.source_product_id == product_id))}
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
        if new:
            s.execute(insert(SkuLink), new)
        gone = [vid for vid in rows if vid not in keep]
        if gone:
            s.exec(delete(SkuLink).where(SkuLink.channel_store_id == channel_store_id,  # type: ignore[call-overload]
                                         SkuLink.source_product_id == product_id,
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
