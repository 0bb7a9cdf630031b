"""Moved to :mod:`bridge.sandboxing.images` (a runtime module: the demo and sandboxes use it)."""

from bridge.sandboxing.images import ImageServer, make_png

__all__ = ["ImageServer", "make_png"]
