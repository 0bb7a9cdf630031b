"""Bulk operations in the sandbox: ``bulkOperationRunQuery`` → a JSONL file served over HTTP.

As on Shopify, the mutation answers at once with the operation ``CREATED``; the export is built
in a background thread (``RUNNING``), then ``COMPLETED`` with its ``url``. The query is validated
against the schema and Shopify's bulk rules (at least one connection, at most five, nesting at
most two levels), executed over the whole store, and flattened the way Shopify writes results:
one object per line, nested connection nodes on their own lines with ``__parentId``, each parent
before its children. One query operation at a time per shop (``OPERATION_IN_PROGRESS`` while one
is ``CREATED``, ``RUNNING`` or ``CANCELING``), as before API 2026-01.

``bulkOperationCancel(id:)`` moves a ``CREATED`` or ``RUNNING`` operation to ``CANCELING``; it
becomes ``CANCELED`` once its build stops (at once while it waits to start, else when the
running query returns: the schema says "there may be a short delay"), and it keeps blocking a
new operation until then.

Options (:class:`BulkOperations`): ``running_polls`` (status polls that still report
``RUNNING`` after the export is built), ``delay`` (seconds an operation stays ``CREATED`` before
its build starts; :meth:`BulkOperations.release` starts the waiting builds at once), ``shuffle``
(the top-level objects of the file in a random order: the reference promises no order).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import threading
import time
from typing import Any

from graphql import ExecutionResult, FieldNode, execute

from bridge_shopify.sandbox.schema import operation, parse_and_validate, schema
from bridge_shopify.sandbox.state import gid, iso, now

#: Statuses of an operation that still holds the shop's one bulk query slot.
IN_PROGRESS = ("CREATED", "RUNNING", "CANCELING")


def _connections(selection_set: Any, depth: int = 0) -> list[int]:
    """Depths of every ``edges`` selection in a document (to check Shopify's bulk limits)."""
    found = []
    for sel in (selection_set.selections if selection_set else []):
        if isinstance(sel, FieldNode) and sel.name.value == "edges":
            found.append(depth)
            found += _connections(sel.selection_set, depth + 1)
        else:
            found += _connections(getattr(sel, "selection_set", None), depth)
    return found


class BulkOperations:
    """The store's bulk query operations, their background builds and result files."""

    def __init__(self, running_polls: int = 0, delay: float = 0.0, shuffle: bool = False,
                 seed: int = 0) -> None:
        self.lock = threading.Lock()
        self.ops: dict[str, dict[str, Any]] = {}
        self.dir = tempfile.mkdtemp(prefix="shopify-sandbox-bulk-")
        self.running_polls = running_polls
        self.delay = delay
        self.shuffle = shuffle
        self.rng = random.Random(seed)
        self._next = 0

    def run(self, query: str, ctx: Any) -> dict[str, Any]:
        """``bulkOperationRunQuery``: validate, answer ``CREATED`` and build in the background."""
        def fail(message: str, code: str = "INVALID") -> dict[str, Any]:
            return {"bulkOperation": None,
                    "userErrors": [{"field": ["query"], "message": message, "code": code}]}

        ast, errors = parse_and_validate(query)
        if ast is None:
            return fail("Invalid bulk query: " + "; ".join(e.message for e in errors))
        op_node = operation(ast, None)
        depths = _connections(op_node.selection_set) if op_node else []
        if not depths:
            return fail("Bulk queries must contain at least one connection.")
        if len(depths) > 5 or max(depths) > 2:
            return fail("Bulk queries cannot contain more than 5 connections or nest more than "
                        "2 levels deep.")
        with self.lock:
            if any(op["status"] in IN_PROGRESS for op in self.ops.values()):
                return fail("A bulk query operation for this app and shop is already in progress.",
                            "OPERATION_IN_PROGRESS")
            self._next += 1
            op_id = gid("BulkOperation", 7_000_000 + self._next)
            op = {"id": op_id, "num": self._next, "status": "CREATED", "createdAt": iso(now()),
                  "completedAt": None, "query": query, "objectCount": 0, "rootObjectCount": 0,
                  "fileSize": 0, "path": None, "polls": 0, "go": threading.Event(),
                  "base_url": ctx.extra.get("base_url", "")}
            self.ops[op_id] = op
            answer = self._view(op, count_poll=False)
        threading.Thread(target=self._build, args=(op, ast, ctx), daemon=True,
                         name=f"shopify-sandbox-bulk-{op['num']}").start()
        return {"bulkOperation": answer, "userErrors": []}

    def _build(self, op: dict[str, Any], ast: Any, ctx: Any) -> None:
        from bridge_shopify.sandbox.root import root_value

        if self.delay:
            op["go"].wait(self.delay)
        with self.lock:
            if op["status"] == "CANCELING":
                op.update(status="CANCELED")
                return
            op["status"] = "RUNNING"
        try:
            result = execute(schema(), ast, root_value=root_value(ctx))
            assert isinstance(result, ExecutionResult)  # the resolvers are synchronous
            failed = bool(result.errors)
            lines = [] if failed else self._lines(result.data or {})
        except Exception:  # noqa: BLE001 - any error of the build is the operation's failure
            failed, lines = True, []
        with self.lock:
            if op["status"] == "CANCELING":
                op.update(status="CANCELED")
                return
            if failed:
                op.update(status="FAILED", errorCode="INTERNAL_SERVER_ERROR", completedAt=iso(now()))
                return
        path = os.path.join(self.dir, f"{op['num']}.jsonl")
        with open(path, "w", encoding="utf-8") as fh:
            for group in lines:
                fh.writelines(group)
        with self.lock:
            if op["status"] == "CANCELING":
                op.update(status="CANCELED")
                return
            op.update(status="COMPLETED", completedAt=iso(now()), path=path,
                      objectCount=sum(len(g) for g in lines), rootObjectCount=len(lines),
                      fileSize=os.path.getsize(path))

    def _lines(self, data: dict[str, Any]) -> list[list[str]]:
        """The file's lines, grouped by top-level object (each parent before its children)."""
        groups: list[list[str]] = []

        def emit(node: dict[str, Any], parent: str | None, out: list[str]) -> None:
            line: dict[str, Any] = {}
            children = []
            for key, value in node.items():
                if isinstance(value, dict) and isinstance(value.get("edges"), list):
                    children.append(value["edges"])
                else:
                    line[key] = value
            if parent:
                line["__parentId"] = parent
            out.append(json.dumps(line, separators=(",", ":")) + "\n")
            for edges in children:
                for edge in edges:
                    emit(edge.get("node") or {}, node.get("id"), out)

        for value in data.values():
            for edge in (value or {}).get("edges") or []:
                group: list[str] = []
                emit(edge.get("node") or {}, None, group)
                groups.append(group)
        if self.shuffle:
            self.rng.shuffle(groups)
        return groups

    def cancel(self, op_id: str) -> dict[str, Any]:
        """``bulkOperationCancel``: a ``CREATED`` or ``RUNNING`` operation starts canceling."""
        with self.lock:
            op = self.ops.get(op_id)
            if op is None:
                return {"bulkOperation": None,
                        "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}]}
            if op["status"] not in ("CREATED", "RUNNING"):
                return {"bulkOperation": self._view(op, count_poll=False), "userErrors": [{
                    "field": ["id"],
                    "message": f"A bulk operation cannot be canceled when it is {op['status'].lower()}"}]}
            op["status"] = "CANCELING"
            op["go"].set()  # a build still waiting to start stops at once
            return {"bulkOperation": self._view(op, count_poll=False), "userErrors": []}

    def clear(self) -> None:
        """Forget every operation (builds still waiting to start stop at once)."""
        with self.lock:
            for op in self.ops.values():
                if op["status"] in ("CREATED", "RUNNING"):
                    op["status"] = "CANCELING"
                op["go"].set()
            self.ops.clear()

    def release(self, wait: float = 0.0) -> None:
        """Start the builds waiting out ``delay`` now; with ``wait``, wait (up to that many
        seconds) until none is ``CREATED`` or ``RUNNING`` any more."""
        with self.lock:
            ops = list(self.ops.values())
        for op in ops:
            op["go"].set()
        deadline = time.monotonic() + wait
        while wait and time.monotonic() < deadline:
            with self.lock:
                if not any(op["status"] in IN_PROGRESS for op in self.ops.values()):
                    return
            time.sleep(0.01)

    def view(self, op_id: str, count_poll: bool = True) -> dict[str, Any] | None:
        with self.lock:
            op = self.ops.get(op_id)
            return None if op is None else self._view(op, count_poll)

    def _view(self, op: dict[str, Any], count_poll: bool) -> dict[str, Any]:
        status = op["status"]
        if status == "COMPLETED":
            if count_poll:
                op["polls"] += 1
            if op["polls"] <= self.running_polls:
                status = "RUNNING"  # built, but reported RUNNING for `running_polls` more polls
        done = status == "COMPLETED"
        url = f"{op['base_url']}/bulk/{op['num']}.jsonl" if done and op["objectCount"] else None
        return {"__typename": "BulkOperation", "id": op["id"], "status": status,
                "errorCode": op.get("errorCode"), "createdAt": op["createdAt"],
                "completedAt": op["completedAt"] if done else None, "query": op["query"],
                "type": "QUERY", "objectCount": str(op["objectCount"] if done else 0),
                "rootObjectCount": str(op["rootObjectCount"] if done else 0),
                "fileSize": str(op["fileSize"]) if done else None, "url": url, "partialDataUrl": None}

    def current(self) -> dict[str, Any] | None:
        with self.lock:
            if not self.ops:
                return None
            return self._view(list(self.ops.values())[-1], count_poll=False)

    def path(self, num: int) -> str | None:
        with self.lock:
            for op in self.ops.values():
                if op["num"] == num and op["status"] == "COMPLETED":
                    return op["path"]
        return None
