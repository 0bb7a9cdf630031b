"""The core's connector test kit, run against the Shopify sandbox."""

from bridge.testing import ContractSuite


class TestShopifyContract(ContractSuite):
    platform = "shopify"
    sandbox_options = {"seed": 30, "variants": 3, "restore_rate": 1000}
    currency = "GBP"
