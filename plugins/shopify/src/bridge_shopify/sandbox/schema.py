"""The official Admin GraphQL schema, document validation and Shopify-style query cost.

``admin_schema_2025-01.json.gz`` is a byte-for-byte copy of Shopify's own introspection of the
Admin API 2025-01: repository ``Shopify/dev-mcp``, path ``data/admin_schema_2025-01.json.gz``,
commit ``714c83cc76f779038647a983cd4c99d0b9b9c38d`` (ISC licence, © Shopify Inc.); sha256
``1057c5bca68fafa831bad094d0c42a236eebc255d74347eca8f9d2670ff60608``.

Cost model (platform doc §3.1, Shopify Engineering's "calculated query cost"): scalars and enums
cost 0, an object 1, a connection ``2 + first × (cost of one node)``, a ``nodes(ids:)`` list one
node per id, a mutation field 10. The *requested* cost uses the page sizes asked for; the
*actual* cost walks the same selection over the data returned.
"""

from __future__ import annotations

import gzip
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_client_schema,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)
from graphql.utilities import value_from_ast_untyped

SCHEMA_FILE = Path(__file__).with_name("admin_schema_2025-01.json.gz")
SCHEMA_VERSION = "2025-01"
MUTATION_COST = 10
#: Page size assumed for a connection with no ``first``/``last`` (only bulk queries omit it).
UNBOUNDED_PAGE = 250

_lock = threading.Lock()
_schema: GraphQLSchema | None = None


def schema() -> GraphQLSchema:
    """The Admin schema, built once per process (about half a second)."""
    global _schema
    with _lock:
        if _schema is None:
            with gzip.open(SCHEMA_FILE) as fh:
                built = build_client_schema(json.load(fh)["data"])
            # Shopify's schema breaks one rule newer graphql-core checks on schemas (an
            # implementation field deprecated while its interface field is not); that rule is
            # about the schema, not documents, so it is recorded as checked.
            built._validation_errors = []  # noqa: SLF001
            _schema = built
        return _schema


@lru_cache(maxsize=512)
def parse_and_validate(document: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """Parse and validate a document against the schema (cached by its text)."""
    try:
        ast = parse(document)
    except GraphQLError as exc:
        return None, (exc,)
    errors = validate(schema(), ast)
    return (ast if not errors else None), tuple(errors)


def operation(ast: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in ast.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in ops if o.name and o.name.value == name), None)
    return ops[0] if len(ops) == 1 else None


class CostCalculator:
    """Computes requested (``data=None``) or actual (walking ``data``) cost of one operation."""

    def __init__(self, ast: DocumentNode, variables: dict[str, Any] | None) -> None:
        self.schema = schema()
        self.variables = variables or {}
        self.fragments = {d.name.value: d for d in ast.definitions
                          if isinstance(d, FragmentDefinitionNode)}

    def operation_cost(self, op: OperationDefinitionNode, data: Any = None, *,
                       actual: bool = False) -> int:
        if op.operation.value == "mutation":
            return MUTATION_COST * sum(1 for s in op.selection_set.selections
                                       if isinstance(s, FieldNode))
        return self._selection(op.selection_set, self.schema.query_type, data, actual)

    def _args(self, parent: Any, node: FieldNode) -> dict[str, Any]:
        return {arg.name.value: value_from_ast_untyped(arg.value, self.variables)
                for arg in node.arguments or ()}

    def _selection(self, selection_set: SelectionSetNode | None, parent: Any, data: Any,
                   actual: bool) -> int:
        if selection_set is None:
            return 0
        total = 0
        fragment_costs = []
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                total += self._field(sel, parent, data, actual)
            elif isinstance(sel, InlineFragmentNode | FragmentSpreadNode):
                if isinstance(sel, FragmentSpreadNode):
                    frag = self.fragments.get(sel.name.value)
                    if frag is None:
                        continue
                    cond, sub = frag.type_condition, frag.selection_set
                else:
                    cond, sub = sel.type_condition, sel.selection_set
                frag_type = self.schema.get_type(cond.name.value) if cond else parent
                fragment_costs.append(self._selection(sub, frag_type, data, actual))
        return total + (max(fragment_costs) if fragment_costs else 0)

    def _field(self, node: FieldNode, parent: Any, data: Any, actual: bool) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", {})
        if name.startswith("__") or name not in fields:
            return 0
        named = get_named_type(fields[name].type)
        if is_leaf_type(named):
            return 0
        key = node.alias.value if node.alias else name
        sub = data.get(key) if isinstance(data, dict) else None
        if actual and sub is None:
            return 0
        args = self._args(parent, node)
        if named.name.endswith("Connection") and isinstance(named, GraphQLObjectType):
            return 2 + self._connection(node, named, args, sub, actual)
        if name != "nodes" or "ids" not in args:
            first = sub[0] if isinstance(sub, list) and sub else (None if isinstance(sub, list) else sub)
            if actual and isinstance(sub, list) and not sub:
                return 1
            return 1 + self._selection(node.selection_set, named, first, actual)
        if actual or "ids" in args:
            items = sub if actual else [None] * len(args.get("ids") or [None])
            return sum(1 + self._selection(node.selection_set, named, item, actual)
                       for item in items)
        return 0

    def _connection(self, node: FieldNode, conn: GraphQLObjectType, args: dict[str, Any],
                    data: Any, actual: bool) -> int:
        node_type = get_named_type(conn.fields["nodes"].type) if "nodes" in conn.fields else None
        total = 0
        for sel in (node.selection_set.selections if node.selection_set else []):
            if not isinstance(sel, FieldNode) or sel.name.value not in ("nodes", "edges"):
                continue
            key = sel.alias.value if sel.alias else sel.name.value
            inner = sel.selection_set
            if sel.name.value == "edges":
                inner = next((s.selection_set for s in (inner.selections if inner else [])
                              if isinstance(s, FieldNode) and s.name.value == "node"), None)
            if actual:
                items = (data or {}).get(key) or []
                if sel.name.value == "edges":
                    items = [e.get("node") for e in items if isinstance(e, dict)]
                total += sum(1 + self._selection(inner, node_type, it, True) for it in items)
            else:
                size = args.get("first") or args.get("last") or UNBOUNDED_PAGE
                total += size * (1 + self._selection(inner, node_type, None, False))
        return total
