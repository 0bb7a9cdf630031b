"""``bridge new connector``: the written distribution loads as a plugin, and the connector test
kit's first run on it lists what is left to write (and nothing else fails)."""

from __future__ import annotations

import importlib
import inspect
import sys
import tomllib
from pathlib import Path

import pytest

from bridge import hookspecs
from bridge.cli import main
from bridge.plugins import PluginManager
from bridge.scaffold import HOOKS, WRITTEN, write
from bridge.testing.checks import all_checks, left_to_write, report, run_kit


def _load(root: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> PluginManager:
    monkeypatch.syspath_prepend(str(root / "src"))
    for mod in [m for m in sys.modules if m.startswith(f"bridge_{name}")]:
        del sys.modules[mod]
    module = importlib.import_module(f"bridge_{name}.connector")
    pm = PluginManager(load_entrypoints=False)
    pm.register(module, name=name, distribution=f"bridge-{name}", version="0.1.0")
    return pm


@pytest.mark.parametrize("kind", ["ecommerce", "channel"])
def test_scaffold_writes_a_distribution_whose_kit_run_lists_what_is_left(tmp_path, monkeypatch, kind):
    name = f"tiny{kind[:4]}"
    root = write(name, kind, tmp_path)
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["bridge"] == {name: f"bridge_{name}.connector"}
    assert "bridge-core>=0.1" in pyproject["project"]["dependencies"]
    assert "class TestContract(ContractSuite)" in (root / "tests/test_contract.py").read_text()

    pm = _load(root, name, monkeypatch)
    module = sys.modules[f"bridge_{name}.connector"]
    for hook in HOOKS[kind]:  # every hook of the kind, documented as the contract documents it
        fn = getattr(module, hook)
        assert hasattr(fn, "bridge_impl"), f"{hook} is not a hook implementation"
        assert inspect.cleandoc(fn.__doc__) == inspect.cleandoc(getattr(hookspecs, hook).__doc__)
    info = pm.info(name)
    assert (info.name, info.kind) == (name, kind)
    assert set(pm.platform_plugin(name).capabilities) >= set(HOOKS[kind]) - set(hookspecs.REQUIRED)

    outcomes = run_kit(pm, name, {"seed": 0, "variants": 2})
    statuses = {o.status for o in outcomes}
    assert statuses <= {"passed", "not written", "skipped"}, report(outcomes)
    assert [o.check.id for o in outcomes if o.status == "passed"][:1] == ["describing/describes_itself"]
    left = left_to_write(outcomes)
    assert "the connect hook" in left
    assert not [h for h in WRITTEN if f"the {h} hook" in left]
    if kind == "ecommerce":
        assert "the list_products hook" in left or "sandbox.seed_catalog()" in left
        assert "sandbox.seed_catalog()" in left and "the register_webhooks hook" in left
    else:
        assert "the list_categories hook" in left or "the create_listing hook" in left
    text = report(outcomes)
    assert "NOT WRITTEN" in text and "left to write: " in text


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out + err


def test_cli_writes_once_and_refuses_bad_names(tmp_path, capsys):
    new = ["new", "connector", "acme_shop", "--kind", "ecommerce", "--dir", str(tmp_path)]
    code, out = _run(capsys, *new)
    assert code == 0, out
    assert "wrote " in out and (tmp_path / "bridge-acme-shop/src/bridge_acme_shop/connector.py").is_file()
    code, out = _run(capsys, *new)
    assert code == 1 and "exists and is not empty" in out
    code, out = _run(capsys, "new", "connector", "Acme-Shop", "--kind", "channel", "--dir", str(tmp_path))
    assert code == 1 and "not a platform name" in out


def test_every_operation_is_considered():
    """A hook added to the contract is either scaffolded for a kind or knowingly left out."""
    left_out = {"authorization_url", "exchange_code", "app_callback"}
    scaffolded = set(HOOKS["ecommerce"]) | set(HOOKS["channel"])
    assert set(hookspecs.OPERATIONS) - scaffolded == left_out


EXAMPLE = Path(__file__).resolve().parents[2] / "docs/examples/bridge-tinyshop"


def test_the_guides_example_distribution_passes_the_kit(monkeypatch):
    """docs/examples/bridge-tinyshop (scaffolded, then filled in) passes every check."""
    pyproject = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["bridge"] == {"tinyshop": "bridge_tinyshop.connector"}
    pm = _load(EXAMPLE, "tinyshop", monkeypatch)
    outcomes = run_kit(pm, "tinyshop", {"seed": 0})
    skipped = {o.check.id for o in outcomes if o.status == "skipped"}
    assert {o.status for o in outcomes} <= {"passed", "skipped"}, report(outcomes)
    # only what the example leaves out on purpose (it records no refunds) is skipped
    assert skipped == {c.id for c in all_checks("ecommerce") if c.category == "refunds"}, report(outcomes)
