"""The connector test kit: a standard contract suite every platform plugin runs in one line.

In your plugin's tests (``bridge-core`` installs the pytest plugin ``bridge.testing.pytest_plugin``
through the ``pytest11`` entry point, so nothing else is needed)::

    from bridge.testing import ContractSuite

    class TestContract(ContractSuite):
        platform = "myplatform"
        sandbox_options = {"seed": 12, "variants": 3}

The suite starts your plugin's sandbox (the ``sandbox`` hook) on a loopback port, connects to it
with ``sandbox.base_url_setting(url)``, ``sandbox.credentials()`` and ``sandbox.app_settings()``,
and checks, for the capabilities your platform declares only:

* the platform describes itself correctly (name, kind, settings, secrets flagged);
* connecting yields a valid StoreInfo, and bad credentials raise ``NeedsReconnect``;
* product listing streams page by page, resumes from a cursor and is incremental;
* inventory reads cover every variant; channel inventory updates are idempotent;
* order creation is idempotent; cancelling twice is a no-op; fulfilments carry tracking;
* tracking pushes are idempotent;
* webhooks with a bad signature are refused.

Override :meth:`ContractSuite.make_listing` when your channel needs more than the suite fills in,
and the classmethod :meth:`ContractSuite.plugin_manager` to register plugins by hand.
"""

from bridge.testing.suite import ContractSuite

__all__ = ["ContractSuite"]
