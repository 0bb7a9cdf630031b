"""The start-up heap is frozen out of the garbage collector's full passes, by `bridge run`."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bridge import heap


@pytest.fixture()
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the other tests' objects are collected as usual


def test_what_the_start_built_is_left_out_of_full_collections(unfrozen: None) -> None:
    started = [[i] for i in range(1000)]  # lives as long as the process (lists: tracked by gc)
    assert all(gc.is_tracked(o) for o in started)
    frozen = heap.freeze_startup()
    # frozen objects are still freed when their last reference goes (another test's thread may
    # drop some meanwhile): the count can only fall, never below what this test keeps alive
    assert frozen >= len(started) and len(started) <= gc.get_freeze_count() <= frozen
    walked = {id(o) for o in gc.get_objects(generation=2)}  # what a full pass walks
    assert not any(id(o) in walked for o in started)
    later = [[i] for i in range(10)]
    gc.collect()
    walked = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(o) in walked for o in later)  # what the process makes afterwards still is


def test_bridge_run_freezes_its_start_up_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from bridge.cli.daemon import run

    calls: list[int] = []
    monkeypatch.setattr(heap, "freeze_startup", lambda: calls.append(1) or 0)
    res = CliRunner().invoke(run, ["--no-web", "--max-runtime", "0.1"])
    assert res.exit_code == 0, res.output
    assert calls == [1]
