"""The listings flow follows products through the channel's review."""

from __future__ import annotations

from sqlmodel import select

from bridge import db, journal
from bridge.sync import run_flow
from bridge.tables import ListingLink


def test_waiting_listings_take_the_channel_status(fake_pair):
    ch = fake_pair.channel_store
    sb = fake_pair.channel
    for pid, status in (("TP1", "live"), ("TP2", "failed")):
        sb.products_[pid] = {"id": pid, "status": status, "skus": [], "title": pid}
    with db.session() as s:
        s.add(ListingLink(channel_store_id=ch.id, source_product_id="p1", remote_product_id="TP1",
                          status="pending"))
        s.add(ListingLink(channel_store_id=ch.id, source_product_id="p2", remote_product_id="TP2",
                          status="draft"))
        s.add(ListingLink(channel_store_id=ch.id, source_product_id="p3", remote_product_id="TP3",
                          status="live"))
    sb.stats.reset()
    [plan] = run_flow("listings", fake_pair.org.id, dry_run=True, pm=fake_pair.pm)
    assert sorted(d["item"] for d in plan.plan) == ["p1", "p2"]
    assert sb.stats.writes == 0
    with db.session() as s:
        assert {lk.source_product_id: lk.status for lk in s.exec(select(ListingLink))} == {
            "p1": "pending", "p2": "draft", "p3": "live"}
    [result] = run_flow("listings", fake_pair.org.id, pm=fake_pair.pm)
    assert result.counts["updated"] == 2 and sb.stats.writes == 0
    with db.session() as s:
        assert {lk.source_product_id: lk.status for lk in s.exec(select(ListingLink))} == {
            "p1": "live", "p2": "failed", "p3": "live"}
    assert [e.item for e in journal.entries(kind="listing.failed")] == ["p2"]
    [again] = run_flow("listings", fake_pair.org.id, pm=fake_pair.pm)
    assert again.counts.get("updated", 0) == 0
