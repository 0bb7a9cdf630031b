"""The connector test kit on the Tiny Shop sandbox: every check that applies to a
ecommerce platform, one test each. Its first run lists what is left to write."""

from bridge.testing import ContractSuite


class TestContract(ContractSuite):
    platform = "tinyshop"
    sandbox_options = {"seed": 0, "variants": 2}
