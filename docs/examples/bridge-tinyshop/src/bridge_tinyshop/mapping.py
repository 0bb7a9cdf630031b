"""Tiny Shop JSON -> bridge models (raw platform JSON never leaves this module and the client)."""

from __future__ import annotations

from typing import Any

from bridge.models import Fulfillment, Money, Order, OrderLine, Product, Tracking, Variant

STATUS = {"paid": "processing", "fulfilled": "completed", "cancelled": "cancelled"}


def product(p: dict[str, Any]) -> Product:
    return Product(remote_id=p["id"], title=p["title"], options=["Size"], variants=[
        Variant(remote_id=v["id"], sku=v["sku"], title=v["size"], options={"Size": v["size"]},
                price=Money(amount=v["price"], currency="GBP"), quantity=v["available"])
        for v in p["variants"]])


def order(o: dict[str, Any]) -> Order:
    cur = o.get("currency", "GBP")
    return Order(remote_id=o["id"], status=STATUS.get(o["status"], "other"), currency=cur,  # type: ignore[arg-type]
                 source_order_id=o.get("source_order_id"), buyer_email=o.get("email"), buyer_name=o.get("name"),
                 lines=[OrderLine(remote_id=f"{o['id']}-{i}", variant_id=ln["variant_id"], quantity=ln["quantity"],
                                  unit_price=Money(amount=ln["price"], currency=cur))
                        for i, ln in enumerate(o["lines"])],
                 shipping=Money(amount=o["shipping"], currency=cur), total=Money(amount=o["total"], currency=cur))


def fulfillment(order_id: str, f: dict[str, Any]) -> Fulfillment:
    return Fulfillment(remote_id=f["id"], order_id=order_id,
                       tracking=[Tracking(number=f["tracking_number"], carrier=f.get("carrier") or "",
                                          url=f.get("url"))])
