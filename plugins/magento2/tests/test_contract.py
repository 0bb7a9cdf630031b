"""The core's connector test kit, run against the Magento 2 sandbox."""

from bridge.testing import ContractSuite


class TestContract(ContractSuite):
    platform = "magento2"
    sandbox_options = {"seed": 12, "variants": 3}
    currency = "GBP"
