"""A fake eCommerce platform and a fake channel, each a complete bridge plugin with an HTTP
sandbox, so the core (contract, scheduler, flows, test kit) is tested without a real platform."""
