"""A category's rules and usable brands on one channel store, read once per run (the channel
plugin caches them across runs too)."""

from __future__ import annotations

import threading
from typing import Any

from bridge.models import Brand, CategoryRules


class CategoryFacts:
    """``rules(category_id)`` and ``brands(category_id)`` of ``channel``, through ``ctx.call``;
    a channel without the operation answers None / no brands."""

    def __init__(self, ctx: Any, channel: Any) -> None:
        self.ctx, self.channel = ctx, channel
        self.lock = threading.Lock()
        self._rules: dict[str, CategoryRules | None] = {}
        self._brands: dict[str, list[Brand]] = {}
        self.has_rules = ctx.has(channel, "category_rules")
        self.has_brands = ctx.has(channel, "list_brands")

    def rules(self, category_id: str) -> CategoryRules | None:
        if not self.has_rules or not category_id:
            return None
        with self.lock:
            if category_id in self._rules:
                return self._rules[category_id]
        got = self.ctx.call(self.channel, "category_rules", category_id=category_id)
        with self.lock:
            self._rules[category_id] = got
        return got

    def brands(self, category_id: str) -> list[Brand]:
        if not self.has_brands:
            return []
        with self.lock:
            if category_id in self._brands:
                return self._brands[category_id]
        got = list(self.ctx.call(self.channel, "list_brands", category_id=category_id) or [])
        with self.lock:
            self._brands[category_id] = got
        return got
