"""A plain install: wheels of bridge-core, one eCommerce plugin and bridge-tiktokshop in a clean
virtual environment, no extras, no pytest or respx. bridge knows exactly those platforms, runs
`bridge demo` with them, and serves `bridge sandbox` driven through `bridge sandbox-ctl`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bridge.sandboxing import free_port

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "woocommerce"
DISTS = [ROOT / "core", ROOT / "plugins" / PLUGIN, ROOT / "plugins" / "tiktokshop"]


def _uv() -> str | None:
    for cand in (shutil.which("uv"), str(ROOT / ".tools/bin/uv"), str(Path(sys.executable).parent / "uv")):
        if cand and Path(cand).exists():
            return cand
    return None


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    uv = _uv()
    if uv is None:
        pytest.skip("uv not found (python3 dev.py installs it into .tools/)")
    tmp = tmp_path_factory.mktemp("isolated")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT", "BRIDGE_", "PYTEST", "COV_"))}
    env.update(BRIDGE_DATA_DIR=str(tmp / "data"), BRIDGE_CONFIG_DIR=str(tmp / "config"))
    wheels = tmp / "wheels"
    for dist in DISTS:  # built from the workspace, offline (hatchling comes from uv's cache)
        subprocess.run([uv, "build", "--offline", "--wheel", "-q", "-o", str(wheels), str(dist)],
                       check=True, env=env, cwd=ROOT)
    venv = tmp / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
    # the built wheels without extras; their dependencies from uv's cache (the index if missing)
    install = [uv, "pip", "install", "-q", "--python", str(venv / "bin/python"), *map(str, wheels.glob("*.whl"))]
    if subprocess.run([*install, "--offline"], env=env, capture_output=True).returncode:
        subprocess.run(install, check=True, env=env)
    return venv, env


@pytest.mark.slow
def test_plain_install_has_no_test_dependencies_and_knows_its_platforms(venv) -> None:
    path, env = venv
    for module in ("pytest", "respx"):
        probe = subprocess.run([str(path / "bin/python"), "-c", f"import {module}"], env=env,
                               capture_output=True, text=True)
        assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr
    out = subprocess.run([str(path / "bin/bridge"), "plugins", "--json"], check=True, env=env,
                         capture_output=True, text=True, cwd=path.parent)
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert sorted(rows) == sorted([PLUGIN, "tiktokshop"])
    assert {r["status"] for r in rows.values()} == {"ok"}
    assert rows[PLUGIN]["kind"] == "ecommerce" and rows["tiktokshop"]["kind"] == "channel"


@pytest.mark.slow
def test_plain_install_runs_the_demo(venv) -> None:
    path, env = venv
    run = subprocess.run([str(path / "bin/bridge"), "demo", "--platform", PLUGIN, "--products", "3"],
                         env=env, capture_output=True, text=True, cwd=path.parent, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "3 products listed on TikTok Shop" in run.stdout + run.stderr
    assert "pushed to TikTok order" in run.stdout + run.stderr


@pytest.mark.slow
def test_plain_install_serves_a_sandbox_driven_by_sandbox_ctl(venv) -> None:
    path, env = venv
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(path / "bin/bridge"), "sandbox", PLUGIN, "--port", str(port), "--seed", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/_sandbox", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)

        def ctl(*args: str) -> object:
            done = subprocess.run([str(path / "bin/bridge"), "sandbox-ctl", PLUGIN, "--url", url, *args],
                                  env=env, capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout)

        ids = ctl("seed", "--products", "2", "--variants", "1")
        assert len(ids["ids"]) == 2  # type: ignore[index]
        ctl("fault", "--status", "503", "--path", "/wp-json/wc/v3/products*")
        assert httpx.get(url + "/wp-json/wc/v3/products").status_code == 503
        stats = ctl("stats")
        assert stats["faulted"] == 1 and stats["faults"] == []  # type: ignore[index]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
