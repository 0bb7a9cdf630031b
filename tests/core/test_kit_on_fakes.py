"""The connector test kit, run on the fake pair (the core tested without a real platform)."""

from bridge.plugins import PluginManager
from bridge.testing import ContractSuite
from tests.conftest import fake_manager


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
