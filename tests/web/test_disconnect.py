"""Disconnecting from the admin pages unsubscribes at the platform while the credentials still
exist: the sandboxes of the installed plugins (not the fakes) hold no subscription afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlmodel import select

from bridge import db
from bridge.plugins import PluginManager, set_manager
from bridge.tables import Event, Store
from tests.e2e.harness import Harness, skip_unless_installed
from tests.web.conftest import make_user


@pytest.fixture()
def pm() -> Iterator[PluginManager]:
    """The installed plugins (the web fixtures' ``app`` serves them): their sandboxes hold
    webhook subscriptions as the platforms do."""
    manager = PluginManager(load_entrypoints=True)
    set_manager(manager)
    yield manager
    set_manager(None)


def test_disconnect_from_the_admin_pages_removes_the_subscriptions_at_the_platform(pm, signed_in, monkeypatch):
    skip_unless_installed(pm, "shopify")
    public = "http://127.0.0.1:8765"
    monkeypatch.setenv("BRIDGE_PUBLIC_URL", public)
    with ExitStack() as stack:
        h = Harness("shopify", stack, monkeypatch.setenv, pm=pm)  # connecting subscribes
        make_user("ann@acme.test", ["E2E"])
        ann = signed_in("ann@acme.test")
        for store, sb in ((h.eco_store, h.eco), (h.shop, h.tt)):
            address = f"{public}/webhooks/{store.platform}/{store.id}"
            assert {s.address for s in sb.subscriptions()} == {address}, store.platform
            assert "confirm-disconnect" in ann.get(f"/stores/{store.id}/disconnect").text
            done = ann.form(f"/stores/{store.id}/disconnect", {"confirm": store.name}, follow_redirects=True)
            assert done.status_code == 200 and "disconnected" in done.text
            assert sb.subscriptions() == [], f"{store.platform} still holds bridge's subscriptions"
            with db.session() as s:
                row = s.get(Store, store.id)
                assert row.status == "disconnected" and row.credentials_enc is None  # type: ignore[union-attr]
                removed = s.exec(select(Event).where(Event.kind == "store.webhooks",
                                                     Event.store_id == store.id)).all()
            assert any("removed" in e.message for e in removed), [e.message for e in removed]
