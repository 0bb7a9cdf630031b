#!/usr/bin/env python3
"""Set up bridge on a fresh machine (only Python 3.11+ needed) and run it.

    python3 dev.py demo      # install everything, then run `bridge demo` (embedded SQLite + sandboxes)
    python3 dev.py test      # install everything, then run the whole test suite (4 processes;
                             # BRIDGE_TEST_WORKERS=1 for one, or pass pytest's own -n)
    python3 dev.py bridge ARGS...   # run any bridge command in the project's environment

It creates `.tools/` (a venv holding uv) and `.venv/` (the uv workspace, from uv.lock).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
VENV = ROOT / ".venv"
UV_VERSION = "0.13.9"


def bin_dir(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


def run(*cmd: str | Path, **kw: object) -> None:
    subprocess.run([str(c) for c in cmd], check=True, **kw)  # type: ignore[call-overload]


def ensure_uv() -> Path:
    uv = bin_dir(TOOLS) / "uv"
    if not uv.exists():
        print("dev.py: installing uv into .tools/ ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        run(bin_dir(TOOLS) / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check",
            f"uv=={UV_VERSION}")
    return uv


def ensure_env() -> None:
    uv = ensure_uv()
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(VENV))
    run(uv, "sync", "--all-packages", "--frozen", "--quiet", "--compile-bytecode", cwd=ROOT, env=env)
    # Bytecode for the workspace's own sources too: with PYTHONDONTWRITEBYTECODE set, every
    # process would otherwise compile bridge and its plugins afresh (CLI start-up, test workers).
    sources = [ROOT / "core" / "src", *sorted((ROOT / "plugins").glob("*/src"))]
    run(bin_dir(VENV) / "python", "-m", "compileall", "-q", *sources, cwd=ROOT)


def test_workers(args: list[str]) -> list[str]:
    """pytest-xdist options: four worker processes (BRIDGE_TEST_WORKERS; most of the suite waits on
    sandboxes, daemons and browsers, so four keep two cores busy), each module's tests in
    one of them (module-scoped sandboxes start once); none when the caller chose (-n, -p no:xdist)."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" or a == "-pno:xdist"
                 for a in args)
    workers = os.environ.get("BRIDGE_TEST_WORKERS", "4")
    if chosen or workers in ("", "0", "1"):
        return []
    return ["-n", workers, "--dist", "loadscope"]


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before any check of the interpreter
        print("bridge needs Python 3.11 or newer", file=sys.stderr)
        return 2
    if not argv or argv[0] not in ("demo", "test", "bridge", "setup"):
        print(__doc__)
        return 2
    ensure_env()
    binp = bin_dir(VENV)
    cmd, rest = argv[0], argv[1:]
    if cmd == "setup":
        return 0
    if cmd == "demo":
        return subprocess.call([str(binp / "bridge"), "demo", *rest], cwd=ROOT)
    if cmd == "bridge":
        return subprocess.call([str(binp / "bridge"), *rest], cwd=ROOT)
    code = subprocess.call([str(binp / "python"), "-m", "pytest", *test_workers(rest), *rest], cwd=ROOT)
    return 0 if code == 5 else code  # 5: no tests collected (a filter matched nothing)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
