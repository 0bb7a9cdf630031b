"""A channel's categories and brands: what a listing must name and carry to be accepted.
Read-only; plugins may cache the answers in ``connection.state``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bridge.connection import Connection
    from bridge.models import (
        Brand,
        Category,
        CategoryAttribute,
        CategoryRules,
    )


@hookspec(firstresult=True)
def list_categories(connection: Connection) -> list[Category]:
    """The channel's category tree, flattened (each with ``parent_id``, ``is_leaf``, ``path``).
    Plugins may cache it in ``connection.state``."""


@hookspec(firstresult=True)
def category_attributes(connection: Connection, category_id: str) -> list[CategoryAttribute]:
    """Attributes of a leaf category: required ones, allowed values, custom values allowed,
    sales attributes."""


@hookspec(firstresult=True)
def category_rules(connection: Connection, category_id: str) -> CategoryRules:
    """What a category demands beyond attributes (brand, package dimensions, size chart)."""


@hookspec(firstresult=True)
def recommend_category(connection: Connection, title: str, description: str) -> Category | None:
    """The channel's recommended leaf category for a product title, or None."""


@hookspec(firstresult=True)
def list_brands(connection: Connection, category_id: str | None) -> list[Brand]:
    """Brands usable in a category (``None``: all the shop may use), with ``authorized``
    telling whether the seller may list under each. Read-only; plugins may cache it."""
