"""The heap a bridge process builds at its start, kept out of the garbage collector's full passes."""

from __future__ import annotations

import gc


def freeze_startup() -> int:
    """Collect once, then freeze (:func:`gc.freeze`) what the process holds once it has started:
    modules, the plugins and their models, the database engine. They live as long as the process,
    yet every full collection walked them all, with the GIL held (every worker stopped): at
    10,000 variants the products flow met one about every 10 s, 120-760 ms each on a loaded
    machine, against 25-300 ms once they are frozen. (A frozen object that later becomes part
    of a garbage cycle is not freed: only what the start built is frozen, and it stays in use.)
    Called by ``bridge run`` and ``bridge worker`` as they start; returns how many objects are
    frozen."""
    from bridge.plugins import get_manager

    get_manager()  # the plugins are loaded: their modules and models are start-up heap too
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
