"""``bridge new connector NAME --kind ecommerce|channel``: a connector distribution to fill in.

It writes (Jinja2 templates in ``bridge/scaffold/templates``)::

    bridge-NAME/
      pyproject.toml             the distribution, with the entry point in the ``bridge`` group
      README.md                  what is left to write, and how to run the kit
      src/bridge_NAME/connector.py   every hook of the kind, its docstring from bridge.hookspecs,
                                 a body raising NotImplementedError("not written yet: ...")
      src/bridge_NAME/sandbox.py the platform's sandbox on the sandbox kit, the kit's protocol
                                 methods left to write
      tests/test_contract.py     the connector test kit in one class

``describe_platform`` and ``sandbox`` are written (so the plugin loads and the kit runs); the kit's
first run then lists every hook and sandbox method left, as "not written yet".
"""

from __future__ import annotations

import inspect
import keyword
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from bridge import hookspecs

#: The hooks a connector of each kind implements, in the order the connector module lists them.
#: Left out: the OAuth and app-callback hooks (``authorization_url``, ``exchange_code``,
#: ``app_callback``: add them for ``connect_methods`` other than credentials).
HOOKS: dict[str, tuple[str, ...]] = {
    "ecommerce": (
        "describe_platform", "connect", "check_prerequisites", "list_products", "get_products",
        "read_inventory", "list_orders", "get_orders", "find_order", "create_order", "cancel_order",
        "cancel_order_lines", "create_refund", "find_refund", "list_fulfillments",
        "register_webhooks", "list_webhooks", "delete_webhooks",
        "receive_webhook", "sandbox",
    ),
    "channel": (
        "describe_platform", "connect", "check_prerequisites", "read_inventory", "update_inventory",
        "list_categories", "category_attributes", "category_rules", "recommend_category",
        "list_brands", "find_listings", "scan_listings", "check_listing", "create_listing",
        "update_listing", "partial_edit_listing", "update_prices", "activate_listing",
        "deactivate_listing", "listing_status", "list_orders", "get_orders", "cancel_order",
        "cancel_order_lines", "list_refunds", "get_refunds", "shipping_providers", "push_tracking",
        "register_webhooks", "list_webhooks", "delete_webhooks",
        "receive_webhook", "sandbox",
    ),
}
#: Written by the scaffold (the plugin must load and its sandbox start for the kit to run).
WRITTEN = ("describe_platform", "sandbox")

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Hook:
    name: str
    signature: str
    doc: str
    written: bool
    area: str  #: the contract's module declaring it (``bridge.hookspecs.catalog``)


def _annotation(a: object) -> str:
    return a if isinstance(a, str) else getattr(a, "__name__", repr(a))


def hooks_of(kind: str) -> list[Hook]:
    """The kind's hooks with their signatures and docstrings, from :mod:`bridge.hookspecs`."""
    out = []
    for name in HOOKS[kind]:
        fn = hookspecs.SPECS[name]
        sig = inspect.signature(fn)
        params = ", ".join(f"{p.name}: {_annotation(p.annotation)}" for p in sig.parameters.values())
        ret = _annotation(sig.return_annotation)
        doc = inspect.cleandoc(fn.__doc__ or "")
        out.append(Hook(name, f"def {name}({params}) -> {ret}:", doc, name in WRITTEN, fn.__module__))
    return out


def _imports(hooks: list[Hook]) -> dict[str, list[str]]:
    """The names the signatures use, by module."""
    from bridge import connection, models

    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(h.signature for h in hooks)))
    found: dict[str, list[str]] = {"collections.abc": [], "bridge.connection": [], "bridge.models": []}
    for w in sorted(words):
        if w in ("Iterator",):
            found["collections.abc"].append(w)
        elif getattr(getattr(connection, w, None), "__module__", "") == "bridge.connection":
            found["bridge.connection"].append(w)
        elif hasattr(models, w) and w[0].isupper():
            found["bridge.models"].append(w)
    if "Setting" not in found["bridge.models"]:
        found["bridge.models"] = sorted([*found["bridge.models"], "Setting"])
    return {k: v for k, v in found.items() if v}


def _env() -> Environment:
    env = Environment(loader=PackageLoader("bridge.scaffold", "templates"), undefined=StrictUndefined,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["indent_doc"] = lambda text, n=4: "\n".join(
        (" " * n + line) if line.strip() else "" for line in text.splitlines())
    return env


def render(name: str, kind: str, display_name: str | None = None) -> dict[str, str]:
    """The distribution's files: relative path -> text."""
    if not NAME.match(name) or keyword.iskeyword(name):
        raise ValueError(f"'{name}' is not a platform name: use lower-case letters, digits and _ "
                         "(it becomes the entry point and bridge_<name>)")
    if kind not in HOOKS:
        raise ValueError(f"kind is 'ecommerce' or 'channel', not '{kind}'")
    hooks = hooks_of(kind)
    ctx = {"name": name, "kind": kind, "package": f"bridge_{name}", "dist": f"bridge-{name.replace('_', '-')}",
           "display_name": display_name or name.replace("_", " ").title(), "hooks": hooks,
           "imports": _imports(hooks), "left": [h.name for h in hooks if not h.written]}
    env = _env()
    files = {
        "pyproject.toml": "pyproject.toml.j2",
        "README.md": "README.md.j2",
        f"src/{ctx['package']}/__init__.py": "init.py.j2",
        f"src/{ctx['package']}/connector.py": "connector.py.j2",
        f"src/{ctx['package']}/sandbox.py": f"sandbox_{kind}.py.j2",
        "tests/test_contract.py": "test_contract.py.j2",
    }
    return {path: env.get_template(tpl).render(**ctx) for path, tpl in files.items()}


def write(name: str, kind: str, into: Path, *, display_name: str | None = None, force: bool = False) -> Path:
    """Write the distribution into ``into/bridge-NAME``; returns that directory.

    :raises FileExistsError: the directory exists and is not empty (unless ``force``).
    """
    files = render(name, kind, display_name)
    root = into / f"bridge-{name.replace('_', '-')}"
    if root.exists() and any(root.iterdir()) and not force:
        raise FileExistsError(f"{root} exists and is not empty: choose another --dir or pass --force")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
