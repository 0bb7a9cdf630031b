"""The core's connector contract suite, run against the TikTok Shop sandbox."""

from bridge.testing import ContractSuite


class TestContract(ContractSuite):
    platform = "tiktokshop"
    sandbox_options = {"seed": 12, "variants": 3}
    currency = "GBP"
