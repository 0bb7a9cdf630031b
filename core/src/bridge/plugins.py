"""The plugin manager: entry-point discovery, validation, lookup by platform, dispatch.

Platforms are found in the entry-point group ``bridge``. A plugin that fails to import, whose
hook implementations do not match :mod:`bridge.hookspecs`, or whose ``describe_platform`` is
invalid is reported by name with the reason, and every other plugin keeps working.

``BRIDGE_PLUGINS`` (comma-separated entry-point names; empty: none) limits which plugins load —
the way out when a broken plugin breaks the CLI. ``BRIDGE_TRACE_PLUGINS=1`` logs every hook call.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from bridge import hookspecs
from bridge.errors import Misconfigured, Unsupported
from bridge.models import PlatformInfo

#: The plugin distributions published with bridge (only to name the one to install when a
#: platform's plugin is missing; the core calls no platform by name).
DISTRIBUTIONS = {name: f"bridge-{name}" for name in
                 ("shopify", "woocommerce", "magento2", "bigcommerce", "tiktokshop")}

log = logging.getLogger("bridge.plugins")
GROUP = "bridge"


@dataclass
class LoadedPlugin:
    """A plugin as bridge sees it: its platform (if any), where it came from, its status."""

    name: str
    module: Any = None
    distribution: str | None = None
    version: str | None = None
    platform: PlatformInfo | None = None
    capabilities: list[str] = field(default_factory=list)
    status: str = "ok"
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "kind": self.platform.kind if self.platform else None,
            "display_name": self.platform.display_name if self.platform else None,
            "capabilities": self.capabilities,
            "status": self.status,
            "error": self.error,
        }


class PluginManager:
    """Loads plugins and calls platform operations for one platform at a time."""

    def __init__(self, *, load_entrypoints: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, LoadedPlugin] = {}
        self._callers: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        if os.environ.get("BRIDGE_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(lambda msg: log.warning("plugin trace: %s", msg.rstrip()))
            self.pm.enable_tracing()
        if load_entrypoints:
            self.load_entrypoints()

    # ------------------------------------------------------------------ loading

    def load_entrypoints(self) -> None:
        """Load every plugin of the entry-point group (filtered by ``BRIDGE_PLUGINS``)."""
        allowed = os.environ.get("BRIDGE_PLUGINS")
        only = None if allowed is None else {p.strip() for p in allowed.split(",") if p.strip()}
        for ep in metadata.entry_points(group=GROUP):
            if only is not None and ep.name not in only:
                continue
            dist = getattr(ep, "dist", None)
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not break the others
                self.plugins[ep.name] = LoadedPlugin(
                    name=ep.name,
                    distribution=dist.name if dist else None,
                    version=dist.version if dist else None,
                    status="error",
                    error=f"cannot import {ep.value}: {type(exc).__name__}: {exc}",
                )
                continue
            self.register(
                module, name=ep.name,
                distribution=dist.name if dist else None,
                version=dist.version if dist else None,
            )

    def register(
        self,
        module: ModuleType | object,
        *,
        name: str | None = None,
        distribution: str | None = None,
        version: str | None = None,
    ) -> LoadedPlugin:
        """Register a plugin object; validate it; return its report (status ``error`` on failure)."""
        name = name or getattr(module, "__name__", repr(module))
        entry = LoadedPlugin(name=name, module=module, distribution=distribution, version=version)
        try:
            self.pm.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            entry.status, entry.error = "error", f"invalid hook implementation: {exc}"
            self.plugins[name] = entry
            return entry
        except ValueError as exc:
            entry.status, entry.error = "error", str(exc)
            self.plugins[name] = entry
            return entry
        unknown = [
            h.name for h in self.pm.get_hookcallers(module) or []
            if h.name not in hookspecs.HOOKS
        ]
        # pluggy keeps hooks without a spec pending; find misspelt ones by hand.
        for attr in dir(module):
            opts = self.pm.parse_hookimpl_opts(module, attr)
            if opts is not None and attr not in hookspecs.HOOKS:
                unknown.append(attr)
        if unknown:
            self.pm.unregister(module)
            entry.status = "error"
            entry.error = f"unknown hook(s) {', '.join(sorted(set(unknown)))}: not in bridge.hookspecs"
            self.plugins[name] = entry
            return entry
        implemented = {h.name for h in self.pm.get_hookcallers(module) or []}
        opts = self.pm.parse_hookimpl_opts(module, "describe_platform") or {}
        is_wrapper = bool(opts.get("wrapper") or opts.get("hookwrapper"))
        if "describe_platform" in implemented and not is_wrapper:
            try:
                info = module.describe_platform()
                entry.platform = PlatformInfo.model_validate(info)
            except Exception as exc:
                self.pm.unregister(module)
                entry.status, entry.error = "error", f"describe_platform failed: {exc}"
                self.plugins[name] = entry
                return entry
            missing = [op for op in hookspecs.REQUIRED if op not in implemented]
            if missing:
                self.pm.unregister(module)
                entry.status = "error"
                entry.error = f"a platform plugin must implement {', '.join(missing)}"
                self.plugins[name] = entry
                return entry
            other = self.platform_plugin(entry.platform.name, strict=False)
            if other is not None and other is not entry:
                self.pm.unregister(module)
                entry.status = "error"
                entry.error = f"platform '{entry.platform.name}' is already provided by {other.name}"
                self.plugins[name] = entry
                return entry
            entry.capabilities = [
                op for op in hookspecs.OPERATIONS if op in implemented and op not in hookspecs.REQUIRED
            ]
        self.plugins[name] = entry
        self._callers.clear()
        return entry

    # ------------------------------------------------------------------ lookup

    def platforms(self, kind: str | None = None) -> list[PlatformInfo]:
        """Platforms of loaded plugins, optionally of one kind, sorted by name."""
        out = [
            p.platform for p in self.plugins.values()
            if p.platform and p.status == "ok" and (kind is None or p.platform.kind == kind)
        ]
        return sorted(out, key=lambda p: p.name)

    def platform_plugin(self, platform: str, *, strict: bool = True) -> LoadedPlugin | None:
        for p in self.plugins.values():
            if p.platform and p.platform.name == platform and p.status == "ok":
                return p
        if strict:
            raise Misconfigured(self.missing_platform(platform))
        return None

    def missing_platform(self, platform: str) -> str:
        """What to say when no loaded plugin provides ``platform``: the distribution to install
        for the platforms bridge's own plugins cover, never a made-up one."""
        known = ", ".join(p.name for p in self.platforms()) or "none"
        fix = (f"pip install {DISTRIBUTIONS[platform]}" if platform in DISTRIBUTIONS
               else "check the name, or install the plugin that provides it (`bridge plugins` lists "
                    "what is installed)")
        if platform in DISTRIBUTIONS and (os.environ.get("BRIDGE_PLUGINS") is not None):
            fix += " (and name it in BRIDGE_PLUGINS)"
        return f"no plugin provides platform '{platform}' (installed: {known}): {fix}"

    def info(self, platform: str) -> PlatformInfo:
        plugin = self.platform_plugin(platform)
        assert plugin and plugin.platform
        return plugin.platform

    def has(self, platform: str, operation: str) -> bool:
        plugin = self.platform_plugin(platform, strict=False)
        return bool(plugin and operation in (plugin.capabilities + list(hookspecs.REQUIRED)))

    def call(self, platform: str, operation: str, **kwargs: Any) -> Any:
        """Call ``operation`` on the plugin of ``platform`` only (plus wrappers of others).

        :raises Unsupported: the platform does not implement the operation.
        """
        if operation not in hookspecs.OPERATIONS:
            raise ValueError(f"{operation} is not a platform operation")
        plugin = self.platform_plugin(platform)
        assert plugin is not None
        if not self.has(platform, operation):
            raise Unsupported(platform, operation)
        key = (platform, operation)
        with self._lock:
            caller = self._callers.get(key)
            if caller is None:
                others = [
                    p.module for p in self.plugins.values()
                    if p.module is not None and p is not plugin and p.platform is not None
                ]
                caller = self.pm.subset_hook_caller(operation, remove_plugins=others)
                self._callers[key] = caller
        return caller(**kwargs)

    @property
    def hook(self) -> Any:
        """Cross-cutting hooks (reach every plugin)."""
        return self.pm.hook


_manager: PluginManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> PluginManager:
    """The process-wide plugin manager (loads entry points on first use)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = PluginManager()
        return _manager


def set_manager(manager: PluginManager | None) -> None:
    """Replace the process-wide manager (tests)."""
    global _manager
    with _manager_lock:
        _manager = manager
