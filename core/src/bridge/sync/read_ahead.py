"""Reading the next page of a platform while the current one is handled: :func:`read_ahead`."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")

_END = object()


def read_ahead(items: Iterable[T], depth: int = 1) -> Generator[T, None, None]:
    """``items`` in order, with up to ``depth`` of them read ahead in a thread of their own while
    the caller handles the one before (a page read from one platform overlaps the requests that
    handle the previous page on another). An error of the reading is raised here, where its item
    would have come; a caller that stops early stops the reading (the item being read is
    finished, the rest is not read) and waits for it."""
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the caller, raised there
            put((_END, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    context = contextvars.copy_context()  # the run's log and metrics context goes along
    reader = threading.Thread(target=context.run, args=(read,), name="bridge-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item, error = handoff.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join()
