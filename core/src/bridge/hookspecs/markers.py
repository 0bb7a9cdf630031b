"""The pluggy markers of the project ``bridge``: ``hookspec`` declares a hook of the contract,
``hookimpl`` (also ``bridge.hookimpl``) marks a plugin's implementation of one."""

from __future__ import annotations

import pluggy

PROJECT = "bridge"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
