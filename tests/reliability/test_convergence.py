"""At 20 % faults (429 with Retry-After, 500/502/503, stalls, resets, bodies cut short, TikTok
401; before or after the platform did the work), every flow gets its work done within a bounded
number of runs, and after the faults stop one more pass of each flow leaves both platforms in
the fault-free state: no duplicate, nothing lost, quantities equal, every tracking number pushed.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from bridge.plugins import get_manager
from tests.e2e.harness import skip_unless_installed
from tests.reliability.conftest import ECOMMERCE
from tests.reliability.world import run_session

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("platform", ECOMMERCE)
def test_twenty_percent_faults_converge(platform: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pm = get_manager()
    skip_unless_installed(pm, platform)
    with ExitStack() as stack:
        fig = run_session(platform, stack, monkeypatch.setenv, pm, rate=0.2, seed=7, stall_ms=200,
                          products=3, variants=2, orders=4, max_runs=25)
    assert sum(fig.faults.values()) > 10, fig  # the faults really happened
    assert (fig.duplicates, fig.lost, fig.mismatched, fig.missing_tracking) == (0, 0, 0, 0), fig.problems
    assert not fig.problems, fig.problems
    assert all(n < 25 for n in fig.runs.values()), fig.runs
