"""The contract suite for pytest (see :mod:`bridge.testing`): one test per kit check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bridge.connection import Connection
from bridge.models import Listing
from bridge.plugins import PluginManager
from bridge.testing.checks import Check, all_checks
from bridge.testing.checks.channel import default_listing
from bridge.testing.harness import CheckSkipped, Harness, NotWritten

LEFT: dict[str, None] = {}
"""What the checks of this session found left to write (the pytest plugin prints it at the end)."""

Kit = Harness
"""The name the suite's fixture had before the kit grew: what ``make_listing`` receives."""


class ContractSuite:
    """Subclass with ``platform`` (and optionally ``sandbox_options``) to run the kit."""

    platform: str = ""
    sandbox_options: dict[str, Any] = {"seed": 12, "variants": 3}
    currency: str | None = None
    rate_limit_wait: bool = True
    """False when the platform's 429 answers carry no wait (no ``Retry-After``)."""
    known_failures: dict[str, str] = {}
    """Check id -> why the plugin fails it today: the test is a strict xfail (it reports the
    day the plugin is fixed), never a silent pass."""

    @classmethod
    def plugin_manager(cls) -> PluginManager:
        """The plugin manager the suite uses (default: the installed plugins). A classmethod."""
        return PluginManager()

    def make_listing(self, kit: Harness, conn: Connection, sku_prefix: str) -> Listing:
        """A listing in a leaf category with required attributes filled (override if needed)."""
        return default_listing(kit, conn, sku_prefix)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "check" in metafunc.fixturenames:
            kind = type(self).plugin_manager().info(self.platform).kind
            checks = all_checks(kind)
            metafunc.parametrize("check", checks, ids=[c.id for c in checks])

    @pytest.fixture(scope="class")
    @classmethod
    def kit(cls) -> Iterator[Harness]:
        suite = cls()
        harness = Harness(cls.plugin_manager(), cls.platform, cls.sandbox_options, currency=cls.currency,
                          rate_limit_wait=cls.rate_limit_wait,
                          make_listing=lambda h, conn, prefix: suite.make_listing(h, conn, prefix))
        try:
            harness.start()
        except NotWritten as exc:
            LEFT.setdefault(exc.what, None)
            pytest.fail(str(exc), pytrace=False)
        try:
            yield harness
        finally:
            harness.stop()

    def test_kit(self, kit: Harness, check: Check, request: pytest.FixtureRequest) -> None:
        if check.id in self.known_failures:
            request.applymarker(pytest.mark.xfail(reason=self.known_failures[check.id], strict=True,
                                                  raises=AssertionError))
        try:
            check.fn(kit)
        except CheckSkipped as exc:
            pytest.skip(str(exc))
        except NotWritten as exc:
            LEFT.setdefault(exc.what, None)
            pytest.fail(f"{check.id}: {exc}", pytrace=False)
