"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser), a
place for screenshots (``artifacts/screenshots/``, ignored by git), and the accessibility check
(axe-core, through axe-playwright-python): ``a11y(page, name)`` fails a test on any serious or
critical violation; ``shots(page, name)`` runs it on every page it screenshots. The session's
counts by impact are printed at the end of the run."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("BRIDGE_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set BRIDGE_CHROMIUM): "
                    "browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (uv sync --all-packages): browser tests skipped")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        yield b
        b.close()


#: Violations of these impacts fail the test (axe's impacts: minor, moderate, serious, critical).
FAILING_IMPACTS = ("serious", "critical")
#: Every page checked in this session and the violations (nodes) found, by impact.
A11Y_TALLY: Counter[str] = Counter()


def check_accessibility(page, name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """Run axe-core on the page as it is now; count its violations by impact (one per
    element) and raise AssertionError listing the serious and critical ones. Returns all the
    violations (axe's dicts), for a test that wants to look at the minor ones too."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    A11Y_TALLY["pages"] += 1
    for v in violations:
        A11Y_TALLY[v.get("impact") or "unknown"] += len(v["nodes"])
    bad = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
    assert not bad, f"accessibility ({name}, {page.url}): " + "; ".join(
        f"{v['impact']} {v['id']}: {v['help']} at "
        + ", ".join(" ".join(n["target"]) for n in v["nodes"][:5]) for v in bad)
    return violations


@pytest.fixture()
def a11y() -> Callable[..., list[dict]]:
    """``a11y(page, name)``: axe-core's check of the page; fails on serious or critical
    violations (see :func:`check_accessibility`)."""
    try:
        import axe_playwright_python  # noqa: F401
    except ImportError:
        pytest.skip("axe-playwright-python is not installed (python3 dev.py setup): browser tests skipped")
    return check_accessibility


@pytest.fixture()
def shots(request: pytest.FixtureRequest, a11y):  # type: ignore[no-untyped-def]
    """``shots(page, name)`` saves a full-page screenshot under artifacts/screenshots/<test>/
    and runs the accessibility check on the page (``check=False`` to skip it, e.g. for a
    page of another site)."""
    folder = SCREENSHOTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    count = [0]

    def take(page, name: str, check: bool = True) -> Path:  # type: ignore[no-untyped-def]
        count[0] += 1
        path = folder / f"{count[0]:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if check:
            a11y(page, name)
        return path

    return take


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """The accessibility check's figures: pages checked, violations (elements) by impact."""
    if A11Y_TALLY["pages"]:
        counts = ", ".join(f"{k} {A11Y_TALLY[k]}" for k in ("minor", "moderate", "serious", "critical"))
        terminalreporter.write_line(f"accessibility (axe-core): {A11Y_TALLY['pages']} pages checked; "
                                    f"violations by impact: {counts}")
