"""Shared fixtures of the core tests: the fake platform pair registered as plugins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.plugins import PluginManager, set_manager
from tests.fakes import fake_channel, fake_ecommerce


def fake_manager() -> PluginManager:
    """A plugin manager holding only the fake pair."""
    pm = PluginManager(load_entrypoints=False)
    pm.register(fake_ecommerce, name="fakeshop", distribution="tests", version="0")
    pm.register(fake_channel, name="fakechannel", distribution="tests", version="0")
    return pm


@pytest.fixture()
def fake_pm() -> Iterator[PluginManager]:
    pm = fake_manager()
    set_manager(pm)
    yield pm
    set_manager(None)
