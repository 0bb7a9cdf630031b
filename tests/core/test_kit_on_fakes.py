"""The connector test kit, run on the fake pair (all checks pass) and on deliberately broken
copies of the fakes (each planted bug is caught by the check that looks for it)."""

from __future__ import annotations

import pytest

from bridge.plugins import PluginManager
from bridge.testing import ContractSuite
from bridge.testing.checks import all_checks, count_by_category, report, run_kit
from tests.conftest import fake_manager
from tests.fakes.broken import BUGS, Bug


class TestFakeShopContract(ContractSuite):
    platform = "fakeshop"
    sandbox_options = {"seed": 25, "variants": 3}

    @classmethod
    def plugin_manager(cls) -> PluginManager:
        return fake_manager()


class TestFakeChannelContract(ContractSuite):
    platform = "fakechannel"

    @classmethod
    def plugin_manager(cls) -> PluginManager:
        return fake_manager()


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_each_planted_bug_is_caught(bug: Bug) -> None:
    outcomes = {o.check.id: o for o in run_kit(bug.manager(), bug.platform, {"seed": 4, "variants": 2},
                                               only=[bug.caught_by])}
    caught = outcomes[bug.caught_by]
    assert caught.status == "failed", f"{bug.name}: {bug.caught_by} {caught.status}\n{report(list(outcomes.values()))}"
    # the same checks pass on the good fake: the failure is the bug's
    good = {o.check.id: o for o in run_kit(fake_manager(), bug.platform, {"seed": 4, "variants": 2},
                                           only=[bug.caught_by])}
    assert good[bug.caught_by].status == "passed", good[bug.caught_by].message


def test_the_issues_eight_bugs_are_all_planted() -> None:
    assert len([b for b in BUGS if not b.already_caught]) >= 5
    assert len([b for b in BUGS if b.already_caught]) == 3
    assert {b.caught_by for b in BUGS} <= {c.id for c in all_checks()}


def test_the_core_suite_names_no_platform() -> None:
    from pathlib import Path

    import bridge.testing

    root = Path(bridge.testing.__file__).parent
    text = "\n".join(p.read_text() for p in root.rglob("*.py")).lower()
    for name in ("shopify", "woocommerce", "magento", "bigcommerce", "tiktok", "x-wc-", "x-shopify"):
        assert name not in text, f"the kit names {name}"


def test_counts_by_category() -> None:
    eco, channel = count_by_category("ecommerce"), count_by_category("channel")
    assert eco["catalog"] >= 6 and eco["errors"] >= 10 and eco["orders"] >= 4
    assert channel["errors"] >= 10 and channel["listings"] >= 1


def test_the_kit_runs_without_pytest() -> None:
    import subprocess
    import sys

    code = ("import sys; sys.modules['pytest'] = None; sys.modules['respx'] = None\n"
            "from bridge.testing.checks import all_checks, run_kit, report\n"
            "import bridge.testing.harness, bridge.testing.protocol\n"
            "print(len(all_checks()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 40
