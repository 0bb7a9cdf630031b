"""The journal: every decision and write of the flows, and store events, in the ``events``
table; each also goes to the plugins' ``on_sync_event`` hook and to the log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import event
from sqlalchemy import insert as sa_insert
from sqlmodel import Session, col, select

from bridge import db
from bridge.http import SECRET_PARAM
from bridge.models import SyncEvent
from bridge.tables import Event, utcnow

log = logging.getLogger("bridge.journal")


def _scrub(data: dict[str, Any]) -> dict[str, Any]:
    """Drop secret-looking keys from journal data."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if SECRET_PARAM.search(k) and k not in ("tracking_number", "provider_id"):
            out[k] = "***"
        elif isinstance(v, dict):
            out[k] = _scrub(v)
        else:
            out[k] = v
    return out


def _entry(kind: str, message: str, org_id: int | None, store_id: int | None, flow: str | None,
           item: str | None, level: str, data: dict[str, Any] | None) -> tuple[dict[str, Any], SyncEvent]:
    """The ``events`` row of one entry (its columns) and what the listeners are told."""
    clean = _scrub(json.loads(json.dumps(data or {}, default=str)))
    at = utcnow()
    row = {"at": at, "kind": kind, "level": level, "org_id": org_id, "store_id": store_id, "flow": flow,
           "item": item, "message": message, "data": clean}
    return row, SyncEvent(kind=kind, org_id=org_id, store_id=store_id, flow=flow, item=item,
                          message=message, data=clean, at=at)


def _log(kind: str, item: str | None, message: str, level: str) -> None:
    getattr(log, "warning" if level in ("warning", "error") else "info")(
        "%s %s%s", kind, f"[{item}] " if item else "", message
    )


def record(
    kind: str,
    message: str = "",
    *,
    org_id: int | None = None,
    store_id: int | None = None,
    flow: str | None = None,
    item: str | None = None,
    level: str = "info",
    data: dict[str, Any] | None = None,
    session: Session | None = None,
) -> None:
    """Write one journal entry and tell the plugins (within ``session`` when given: the
    listeners hear of it once that transaction has committed)."""
    row, sync_event = _entry(kind, message, org_id, store_id, flow, item, level, data)
    if session is not None:
        session.connection().execute(sa_insert(Event), row)  # Core: an append needs no ORM work
        event.listen(session, "after_commit", lambda _s: _notify(sync_event), once=True)
    else:
        db.insert(Event, row)
    _log(kind, item, message, level)
    if session is None:
        _notify(sync_event)


def record_many(entries: Sequence[Entry]) -> None:
    """Write several journal entries in one statement (a page of a flow's actions), then tell
    the plugins of each, in order."""
    if not entries:
        return
    made = [_entry(e.kind, e.message, e.org_id, e.store_id, e.flow, e.item, e.level, e.data) for e in entries]
    with db.get_engine().begin() as conn:
        conn.execute(sa_insert(Event), [row for row, _ in made])
    for e, (_, sync_event) in zip(entries, made, strict=True):
        _log(e.kind, e.item, e.message, e.level)
        _notify(sync_event)


@dataclass(frozen=True)
class Entry:
    """One journal entry for :func:`record_many` (the arguments of :func:`record`)."""

    kind: str
    message: str = ""
    org_id: int | None = None
    store_id: int | None = None
    flow: str | None = None
    item: str | None = None
    level: str = "info"
    data: dict[str, Any] | None = None


def _notify(event: SyncEvent) -> None:
    from bridge.facade import on_sync_event
    from bridge.plugins import get_manager

    on_sync_event(get_manager(), event)  # each listener on its own: one failing fails no other


def entries(
    *,
    org_id: int | None = None,
    store_id: int | None = None,
    flow: str | None = None,
    kind: str | None = None,
    level: str | None = None,
    since: datetime | None = None,
    limit: int | None = 100,
) -> Iterator[Event]:
    """Journal entries, newest first, filtered."""
    with db.session() as s:
        q = select(Event)
        if org_id is not None:
            q = q.where(Event.org_id == org_id)
        if store_id is not None:
            q = q.where(Event.store_id == store_id)
        if flow:
            q = q.where(Event.flow == flow)
        if kind:
            q = q.where(col(Event.kind).startswith(kind))
        if level:
            q = q.where(Event.level == level)
        if since:
            q = q.where(Event.at >= since)
        q = q.order_by(col(Event.id).desc())
        if limit:
            q = q.limit(limit)
        yield from s.exec(q)


def export_jsonl(out: TextIO, **filters: Any) -> int:
    """Write the journal as JSON lines (oldest first); returns the count."""
    rows = list(entries(limit=None, **filters))
    for ev in reversed(rows):
        out.write(json.dumps(ev.model_dump(mode="json"), default=str) + "\n")
    return len(rows)
