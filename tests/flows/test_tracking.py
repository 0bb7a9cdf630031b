"""The tracking flow on the fake pair: once per package, carrier mapping, held pushes."""

from __future__ import annotations

from sqlmodel import select

from bridge import db, hookimpl
from bridge.errors import Misconfigured
from bridge.models import Tracking
from bridge.tables import CarrierMapping, OrderLink, TrackingPushRecord
from tests.flows.conftest import Flows


def _order(flows: Flows) -> tuple[str, str]:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 1)])
    flows.run("orders")
    return oid, flows.shop.orders()[0].remote_id


def test_tracking_is_pushed_once(flows: Flows) -> None:
    oid, eid = _order(flows)
    flows.shop.fulfill_order(eid, Tracking(number="RM123456789GB", carrier="Royal Mail"))
    r = flows.run("tracking")
    assert r.counts["pushed"] == 1
    pkg = flows.channel.order(oid)["packages"][0]
    assert pkg["tracking"] == "RM123456789GB"
    assert pkg["provider"] == "P-RM"
    with db.session() as s:
        assert s.exec(select(OrderLink)).one().status == "shipped"
    flows.reset_stats()
    r = flows.run("tracking")
    assert flows.writes() == 0


def test_unmapped_carrier_is_held_then_pushed_after_mapping(flows: Flows) -> None:
    oid, eid = _order(flows)
    flows.shop.fulfill_order(eid, Tracking(number="ZX1", carrier="Speedy Parcels"))
    r = flows.run("tracking")
    assert r.status == "partial"
    assert "Speedy Parcels" in r.errors[0][1]
    assert "bridge map carrier" in r.errors[0][1]
    with db.session() as s:
        rec = s.exec(select(TrackingPushRecord)).one()
    assert rec.status == "held"
    flows.reset_stats()
    flows.run("tracking")  # nothing changed: no new attempt
    assert flows.writes() == 0
    with db.session() as s:
        s.add(CarrierMapping(org_id=flows.org_id, carrier="speedy parcels", provider_id="P-DPD"))
    r = flows.run("tracking")
    assert r.counts["pushed"] == 1
    assert flows.channel.order(oid)["packages"][0]["provider"] == "P-DPD"


def test_store_without_tracking_holds_the_push_with_a_clear_error(flows: Flows) -> None:
    oid, eid = _order(flows)

    class NoTracking:
        @hookimpl(wrapper=True)
        def list_fulfillments(self, connection, order_ids):  # type: ignore[no-untyped-def]
            yield
            raise Misconfigured("install a shipment tracking plugin in the store")

    flows.pair.pm.register(NoTracking(), name="no-tracking")
    flows.pair.pm._callers.clear()
    r = flows.run("tracking")
    assert r.status == "partial"
    assert r.errors == [(oid, "tracking cannot be read from the eCommerce store: install a shipment "
                               "tracking plugin in the store")]
    with db.session() as s:
        assert "shipment tracking plugin" in (s.exec(select(OrderLink)).one().message or "")


def test_plan_shows_the_push_without_making_it(flows: Flows) -> None:
    oid, eid = _order(flows)
    flows.shop.fulfill_order(eid, Tracking(number="RM1", carrier="Royal Mail"))
    flows.reset_stats()
    r = flows.run("tracking", dry_run=True)
    assert flows.writes() == 0
    assert r.plan == [{"action": "push", "item": oid, "why": "carrier 'Royal Mail' matched by name on the channel",
                       "tracking_number": "RM1", "package": f"PKG-{oid}", "provider_id": None}]


def test_order_with_the_channels_own_label_is_shipped_without_a_push(flows: Flows) -> None:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 1)], label_by="platform")
    assert flows.run("orders").counts["created"] == 1  # the seller ships it: created in the store
    eid = flows.shop.orders()[0].remote_id
    assert flows.run("tracking").counts.get("label_by_channel", 0) == 0  # not fulfilled yet
    flows.shop.fulfill_order(eid, Tracking(number="TT-LABEL-1", carrier="TikTok Shipping"))
    flows.reset_stats()
    r = flows.run("tracking")
    assert r.status == "ok" and r.counts["label_by_channel"] == 1 and flows.writes() == 0
    assert flows.channel.order(oid)["packages"][0]["tracking"] is None  # nothing pushed, no error
    with db.session() as s:
        assert s.exec(select(OrderLink)).one().status == "shipped"


def test_a_fulfilment_without_carrier_says_so_and_is_pushed_once_the_carrier_is_set(flows: Flows) -> None:
    from bridge.tables import Event

    oid, eid = _order(flows)
    flows.shop.fulfill_order(eid, Tracking(number="NC0001", carrier=""))
    r = flows.run("tracking")
    assert r.status == "partial"
    [(item, message)] = r.errors
    assert item == oid and "has tracking number NC0001 but no carrier" in message
    assert "set the carrier on the fulfilment in the store" in message
    assert 'map carrier ""' not in message
    with db.session() as s:
        assert s.exec(select(TrackingPushRecord)).first() is None  # nothing claimed, nothing pushed
        texts = [e.message for e in s.exec(select(Event))]
    assert not [t for t in texts if "carrier ''" in t], texts
    flows.shop.orders_[eid]["fulfillments"][0]["carrier"] = "Royal Mail"  # the merchant sets it
    r = flows.run("tracking")
    assert r.counts["pushed"] == 1
    assert flows.channel.order(oid)["packages"][0]["provider"] == "P-RM"


def test_a_held_push_is_tried_again_when_the_carrier_changes(flows: Flows) -> None:
    oid, eid = _order(flows)
    flows.shop.fulfill_order(eid, Tracking(number="ZX2", carrier="Speedy Parcels"))
    assert flows.run("tracking").status == "partial"
    flows.shop.orders_[eid]["fulfillments"][0]["carrier"] = "DPD"  # corrected in the store
    r = flows.run("tracking")
    assert r.counts["pushed"] == 1
    assert flows.channel.order(oid)["packages"][0]["provider"] == "P-DPD"
