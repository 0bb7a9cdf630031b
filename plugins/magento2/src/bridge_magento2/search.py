"""searchCriteria query strings for Magento's ``getList`` endpoints.

Filters inside one group are OR-ed, groups are AND-ed. Bridge always sends an explicit
``pageSize`` (Magento returns *everything* without one) and a deterministic sort on
``entity_id`` ASC so rows cannot shift between pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The largest page Magento accepts when its optional input limits are on.
MAX_PAGE_SIZE = 300


@dataclass(frozen=True)
class Filter:
    field: str
    value: str = ""
    condition: str = "eq"


@dataclass
class Criteria:
    """One search: AND-ed groups of OR-ed filters, one sort, a page size."""

    groups: list[list[Filter]] = field(default_factory=list)
    sort_field: str = "entity_id"
    sort_direction: str = "ASC"
    page_size: int = 100

    def where(self, field_name: str, value: str = "", condition: str = "eq") -> Criteria:
        """AND one more single-filter group; returns self for chaining."""
        self.groups.append([Filter(field_name, value, condition)])
        return self

    def params(self, page: int) -> list[tuple[str, str]]:
        """The query parameters for ``page`` (1-based)."""
        out: list[tuple[str, str]] = []
        for g, group in enumerate(self.groups):
            for f, flt in enumerate(group):
                prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
                out.append((f"{prefix}[field]", flt.field))
                if flt.condition not in ("null", "notnull"):
                    out.append((f"{prefix}[value]", flt.value))
                else:
                    out.append((f"{prefix}[value]", "1"))
                out.append((f"{prefix}[condition_type]", flt.condition))
        out.append(("searchCriteria[sortOrders][0][field]", self.sort_field))
        out.append(("searchCriteria[sortOrders][0][direction]", self.sort_direction))
        out.append(("searchCriteria[pageSize]", str(min(self.page_size, MAX_PAGE_SIZE))))
        out.append(("searchCriteria[currentPage]", str(page)))
        return out


def ids_in(values: list[str] | list[int]) -> str:
    """The comma-separated value of an ``in`` filter."""
    return ",".join(str(v) for v in values)
