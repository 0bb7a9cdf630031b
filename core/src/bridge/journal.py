"""The journal: every decision and write of the flows, and store events, in the ``events``
table; each also goes to the plugins' ``on_sync_event`` hook and to the log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import event
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
    """Write one journal entry and tell the plugins."""
    data = _scrub(json.loads(json.dumps(data or {}, default=str)))
    ev = Event(kind=kind, message=message, org_id=org_id, store_id=store_id, flow=flow, item=item,
               level=level, data=data)
    sync_event = SyncEvent(kind=kind, org_id=org_id, store_id=store_id, flow=flow, item=item,
                           message=message, data=data, at=utcnow())
    if session is not None:  # listeners hear of it once the caller's transaction has committed
        session.add(ev)
        event.listen(session, "after_commit", lambda _s: _notify(sync_event), once=True)
    else:
        db.insert(Event, ev.model_dump(exclude={"id"}))
    getattr(log, "warning" if level in ("warning", "error") else "info")(
        "%s %s%s", kind, f"[{item}] " if item else "", message
    )
    if session is None:
        _notify(sync_event)


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
