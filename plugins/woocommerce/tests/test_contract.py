"""The core's connector contract suite, run against the WooCommerce sandbox."""

from bridge.testing import ContractSuite


class TestContract(ContractSuite):
    platform = "woocommerce"
    sandbox_options = {"seed": 12, "variants": 3}
    currency = "GBP"
