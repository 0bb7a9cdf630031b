"""Every hook is documented, and the generated hook reference is current."""

from __future__ import annotations

import inspect
import runpy
from pathlib import Path

import pluggy

from bridge import hookspecs

ROOT = Path(__file__).resolve().parents[2]
SPECS = list(hookspecs.SPECS.values())


def test_every_hook_has_a_docstring_and_types():
    assert len(SPECS) >= 30
    for fn in SPECS:
        assert fn.__doc__ and len(fn.__doc__.strip()) > 40, f"{fn.__name__} needs a docstring"
        sig = inspect.signature(fn)
        for name, p in sig.parameters.items():
            assert p.annotation is not inspect.Parameter.empty, f"{fn.__name__}({name}) needs a type"


def test_every_hook_of_every_area_is_on_the_package():
    """``add_hookspecs(bridge.hookspecs)`` reads the package: a hook an area module declares but
    the package does not re-export would never be called."""
    exported = {n for n, f in vars(hookspecs).items() if inspect.isfunction(f) and hasattr(f, "bridge_spec")}
    assert exported == set(hookspecs.HOOKS)
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    assert {name for name in vars(pm.hook) if not name.startswith("_")} == set(hookspecs.HOOKS)


def test_operations_list_names_real_hooks():
    names = {f.__name__ for f in SPECS}
    assert set(hookspecs.OPERATIONS) <= names


def test_hook_reference_is_current():
    module = runpy.run_path(str(ROOT / "scripts/gen_hook_docs.py"))
    expected = module["render"]()
    assert (ROOT / "docs/plugin_hooks.md").read_text() == expected, (
        "docs/plugin_hooks.md is stale: run `python scripts/gen_hook_docs.py`")
