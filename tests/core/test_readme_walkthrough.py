"""The README's walk-through (every flow against `bridge sandbox`, shell commands only) runs as
written: each step's command succeeds and the numbers it shows are the ones the README gives."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.sandboxing import free_port

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Every flow against the sandboxes")
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert block, "the README's walk-through has no sh block"
    return block.group(1)


@pytest.mark.slow
def test_readme_walkthrough_runs_every_flow(tmp_path: Path) -> None:
    if shutil.which("jq") is None or shutil.which("bash") is None:
        pytest.skip("the walk-through needs bash and jq")
    script = walkthrough()
    for port in ("8801", "8802"):  # free ports instead of the README's
        script = script.replace(port, str(free_port()))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "PYTEST"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run(["bash", "-e", "-c", "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + script],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "'created': 4" in out  # four products listed
    assert re.search(r"^42$", out, re.M) and re.search(r"^40$", out, re.M)  # stock out, order decremented
    assert '"tracking_number":"RM123456785GB"' in out and '"provider":"Royal Mail"' in out
    assert re.search(r'"faulted": 2', out)
