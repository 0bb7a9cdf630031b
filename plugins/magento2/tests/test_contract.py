"""The core's connector test kit, run against the Magento 2 sandbox."""

from bridge.testing import ContractSuite


class TestContract(ContractSuite):
    platform = "magento2"
    sandbox_options = {"seed": 12, "variants": 3}
    currency = "GBP"
    known_failures = {
        "orders/created_order_is_what_the_channel_charged":
            "POST /V1/orders makes no MSI reservation, so the salable stock bridge reads does not drop "
            "when it creates an order (magento2.md 8.2): create through the cart flow or append a reservation",
    }

