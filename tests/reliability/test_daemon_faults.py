"""The daemon at 20 % faults (the mix of issue 15: 429 with Retry-After, 500/502/503, stalls,
resets, bodies cut short, TikTok 401; before or after the platform did the work): a real
``bridge run`` with one-second flow intervals lists the products, creates the TikTok orders in
the store, pushes the store's tracking numbers and carries the stock changes while the faults go
on; once they stop it converges to the fault-free state — every TikTok order in the store once,
every tracking number on TikTok once, quantities equal as TikTok reports them — and SIGTERM
stops it with exit 0."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from bridge.plugins import get_manager
from tests.e2e.harness import skip_unless_installed
from tests.reliability.conftest import ECOMMERCE
from tests.reliability.daemon import run_daemon_session

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("platform", ECOMMERCE)
def test_the_daemon_at_twenty_percent_faults_converges(platform: str, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    pm = get_manager()
    skip_unless_installed(pm, platform)
    with ExitStack() as stack:
        fig = run_daemon_session(platform, stack, monkeypatch.setenv, pm, tmp_path / "bridge-run.log",
                                 rate=0.2, seed=7, stall_ms=200, products=2, variants=2, orders=3,
                                 interval=1, timeout=30)
    assert sum(fig.faults.values()) > 5, fig  # the faults really happened, to the daemon
    assert (fig.duplicates, fig.lost, fig.mismatched, fig.missing_tracking) == (0, 0, 0, 0), fig.problems
    assert not fig.problems, fig.problems
    assert fig.exit_status == 0 and fig.stopped_cleanly, (tmp_path / "bridge-run.log").read_text()[-2000:]
