"""Installing only bridge-core and one plugin: bridge knows that platform and no other."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "woocommerce"


def _uv() -> str | None:
    for cand in (shutil.which("uv"), str(ROOT / ".tools/bin/uv"), str(Path(sys.executable).parent / "uv")):
        if cand and Path(cand).exists():
            return cand
    return None


@pytest.mark.slow
def test_core_plus_one_plugin_in_a_fresh_venv(tmp_path):
    uv = _uv()
    if uv is None:
        pytest.skip("uv not found (python3 dev.py installs it into .tools/)")
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT"))}
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
    subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin/python"),
                    str(ROOT / "core"), str(ROOT / "plugins" / PLUGIN)], check=True, env=env)
    out = subprocess.run([str(venv / "bin/bridge"), "plugins", "--json"], check=True, env=env,
                         capture_output=True, text=True, cwd=tmp_path)
    rows = json.loads(out.stdout)
    assert [(r["name"], r["distribution"], r["status"]) for r in rows] == [
        (PLUGIN, f"bridge-{PLUGIN}", "ok")]
    assert rows[0]["kind"] == "ecommerce" and rows[0]["capabilities"]
