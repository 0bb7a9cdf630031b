"""`bridge plan`, `bridge map`, `bridge drift`, `bridge journal export` on the fake pair."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlmodel import select

from bridge import db
from bridge.cli import cli
from bridge.tables import CarrierMapping, CategoryRule
from tests.flows.conftest import Flows


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def test_plan_prints_decisions_and_writes_nothing(flows: Flows) -> None:
    flows.reset_stats()
    code, out = _run("plan", "products")
    assert code == 0, out
    assert "create" in out and "rule product_type=Shirts" in out
    assert "SKU-1-1: 10.50 (price as in the store)" in out
    assert flows.writes() == 0
    code, out = _run("plan", "--json")
    rows = json.loads(out)
    assert {r["flow"] for r in rows} == {"products"}  # nothing listed yet: no stock to push
    assert flows.writes() == 0


def test_map_product_overrides_show_in_the_plan(flows: Flows) -> None:
    code, out = _run("map", "product", "p1", "--title", "Hand-picked shirt", "--price", "9.99")
    assert code == 0, out
    code, out = _run("plan", "products", "--json")
    p1 = next(r for r in json.loads(out) if r["item"] == "p1")
    assert (p1["title"], p1["skus"][0]["price"], p1["overrides"]) == ("Hand-picked shirt", "9.99", ["title", "price"])
    code, out = _run("map", "product", "p1", "--price", "ten pounds")
    assert code == 2 and "price 'ten pounds' is not understood" in out


def test_map_commands(flows: Flows) -> None:
    with db.session() as s:
        for row in s.exec(select(CategoryRule)):
            s.delete(row)
    code, out = _run("map", "unmapped", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 6 and "no rule matches" in rows[0]["missing"]
    code, out = _run("map", "suggest", "--apply", "--json")
    rows = {r["value"]: r for r in json.loads(out[:out.rindex("]") + 1])}
    suggested = {v: r["category_id"] for v, r in rows.items()}
    assert suggested == {"Mugs": "101", "Shirts": "101"}  # the fake recommends by title only
    # Shirts need Material: reported, and the rule is not made (it would leave them held)
    assert "attribute Material (required)" in rows["Shirts"]["needs"] and rows["Shirts"]["applied"] == "no"
    code, out = _run("map", "rule", "product_type", "Mugs", "200")
    assert code == 0, out
    code, out = _run("map", "unmapped", "--json")
    assert {r["type"] for r in json.loads(out)} == {"Shirts"}
    assert "no rule matches" in json.loads(out)[0]["missing"]
    code, out = _run("map", "rule", "product_type", "Shirts", "101", "--attr", "Material=Linen")
    assert code == 0, out
    code, out = _run("map", "unmapped", "--json")
    assert json.loads(out) == []
    code, out = _run("map", "product", "p2", "--exclude")
    assert code == 0
    r = flows.run("products")
    assert r.counts["created"] == 5
    code, out = _run("map", "carrier", "Speedy", "P-DPD")
    assert code == 0
    with db.session() as s:
        assert s.exec(select(CarrierMapping)).one().provider_id == "P-DPD"
    code, out = _run("map", "preview", "p1")
    assert "title: Fake product 1" in out


def test_drift_finds_and_fixes_differences(flows: Flows) -> None:
    flows.run("products")
    code, out = _run("drift")
    assert code == 0 and "(none)" in out
    listed = flows.listed()
    with flows.channel.lock:  # someone edited stock and deactivated a product on TikTok
        flows.channel.products_[listed["SKU-1-1"]["id"]]["skus"][0]["quantity"] = 999
        flows.channel.products_[listed["SKU-3-1"]["id"]]["status"] = "deactivated"
    code, out = _run("drift", "--json")
    assert code == 1
    diffs = {(d["kind"], d["item"]) for d in json.loads(out)}
    assert diffs == {("quantity", "SKU-1-1"), ("status", "p3")}
    code, out = _run("drift", "--fix")
    assert code == 0, out
    assert flows.sku("SKU-1-1")["quantity"] == flows.shop.quantity("SKU-1-1")
    assert flows.listed()["SKU-3-1"]["status"] == "live"


def test_journal_export_writes_jsonl_without_secrets(flows: Flows, tmp_path) -> None:  # type: ignore[no-untyped-def]
    flows.run("products")
    target = tmp_path / "journal.jsonl"
    code, _ = _run("journal", "export", "-o", str(target))
    assert code == 0
    lines = [json.loads(x) for x in target.read_text().splitlines()]
    kinds = {x["kind"] for x in lines}
    assert {"products.create", "products.created", "store.connected"} <= kinds
    assert "fake-token" not in target.read_text()


def test_sync_without_org_syncs_complete_orgs_and_lists_the_others_as_skipped(flows: Flows) -> None:
    from bridge import stores

    stores.create_org("NoShop")
    res = CliRunner().invoke(cli, ["sync", "inventory", "--json"], catch_exceptions=False)
    rows = {r["org"]: r for r in json.loads(res.output)}
    assert res.exit_code == 0, res.output
    assert rows["NoShop"]["status"] == "skipped"
    assert rows["NoShop"]["reason"] == "no eCommerce store and no TikTok shop connected"
    synced = [r for name, r in rows.items() if name != "NoShop"]
    assert synced and all(r["status"] == "ok" and r["run"] for r in synced)
    res = CliRunner().invoke(cli, ["sync", "inventory"], catch_exceptions=False)
    assert "skipped" in res.output and "no TikTok shop" in res.output  # the table names the reason


def test_sync_without_org_reports_each_failed_org_and_exits_1(flows: Flows, monkeypatch) -> None:
    from bridge.errors import Transient
    from bridge.sync import base

    real = base.run_flow
    calls: list[int] = []

    def flaky(flow, org_id, *a, **kw):  # type: ignore[no-untyped-def]
        calls.append(org_id)
        raise Transient("platform unreachable")

    monkeypatch.setattr("bridge.sync.run_flow", flaky)
    res = CliRunner().invoke(cli, ["sync", "inventory", "--json"], catch_exceptions=False)
    assert res.exit_code == 1
    rows = json.loads(res.output)
    assert rows and all(r["status"] == "failed" and r["reason"] == "platform unreachable" for r in rows)
    assert calls and real is not flaky


def test_sync_reports_refused_credentials_once_per_flow(flows: Flows, monkeypatch) -> None:
    from types import SimpleNamespace

    from bridge.errors import NeedsReconnect

    def refused(flow, org_id, *a, **kw):  # type: ignore[no-untyped-def]
        if flow in ("products", "orders"):
            raise NeedsReconnect("the token was refused", definitive=False)
        return [SimpleNamespace(run_id=7, status="ok", counts={}, errors=[])]

    monkeypatch.setattr("bridge.sync.run_flow", refused)
    res = CliRunner().invoke(cli, ["sync", "all", "--json"], catch_exceptions=False)
    assert res.exit_code == 1
    rows = json.loads(res.output)
    assert [(r["flow"], r["status"]) for r in rows] == [
        ("products", "failed"), ("listings", "ok"), ("inventory", "ok"), ("orders", "failed"),
        ("tracking", "ok"), ("refunds", "ok")]
    assert {r["reason"] for r in rows if r["status"] == "failed"} == {"the token was refused"}
