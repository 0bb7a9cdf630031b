"""read_ahead: the next item is read while the caller handles the current one; errors and early
stops behave as without it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from bridge.sync.read_ahead import read_ahead


def test_the_next_item_is_read_while_the_current_one_is_handled() -> None:
    read_at: dict[int, float] = {}

    def pages() -> Iterator[int]:
        for n in range(4):
            time.sleep(0.1)  # a request for the page
            read_at[n] = time.monotonic()
            yield n

    started = time.monotonic()
    got = []
    for n in read_ahead(pages()):
        got.append(n)
        time.sleep(0.1)  # handling the page (requests to another platform)
    assert got == [0, 1, 2, 3]
    # overlapped: about 0.5 s, where one after the other takes 0.8 s
    assert time.monotonic() - started < 0.7
    assert read_at[1] < read_at[0] + 0.15  # page 1 was read while page 0 was handled


def test_an_error_of_the_reading_is_raised_where_its_item_would_come() -> None:
    def pages() -> Iterator[int]:
        yield 1
        raise ValueError("page 2 unreadable")

    got = []
    with pytest.raises(ValueError, match="page 2"):
        for n in read_ahead(pages()):
            got.append(n)
    assert got == [1]


def test_stopping_early_stops_the_reading() -> None:
    closed = threading.Event()
    read: list[int] = []

    def pages() -> Iterator[int]:
        try:
            for n in range(100):
                read.append(n)
                yield n
        finally:
            closed.set()

    for n in read_ahead(pages()):
        if n == 2:
            break
    assert closed.is_set()  # the source was closed, in its own thread, before read_ahead returned
    assert len(read) <= 5  # at most the item handed over, the one waiting and the one being read
    assert not any(t.name == "bridge-read-ahead" for t in threading.enumerate())
