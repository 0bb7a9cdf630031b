"""`bridge demo` runs the main job end to end and exits 0 (a fast eCommerce sandbox)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bridge.plugins import get_manager
from tests.e2e.harness import skip_unless_installed

pytestmark = pytest.mark.slow


def test_demo_lists_syncs_orders_and_tracks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    platform = "bigcommerce"
    skip_unless_installed(get_manager(), platform)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_CONFIG_DIR"] = str(tmp_path / "config")
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from bridge.cli import main; main(sys.argv[1:])",
         "demo", "--platform", platform, "--products", "12", "--data-dir", str(tmp_path / "data")],
        env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for step in ("products -> listings", "inventory change", "TikTok order -> store", "fulfilment -> tracking",
                 "TikTok return -> store refund"):
        assert step in out
    assert "products listed on TikTok Shop" in out
    assert "42 in the store -> 42 on TikTok Shop" in out
    assert "pushed to TikTok order" in out
    assert "-> refund of" in out and "restocked" in out
