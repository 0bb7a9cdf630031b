"""pytest plugin of bridge (enabled by installing bridge-core): isolation and fixtures.

* Every test gets its own data and config directories (never the user's), a fresh database,
  and a fresh plugin manager — so a test can never read or write a real bridge installation.
* ``bridge_image_server``: a loopback server of generated PNG images.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.sandboxing.images import ImageServer


@pytest.fixture(autouse=True)
def _bridge_isolation(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("bridge-home")
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("BRIDGE_CONFIG_DIR", str(home / "config"))
    monkeypatch.delenv("BRIDGE_DATABASE_URL", raising=False)
    monkeypatch.delenv("BRIDGE_SECRET_KEY", raising=False)
    for name in ("BRIDGE_REDIS_URL", "BRIDGE_REDIS_NAMESPACE", "BRIDGE_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)  # scale-out only where a test asks for it
    yield home
    from bridge import db, pacing, plugins, stores

    pacing.set_registry(None)  # the next test chooses its own (in-process unless it sets Redis)

    for sid in list(stores._connections):
        stores.forget_connection(sid)
    db.reset_engines()
    plugins.set_manager(None)


@pytest.fixture(scope="session")
def bridge_image_server() -> Iterator[ImageServer]:
    with ImageServer() as server:
        yield server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After a run of the connector test kit: the hooks and sandbox methods left to write."""
    suite = sys.modules.get("bridge.testing.suite")
    left = list(getattr(suite, "LEFT", {}) or {})
    if left:
        terminalreporter.section("connector test kit: left to write")
        for what in left:
            terminalreporter.write_line(f"  {what}")
