"""Bulk operations in the sandbox: ``bulkOperationRunQuery`` → a JSONL file served over HTTP.

The query is validated against the schema and Shopify's bulk rules (at least one connection, at
most five, nesting at most two levels), executed over the whole store, and flattened the way
Shopify writes results: one object per line, nested connection nodes on their own lines with
``__parentId``, each parent before its children.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from typing import Any

from graphql import FieldNode, execute

from bridge_shopify.sandbox.schema import operation, parse_and_validate, schema
from bridge_shopify.sandbox.state import gid, iso, now


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
    """The store's bulk query operations and their result files."""

    def __init__(self, running_polls: int = 0) -> None:
        self.lock = threading.Lock()
        self.ops: dict[str, dict[str, Any]] = {}
        self.dir = tempfile.mkdtemp(prefix="shopify-sandbox-bulk-")
        self.running_polls = running_polls
        self._next = 0

    def run(self, query: str, ctx: Any) -> dict[str, Any]:
        from bridge_shopify.sandbox.root import root_value

        def fail(message: str, code: str = "INVALID") -> dict[str, Any]:
            return {"bulkOperation": None,
                    "userErrors": [{"field": ["query"], "message": message, "code": code}]}

        with self.lock:
            if any(op["status"] in ("CREATED", "RUNNING") for op in self.ops.values()):
                return fail("A bulk query operation for this app and shop is already in progress.",
                            "OPERATION_IN_PROGRESS")
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
            self._next += 1
            op_id = gid("BulkOperation", 7_000_000 + self._next)
            op = {"id": op_id, "num": self._next, "status": "RUNNING", "createdAt": iso(now()),
                  "completedAt": None, "query": query, "objectCount": 0, "rootObjectCount": 0,
                  "fileSize": 0, "path": None, "polls": 0,
                  "base_url": ctx.extra.get("base_url", "")}
            self.ops[op_id] = op
        result = execute(schema(), ast, root_value=root_value(ctx))
        if result.errors:
            op.update(status="FAILED", errorCode="INTERNAL_SERVER_ERROR", completedAt=iso(now()))
        else:
            self._write(op, result.data or {})
        return {"bulkOperation": self.view(op_id, count_poll=False), "userErrors": []}

    def _write(self, op: dict[str, Any], data: dict[str, Any]) -> None:
        path = os.path.join(self.dir, f"{op['num']}.jsonl")
        objects = roots = 0
        with open(path, "w", encoding="utf-8") as fh:
            def emit(node: dict[str, Any], parent: str | None) -> None:
                nonlocal objects
                line: dict[str, Any] = {}
                children = []
                for key, value in node.items():
                    if isinstance(value, dict) and isinstance(value.get("edges"), list):
                        children.append(value["edges"])
                    else:
                        line[key] = value
                if parent:
                    line["__parentId"] = parent
                fh.write(json.dumps(line, separators=(",", ":")) + "\n")
                objects += 1
                for edges in children:
                    for edge in edges:
                        emit(edge.get("node") or {}, node.get("id"))

            for value in data.values():
                for edge in (value or {}).get("edges") or []:
                    roots += 1
                    emit(edge.get("node") or {}, None)
        op.update(status="COMPLETED", completedAt=iso(now()), path=path, objectCount=objects,
                  rootObjectCount=roots, fileSize=os.path.getsize(path))

    def view(self, op_id: str, count_poll: bool = True) -> dict[str, Any] | None:
        op = self.ops.get(op_id)
        if op is None:
            return None
        status = op["status"]
        if count_poll:
            op["polls"] += 1
        if status == "COMPLETED" and op["polls"] <= self.running_polls:
            status = "RUNNING"
        done = status == "COMPLETED"
        url = f"{op['base_url']}/bulk/{op['num']}.jsonl" if done and op["objectCount"] else None
        return {"__typename": "BulkOperation", "id": op["id"], "status": status,
                "errorCode": op.get("errorCode"), "createdAt": op["createdAt"],
                "completedAt": op["completedAt"] if done else None, "query": op["query"],
                "type": "QUERY", "objectCount": str(op["objectCount"] if done else 0),
                "rootObjectCount": str(op["rootObjectCount"] if done else 0),
                "fileSize": str(op["fileSize"]) if done else None, "url": url, "partialDataUrl": None}

    def current(self) -> dict[str, Any] | None:
        if not self.ops:
            return None
        return self.view(list(self.ops)[-1], count_poll=False)

    def path(self, num: int) -> str | None:
        for op in self.ops.values():
            if op["num"] == num and op["status"] == "COMPLETED":
                return op["path"]
        return None
