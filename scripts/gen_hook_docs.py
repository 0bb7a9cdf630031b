#!/usr/bin/env python3
"""Write docs/plugin_hooks.md from bridge.hookspecs (CI fails when it is stale)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from bridge import hookspecs

OUT = Path(__file__).resolve().parents[1] / "docs" / "plugin_hooks.md"


def render() -> str:
    lines = [
        "# Plugin hooks",
        "",
        "Generated from `core/src/bridge/hookspecs.py` by `scripts/gen_hook_docs.py`; do not edit.",
        "",
        inspect.cleandoc(hookspecs.__doc__ or ""),
        "",
    ]
    names = [n for n, f in vars(hookspecs).items()
             if inspect.isfunction(f) and hasattr(f, "bridge_spec")]
    ops = [n for n in hookspecs.OPERATIONS if n in names]
    cross = [n for n in names if n not in ops]
    for title, group in (("Platform operations", ops), ("Cross-cutting hooks", cross)):
        lines += [f"## {title}", ""]
        for name in group:
            fn = getattr(hookspecs, name)
            spec = fn.bridge_spec
            sig = str(inspect.signature(fn))
            how = "first non-None result" if spec.get("firstresult") else "every plugin"
            lines += [f"### `{name}{sig}`", "", f"*Called:* {how}.", "",
                      inspect.cleandoc(fn.__doc__ or ""), ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.exists() and OUT.read_text() == text else 1)
    OUT.write_text(text)
    print(f"wrote {OUT}")
