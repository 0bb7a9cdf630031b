#!/usr/bin/env python3
"""Write docs/plugin_hooks.md from bridge.hookspecs (CI fails when it is stale)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from bridge import hookspecs

OUT = Path(__file__).resolve().parents[1] / "docs" / "plugin_hooks.md"


def render() -> str:
    """The reference: the contract's docstring, then one section per area of the contract (its
    module's docstring, then each hook with its signature, how it is called and its docstring)."""
    lines = [
        "# Plugin hooks",
        "",
        "Generated from `core/src/bridge/hookspecs/` by `scripts/gen_hook_docs.py`; do not edit.",
        "",
        inspect.cleandoc(hookspecs.__doc__ or ""),
        "",
    ]
    for area in hookspecs.AREAS:
        short = area.__name__.rsplit(".", 1)[-1]
        lines += [f"## {short.capitalize()}", "", inspect.cleandoc(area.__doc__ or ""), "",
                  f"*Declared in* `{area.__name__}`.", ""]
        for name, fn in hookspecs.specs_of(area).items():
            how = ("platform operation: the store's platform only, first non-None result"
                   if name in hookspecs.OPERATIONS else "cross-cutting: every plugin")
            lines += [f"### `{name}{inspect.signature(fn)}`", "", f"*Called:* {how}.", "",
                      inspect.cleandoc(fn.__doc__ or ""), ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.exists() and OUT.read_text() == text else 1)
    OUT.write_text(text)
    print(f"wrote {OUT}")
