"""The connector test kit: the checks every platform plugin passes, run in one line.

In your plugin's tests (``bridge-core`` installs the pytest plugin ``bridge.testing.pytest_plugin``
through the ``pytest11`` entry point, so nothing else is needed)::

    from bridge.testing import ContractSuite

    class TestContract(ContractSuite):
        platform = "myplatform"
        sandbox_options = {"seed": 12, "variants": 3}

The suite starts your plugin's sandbox (the ``sandbox`` hook) on a loopback port and runs every
check of :mod:`bridge.testing.checks` that applies to your platform's kind, each as one test
(``test_kit[category/name]``). The checks read the sandbox's own state and inject faults through
it, as :mod:`bridge.testing.protocol` describes: a check whose sandbox method is missing skips
naming it; a hook or sandbox method that raises ``NotImplementedError`` fails as "not written
yet". Categories: describing, connecting, catalog, orders, fulfilment (eCommerce); listings,
inventory, orders, tracking (channel); errors (injected faults) and webhooks (both).

Without pytest: ``bridge.testing.checks.run_kit(pm, platform)`` returns the outcomes and
``report(outcomes)`` prints them, what is left to write first.

Override :meth:`ContractSuite.make_listing` when your channel needs more than the kit fills in,
and the classmethod :meth:`ContractSuite.plugin_manager` to register plugins by hand.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ContractSuite"]


def __getattr__(name: str) -> Any:
    # the suite needs pytest; the harness, the checks and the images do not (lazy import)
    if name == "ContractSuite":
        from bridge.testing.suite import ContractSuite

        return ContractSuite
    raise AttributeError(name)
