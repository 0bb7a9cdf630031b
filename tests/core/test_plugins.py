"""Discovery, validation, dispatch to one platform, wrappers, capabilities."""

from __future__ import annotations

import types

import pytest

from bridge import hookimpl
from bridge.connection import AppContext, Connection
from bridge.errors import Unsupported
from bridge.models import PlatformInfo
from bridge.plugins import PluginManager
from tests.conftest import fake_manager


def _module(name: str, **attrs: object) -> types.ModuleType:
    mod = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(mod, k, v)
    return mod


def test_capabilities_are_the_implemented_operations():
    pm = fake_manager()
    shop = pm.plugins["fakeshop"]
    assert shop.status == "ok"
    assert "create_order" in shop.capabilities and "create_listing" not in shop.capabilities
    ch = pm.plugins["fakechannel"]
    assert "push_tracking" in ch.capabilities and "create_order" not in ch.capabilities


def test_missing_capability_names_platform_and_operation():
    pm = fake_manager()
    with pytest.raises(Unsupported, match="fakeshop does not support 'create_listing'"):
        pm.call("fakeshop", "create_listing", connection=None, listing=None)


def test_call_reaches_only_the_store_platform():
    pm = fake_manager()
    conn = Connection(platform="fakeshop", settings={}, credentials={}, app=AppContext("fakeshop"))
    # both fakes implement describe_platform/connect; the call must reach fakeshop only
    assert pm.call("fakeshop", "describe_platform").name == "fakeshop"
    assert pm.call("fakechannel", "describe_platform").name == "fakechannel"
    assert conn.platform == "fakeshop"


def test_wrapper_plugin_sees_every_platform_call():
    pm = fake_manager()
    seen: list[str] = []

    class Audit:
        @hookimpl(wrapper=True)
        def describe_platform(self):  # type: ignore[no-untyped-def]
            result = yield
            seen.append(result.name)
            return result

    pm.register(Audit(), name="audit")
    pm.call("fakeshop", "describe_platform")
    pm.call("fakechannel", "describe_platform")
    assert seen == ["fakeshop", "fakechannel"]


def test_invalid_hook_signature_is_reported_and_others_work():
    pm = fake_manager()

    @hookimpl
    def connect(connection, surprise):  # type: ignore[no-untyped-def]
        return None

    bad = _module("badplugin", connect=connect)
    entry = pm.register(bad, name="badplugin")
    assert entry.status == "error" and "surprise" in entry.error
    assert pm.plugins["fakeshop"].status == "ok"


def test_misspelt_hook_is_reported():
    pm = fake_manager()

    @hookimpl
    def describe_platfrom():  # type: ignore[no-untyped-def]
        return None

    entry = pm.register(_module("typo", describe_platfrom=describe_platfrom), name="typo")
    assert entry.status == "error" and "describe_platfrom" in entry.error


def test_a_name_of_the_contract_package_that_is_no_hook_is_refused():
    """``bridge.hookspecs`` holds its area modules and helpers too: ``orders`` is not a hook."""
    pm = fake_manager()

    @hookimpl
    def orders():  # type: ignore[no-untyped-def]
        return None

    entry = pm.register(_module("areas", orders=orders), name="areas")
    assert entry.status == "error" and "unknown hook(s) orders" in entry.error


def test_platform_without_connect_is_refused():
    pm = PluginManager(load_entrypoints=False)

    @hookimpl
    def describe_platform():  # type: ignore[no-untyped-def]
        return PlatformInfo(name="half", kind="ecommerce", display_name="Half")

    entry = pm.register(_module("half", describe_platform=describe_platform), name="half")
    assert entry.status == "error" and "connect" in entry.error
    assert pm.platforms() == []


def test_broken_entry_point_is_reported_by_name(monkeypatch):
    from importlib import metadata

    good = metadata.EntryPoint(name="fakeshop", value="tests.fakes.fake_ecommerce", group="bridge")
    broken = metadata.EntryPoint(name="broken", value="tests.fakes.does_not_exist", group="bridge")
    monkeypatch.setattr(metadata, "entry_points", lambda group: [good, broken])
    pm = PluginManager()
    assert pm.plugins["broken"].status == "error"
    assert "does_not_exist" in pm.plugins["broken"].error
    assert [p.name for p in pm.platforms()] == ["fakeshop"]


def test_bridge_plugins_env_limits_loading(monkeypatch):
    from importlib import metadata

    eps = [metadata.EntryPoint(name="fakeshop", value="tests.fakes.fake_ecommerce", group="bridge"),
           metadata.EntryPoint(name="fakechannel", value="tests.fakes.fake_channel", group="bridge")]
    monkeypatch.setattr(metadata, "entry_points", lambda group: eps)
    monkeypatch.setenv("BRIDGE_PLUGINS", "fakechannel")
    assert [p.name for p in PluginManager().platforms()] == ["fakechannel"]
    monkeypatch.setenv("BRIDGE_PLUGINS", "")
    assert PluginManager().platforms() == []


def test_on_sync_event_reaches_listeners_and_a_failing_one_breaks_nothing(fake_pm):
    from bridge import journal

    seen: list[tuple[str, str]] = []

    class Listener:
        @hookimpl
        def on_sync_event(self, event):  # type: ignore[no-untyped-def]
            seen.append((event.kind, event.data.get("access_token", "")))

    class Broken:
        @hookimpl
        def on_sync_event(self, event):  # type: ignore[no-untyped-def]
            raise RuntimeError("listener bug")

    fake_pm.register(Broken(), name="broken-listener")
    fake_pm.register(Listener(), name="listener")
    journal.record("listing.created", "made", item="p1", data={"access_token": "tok-123"})
    assert seen == [("listing.created", "***")]
    assert [e.kind for e in journal.entries(kind="listing.")] == ["listing.created"]


def test_a_failing_listener_called_first_does_not_keep_the_event_from_the_others(fake_pm, caplog):
    from bridge import journal

    seen: list[str] = []

    class Listener:
        @hookimpl
        def on_sync_event(self, event):  # type: ignore[no-untyped-def]
            seen.append(event.kind)

    class Broken:
        @hookimpl
        def on_sync_event(self, event):  # type: ignore[no-untyped-def]
            raise RuntimeError("listener bug")

    fake_pm.register(Listener(), name="listener")
    fake_pm.register(Broken(), name="broken-listener")  # registered last: called first
    journal.record("listing.created", "made", item="p1")
    assert seen == ["listing.created"]
    assert "broken-listener" in caplog.text and "listener bug" in caplog.text


def test_on_sync_event_inside_a_transaction_is_told_after_the_commit(fake_pm):
    """A listener may read (or write) the database: it hears of an entry written within a
    flow's transaction only once that transaction has committed, and never of a rolled-back one."""
    from bridge import db, journal

    seen: list[tuple[str, int]] = []

    class Listener:
        @hookimpl
        def on_sync_event(self, event):  # type: ignore[no-untyped-def]
            seen.append((event.item, len(list(journal.entries(kind="listing.made")))))

    fake_pm.register(Listener(), name="reader")
    with db.session() as s:
        journal.record("listing.made", "one", item="p1", session=s)
        assert seen == []
    assert seen == [("p1", 1)]  # told once, and the entry is there to read
    with pytest.raises(RuntimeError), db.session() as s:
        journal.record("listing.made", "two", item="p2", session=s)
        raise RuntimeError("the write failed")
    assert seen == [("p1", 1)]
    assert len(list(journal.entries(kind="listing.made"))) == 1


def test_record_many_writes_a_batch_in_order_and_tells_the_listeners_of_each(fake_pm):
    """A page of a flow's actions is journalled in one statement: every entry is kept (secrets
    scrubbed) and each listener hears of each, in order, once it is written."""
    from bridge import journal

    seen: list[tuple[str, int]] = []

    class Listener:
        @hookimpl
        def on_sync_event(self, event):  # type: ignore[no-untyped-def]
            seen.append((event.item, len(list(journal.entries(kind="products.create")))))

    fake_pm.register(Listener(), name="reader")
    journal.record_many([journal.Entry("products.create", f"new {i}", org_id=1, flow="products", item=f"p{i}",
                                       data={"api_key": "secret", "n": i}) for i in range(3)])
    assert seen == [("p0", 3), ("p1", 3), ("p2", 3)]
    rows = list(reversed(list(journal.entries(kind="products.create"))))
    assert [(r.item, r.message, r.data) for r in rows] == [
        (f"p{i}", f"new {i}", {"api_key": "***", "n": i}) for i in range(3)]
