"""Connecting: store info, refused credentials, no secret leaking into kept settings."""

from __future__ import annotations

import json
import re

from bridge.errors import NeedsReconnect
from bridge.models import Prerequisite, StoreInfo
from bridge.testing.checks import check
from bridge.testing.harness import Harness


def connect(h: Harness) -> StoreInfo:
    if "store_info" not in h.memo:
        with h.connected() as conn:
            info = h.call("connect", connection=conn)
        assert isinstance(info, StoreInfo), f"connect returned {type(info).__name__}, not StoreInfo"
        h.memo["store_info"] = info
    return h.memo["store_info"]


@check("connecting")
def check_connect_yields_store_info(h: Harness) -> None:
    """connect answers a StoreInfo with remote id, name and an ISO currency."""
    info = connect(h)
    assert info.remote_id, "StoreInfo.remote_id is empty"
    assert info.name, "StoreInfo.name is empty"
    assert re.fullmatch(r"[A-Z]{3}", info.currency), f"currency {info.currency!r} is not ISO 4217"
    if h.currency:
        assert info.currency == h.currency, f"currency {info.currency}, expected {h.currency}"
    if h.info.kind == "channel" and h.info.market_rules() is not None:
        assert info.region, "a channel that declares markets must say the store's region"


@check("connecting")
def check_bad_credentials_are_refused(h: Harness) -> None:
    """connect with altered credentials raises NeedsReconnect (it makes an authenticated call)."""
    creds = {k: "wrong-" + str(v) for k, v in h.credentials().items() if isinstance(v, str)}
    assert creds, "the sandbox hands out no credentials to alter"
    try:
        with h.connected(**creds) as conn:
            h.call("connect", connection=conn)
    except NeedsReconnect:
        return
    raise AssertionError("connect accepted wrong credentials: it must make an authenticated call "
                         "and raise NeedsReconnect when refused")


@check("connecting")
def check_secrets_stay_out_of_kept_settings(h: Harness) -> None:
    """No credential value appears in the store's name, settings, details or warnings."""
    info = connect(h)
    shown = json.dumps([info.name, info.domain, info.settings, info.details, info.warnings], default=str)
    leaked = [k for k, v in h.credentials().items() if isinstance(v, str) and len(v) >= 6 and v in shown]
    assert not leaked, (f"the value of {', '.join(leaked)} is kept outside the encrypted credentials "
                        "(StoreInfo.settings/details/name/warnings are stored and shown in clear)")


def _flow_names() -> set[str]:
    from bridge.sync.base import load_builtin_flows

    return set(load_builtin_flows())


@check("connecting")
def check_prerequisites_are_well_formed(h: Harness) -> None:
    """check_prerequisites answers unique items; a failing one says how to fix it and which flows."""
    h.need("check_prerequisites")
    with h.connected() as conn:
        items = h.call("check_prerequisites", connection=conn)
    assert isinstance(items, list), "check_prerequisites must return a list of Prerequisite"
    for p in items:
        assert isinstance(p, Prerequisite), f"{p!r} is not a Prerequisite"
    keys = [p.key for p in items]
    assert len(keys) == len(set(keys)), f"prerequisite keys repeat: {keys}"
    flows = _flow_names()
    for p in items:
        assert p.title, f"prerequisite {p.key} has no title"
        unknown = set(p.flows) - flows
        assert not unknown, (f"prerequisite {p.key} names unknown flows {sorted(unknown)}: "
                             f"Prerequisite.flows takes {', '.join(sorted(flows))}")
        if not p.ok:
            assert p.fix, f"prerequisite {p.key} fails without saying how to fix it (fix=...)"
