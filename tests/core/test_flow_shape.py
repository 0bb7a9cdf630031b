"""The flows stay readable and typed: mypy checks bridge.sync and the plugin facade, and no
function of the flows has more than 10 branches (ruff's PLR0912, as pylint counts them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TYPED = ["core/src/bridge/sync", "core/src/bridge/facade.py", "core/src/bridge/statuses.py"]
MAX_BRANCHES = 10


def test_flows_and_facade_type_check() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy", *TYPED], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_flow_function_has_more_than_ten_branches() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    run = subprocess.run([str(ruff), "check", "--no-cache", "--select", "PLR0912", "--config",
                          f"lint.pylint.max-branches={MAX_BRANCHES}", "--output-format", "concise",
                          "core/src/bridge/sync"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
