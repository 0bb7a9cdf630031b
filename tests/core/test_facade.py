"""The typed facade has one method per hook, with the hook's arguments, their types and its return
type, and the read-only view has no operation that writes."""

from __future__ import annotations

import inspect

from bridge import facade, hookspecs

SPECS = hookspecs.SPECS
#: Operations that change something on the platform: only StoreWriter has them.
WRITES = {"update_inventory", "create_listing", "update_listing", "partial_edit_listing", "update_prices",
          "activate_listing", "deactivate_listing", "create_order", "cancel_order", "cancel_order_lines",
          "create_refund", "push_tracking", "register_webhooks", "delete_webhooks"}
#: The facade builds these arguments itself (the store's connection, the platform's app context).
IMPLICIT = {"connection", "app"}


def _facade_method(name: str) -> tuple[type, object]:
    spec = inspect.signature(SPECS[name])
    cls = facade.StoreWriter if "connection" in spec.parameters and "app" not in spec.parameters \
        else facade.PlatformApp
    return cls, getattr(cls, name, None)


def test_every_platform_operation_has_a_typed_method() -> None:
    for name in hookspecs.OPERATIONS:
        cls, method = _facade_method(name)
        assert method is not None, f"{cls.__name__}.{name} is missing: add it to bridge.facade"
        spec = inspect.signature(SPECS[name])
        sig = inspect.signature(method)  # type: ignore[arg-type]
        spec_args = [p for p in spec.parameters if p not in IMPLICIT]
        if cls is facade.PlatformApp and "connection" in spec.parameters:
            spec_args = [p for p in spec.parameters if p != "app"]  # receive_webhook: store optional
        assert [p for p in sig.parameters if p != "self"] == spec_args, f"{name}: arguments differ"
        for arg in spec_args:  # the hook's types, as the contract spells them
            assert str(sig.parameters[arg].annotation) == str(spec.parameters[arg].annotation), \
                f"{name}({arg}): type differs"
        assert str(sig.return_annotation) == str(spec.return_annotation), f"{name}: return type differs"


def test_the_read_only_view_has_no_write() -> None:
    for name in hookspecs.OPERATIONS:
        if name in WRITES:
            assert not hasattr(facade.StoreReader, name), f"StoreReader.{name} would let a plan write"
            assert name in vars(facade.StoreWriter), name
    reads = {n for n in hookspecs.OPERATIONS if "connection" in inspect.signature(SPECS[n]).parameters
             and "app" not in inspect.signature(SPECS[n]).parameters} - WRITES
    assert reads <= set(vars(facade.StoreReader)), sorted(reads - set(vars(facade.StoreReader)))


def test_transform_listing_is_typed_with_the_store() -> None:
    assert "Store" in str(inspect.signature(SPECS["transform_listing"]).parameters["store"].annotation)
