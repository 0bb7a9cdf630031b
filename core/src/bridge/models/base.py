"""The base of every model, and Money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

Kind = Literal["ecommerce", "channel"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class Money(_Model):
    """An amount in a currency. ``Money(amount="9.99", currency="GBP")``."""

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, v: Any) -> Any:
        if isinstance(v, float):
            return Decimal(repr(v))
        return v

    @field_validator("currency")
    @classmethod
    def _iso(cls, v: str) -> str:
        if len(v) != 3 or not v.isalpha():
            raise ValueError(f"currency must be a 3-letter ISO code, got {v!r}")
        return v.upper()

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
