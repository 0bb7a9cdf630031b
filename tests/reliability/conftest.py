"""Fixtures of the reliability suite: both sandboxes behind answer-losing middleware."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from bridge.plugins import get_manager
from tests.e2e.harness import CHANNEL, Harness, missing_plugin
from tests.reliability.lost import LoseAnswers, losing

ECOMMERCE = ["shopify", "woocommerce", "magento2", "bigcommerce"]


class Lossy(Harness):
    """A :class:`Harness` whose sandboxes can lose answers (``eco_loss``, ``tt_loss``)."""

    eco_loss: LoseAnswers
    tt_loss: LoseAnswers


@pytest.fixture()
def lossy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Lossy]]:
    pm = get_manager()
    with ExitStack() as stack:
        def make(platform: str, **options: Any) -> Lossy:
            for name in (platform, CHANNEL):
                reason = missing_plugin(pm, name)
                if reason:
                    pytest.skip(reason)
            held: dict[str, LoseAnswers] = {}
            h = Lossy(platform, stack, monkeypatch.setenv, pm=pm, wrap=losing(held), **options)
            h.eco_loss = held[type(h.eco).__name__]
            h.tt_loss = held[type(h.tt).__name__]
            return h
        yield make
