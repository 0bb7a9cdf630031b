"""Fixtures of the reliability suite: both sandboxes behind answer-losing middleware."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from bridge.plugins import get_manager
from tests.e2e.harness import PLATFORMS, Harness, skip_unless_installed
from tests.reliability.lost import LoseAnswers, losing

ECOMMERCE = PLATFORMS


class Lossy(Harness):
    """A :class:`Harness` whose sandboxes can lose answers (``eco_loss``, ``tt_loss``)."""

    eco_loss: LoseAnswers
    tt_loss: LoseAnswers


@pytest.fixture()
def lossy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Lossy]]:
    pm = get_manager()
    with ExitStack() as stack:
        def make(platform: str, **options: Any) -> Lossy:
            skip_unless_installed(pm, platform)
            held: dict[str, LoseAnswers] = {}
            h = Lossy(platform, stack, monkeypatch.setenv, pm=pm, wrap=losing(held), **options)
            h.eco_loss = held[type(h.eco).__name__]
            h.tt_loss = held[type(h.tt).__name__]
            return h
        yield make
