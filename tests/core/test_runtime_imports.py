"""Nothing bridge runs imports pytest or respx: every module of the core (but the test kit's
pytest suite and plugin) and of every installed plugin imports with both made unimportable."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r'''
import importlib, importlib.metadata, pkgutil, sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pytest", "_pytest", "respx"):
            raise ImportError("test dependency imported: " + name)

sys.meta_path.insert(0, Block())
packages = ["bridge"] + sorted({ep.value.split(".")[0] for ep in importlib.metadata.entry_points(group="bridge")})
failed = []
for package in packages:
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if info.name in ("bridge.testing.suite", "bridge.testing.pytest_plugin"):
            continue
        try:
            importlib.import_module(info.name)
        except ImportError as exc:
            if "test dependency imported" in str(exc):
                failed.append(f"{info.name}: {exc}")
print(len(packages))
print("\n".join(failed))
'''


def test_no_runtime_module_needs_pytest_or_respx() -> None:
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    count, *failed = run.stdout.strip().splitlines()
    assert int(count) > 1  # the core and at least one plugin were walked
    assert failed == [], "\n".join(failed)
