"""A category's rules and usable brands on one channel store, read once per run (the channel
plugin caches them across runs too)."""

from __future__ import annotations

import threading
from typing import Any

from bridge.models import Brand, CategoryRules


class CategoryFacts:
    """``rules(category_id)`` and ``brands(category_id)`` through a channel's typed reader
    (:class:`bridge.facade.StoreReader`); a channel without the operation answers None / no
    brands."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.lock = threading.Lock()
        self._rules: dict[str, CategoryRules | None] = {}
        self._brands: dict[str, list[Brand]] = {}
        self.has_rules = reader.has("category_rules")
        self.has_brands = reader.has("list_brands")

    def rules(self, category_id: str) -> CategoryRules | None:
        if not self.has_rules or not category_id:
            return None
        with self.lock:
            if category_id in self._rules:
                return self._rules[category_id]
        got = self.reader.category_rules(category_id)
        with self.lock:
            self._rules[category_id] = got
        return got

    def brands(self, category_id: str) -> list[Brand]:
        if not self.has_brands:
            return []
        with self.lock:
            if category_id in self._brands:
                return self._brands[category_id]
        got = list(self.reader.list_brands(category_id) or [])
        with self.lock:
            self._brands[category_id] = got
        return got
