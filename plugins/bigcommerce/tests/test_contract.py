"""The core's connector contract suite, run against the BigCommerce sandbox."""

from bridge.testing import ContractSuite


class TestContract(ContractSuite):
    platform = "bigcommerce"
    sandbox_options = {"seed": 12, "variants": 3}
